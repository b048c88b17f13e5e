/// An entry's detail read back into its typed event: a member the event needs and the detail
/// lacks (or holds as the wrong kind of value) fails loudly, naming it.
struct DetailReader {
    let action: AuditAction
    let detail: [String: JSONValue]

    /// The failure for a member that is absent, of the wrong kind, or not a value its enum knows.
    func missing(_ key: String) -> NoticeRules.MissingFact { NoticeRules.MissingFact(action: action, key: key) }

    func int(_ key: String) throws(NoticeRules.MissingFact) -> Int {
        guard let value = detail[key]?.intValue else { throw missing(key) }
        return value
    }
    func text(_ key: String) throws(NoticeRules.MissingFact) -> String {
        guard let value = detail[key]?.stringValue else { throw missing(key) }
        return value
    }
    /// A member only some entries hold: absent is nil, present but not text is an error.
    func optionalText(_ key: String) throws(NoticeRules.MissingFact) -> String? {
        guard let value = detail[key], value != .null else { return nil }
        guard let text = value.stringValue else { throw missing(key) }
        return text
    }
    func bool(_ key: String) throws(NoticeRules.MissingFact) -> Bool {
        guard case .bool(let value)? = detail[key] else { throw missing(key) }
        return value
    }
    func named<T: RawRepresentable>(_ key: String, as type: T.Type = T.self) throws(NoticeRules.MissingFact) -> T
        where T.RawValue == String
    {
        guard let value = T(rawValue: try text(key)) else { throw missing(key) }
        return value
    }
    func texts(_ key: String) throws(NoticeRules.MissingFact) -> [String] {
        guard let values = detail[key]?.arrayValue else { throw missing(key) }
        let texts = values.compactMap(\.stringValue)
        guard texts.count == values.count else { throw missing(key) }
        return texts
    }
    func timestamp(_ key: String) throws(NoticeRules.MissingFact) -> Timestamp {
        guard let value = Timestamp(rfc3339: try text(key)) else { throw missing(key) }
        return value
    }
}

/// A customer-affecting change as the rules decided it. Each case's audit detail and notices are
/// derived from its value, and an entry read back from the chain decodes to the same value, so
/// the notice owed for an entry is the notice owed for the change (README "Development", typed
/// seams).
public enum DomainEvent: Sendable, Equatable {
    case accountActivated(AccountActivated)
    case accountDeclined(AccountDeclined)
    case reviewResolved(ReviewResolved)
    case limitAdjusted(LimitAdjusted)
    case accountTransitioned(AccountTransitioned)
    case termsAccepted(TermsAccepted)
    case limitOfferCreated(LimitOfferCreated)
    case delinquencyChanged(DelinquencyChange)
    case consentEnded(ConsentEnded)
    case hardship(HardshipEvent)
    case drawRefunded(DrawRefunded)
    case bureauDispute(BureauDisputeEvent)
    /// What else happens to an account, owing no notice (`AccountFact`).
    case fact(AccountFact)
    /// The service's own operation (`ServiceRecord`).
    case service(ServiceRecord)

    public var action: AuditAction {
        switch self {
        case .accountActivated: .accountActivated
        case .accountDeclined: .accountDeclined
        case .reviewResolved: .reviewResolved
        case .limitAdjusted: .limitAdjusted
        case .accountTransitioned(let event): event.action
        case .termsAccepted: .termsAccepted
        case .limitOfferCreated: .limitOfferCreated
        case .delinquencyChanged: .accountDelinquencyChanged
        case .consentEnded(let event): event.action
        case .hardship(let event): event.action
        case .drawRefunded: .drawRefunded
        case .bureauDispute(let event): event.action
        case .fact(let fact): fact.action
        case .service(let record): record.action
        }
    }

    public var auditDetail: [String: JSONValue] {
        switch self {
        case .accountActivated(let event): event.auditDetail
        case .accountDeclined(let event): event.auditDetail
        case .reviewResolved(let event): event.auditDetail
        case .limitAdjusted(let event): event.auditDetail
        case .accountTransitioned(let event): event.auditDetail
        case .termsAccepted(let event): event.auditDetail
        case .limitOfferCreated(let event): event.auditDetail
        case .delinquencyChanged(let change): [
            "from": .string(change.from.rawValue), "to": .string(change.to.rawValue),
            "days_past_due": .int(change.daysPastDue), "notice_due": .bool(change.noticeDue),
        ]
        case .consentEnded(let event): event.auditDetail
        case .hardship(let event): event.auditDetail
        case .drawRefunded(let event): event.auditDetail
        case .bureauDispute(let event): event.auditDetail
        case .fact(let fact): fact.auditDetail
        case .service(let record): record.auditDetail
        }
    }

    /// What the customer must be told of it (README "Events and notices").
    public func notices(now: Timestamp, settings: NoticeRules.Settings) -> [NoticeDraft] {
        let dayLater = now.adding(days: NoticeRules.defaultDays)
        switch self {
        case .accountActivated(let event):
            var values: [String: NoticeValue] = [
                "credit_limit": .amount(event.creditLimit), "plans": .plans(event.plans),
                "cooling_off_days": .number(settings.coolingOffDays),
                "cancel_by": .date(CivilDate(now.adding(days: settings.coolingOffDays - 1))),
            ]
            // Ability to repay (README "Ability to repay"): why the limit is what it is, and what
            // using all of it costs a month beside the income the customer declared.
            if let basis = event.limitBasis { values["limit_reason"] = .reasons([basis.binding.rawValue]) }
            if let repayment = event.fullUseRepayment { values["full_use_repayment"] = .amount(repayment) }
            if let income = event.declaredIncome { values["declared_income"] = .amount(income) }
            // Without a basis (a line opened before the rule, its entry read back) the confirmation
            // says what it always said.
            let template = event.limitBasis == nil || event.fullUseRepayment == nil ? nil
                : event.declaredIncome == nil ? "activation_confirmation_starter" : "activation_confirmation_assessed"
            return [NoticeDraft(kind: .activationConfirmation, template: template, values: values, dueBy: dayLater)]
        case .accountDeclined(let event):
            return [NoticeDraft(kind: .adverseAction, values: [
                "reasons": .reasons(Array(event.reasonCodes.prefix(4))),
                "reapply_on": .date(CivilDate(now.adding(days: settings.declineCoolOffDays))),
            ], dueBy: dayLater)]
        case .reviewResolved(let event):
            return event.notice(dueBy: dayLater).map { [$0] } ?? []
        case .limitAdjusted(let event):
            return event.notice(now: now).map { [$0] } ?? []
        case .accountTransitioned(let event):
            return event.notice(dueBy: dayLater).map { [$0] } ?? []
        case .termsAccepted(let event):
            // Every change of terms is told; a dearer one (which took the customer's
            // confirmation) says so.
            return [NoticeDraft(kind: .termsChange, template: event.noDearer == true ? "terms_change" : "terms_change_dearer",
                                values: ["interest_free_days": .number(event.interestFreeDays)], dueBy: dayLater)]
        case .limitOfferCreated(let event):
            return [NoticeDraft(kind: .limitOffer, values: [
                "current_limit": .amount(event.currentLimit), "offered_limit": .amount(event.offeredLimit),
                "expires_on": .date(CivilDate(event.expiresAt)),
            ], dueBy: dayLater)]
        case .delinquencyChanged(let change):
            guard change.noticeDue else { return [] }
            let dueBy = now.adding(days: NoticeRules.preReportDays)
            return [NoticeDraft(kind: .preReportWarning, values: [
                "days_past_due": .number(change.daysPastDue), "report_after": .date(CivilDate(dueBy)),
            ], dueBy: dueBy)]
        case .hardship(let event):
            return [event.notice(dueBy: dayLater)]
        case .drawRefunded(let event):
            return [event.notice(dueBy: dayLater)]
        case .bureauDispute(let event):
            return [event.notice(dueBy: dayLater)]
        case .consentEnded, .fact, .service:
            // The customer's own act, a date they were told of ahead (`consentExpiring`), or
            // what the notices themselves record.
            return []
        }
    }

    /// The event an entry of `action` records, read back from its detail. Every action has one;
    /// an entry that lacks a member its event needs fails, naming it.
    public static func decode(_ action: AuditAction, auditDetail detail: [String: JSONValue]) throws(NoticeRules.MissingFact)
        -> DomainEvent
    {
        let read = DetailReader(action: action, detail: detail)
        switch action {
        case .accountActivated: return .accountActivated(try AccountActivated(read))
        case .accountDeclined: return .accountDeclined(try AccountDeclined(read))
        case .reviewResolved: return .reviewResolved(try ReviewResolved(read))
        case .limitAdjusted: return .limitAdjusted(try LimitAdjusted(auditDetail: detail))
        case .accountFrozen, .accountUnfrozen, .accountClosed: return .accountTransitioned(try AccountTransitioned(read))
        case .termsAccepted: return .termsAccepted(try TermsAccepted(read))
        case .limitOfferCreated: return .limitOfferCreated(try LimitOfferCreated(read))
        case .accountDelinquencyChanged:
            let change = DelinquencyChange(from: try read.named("from"), to: try read.named("to"),
                                           daysPastDue: try read.int("days_past_due"))
            // The entry's own notice_due is what was decided when it was written.
            guard try read.bool("notice_due") == change.noticeDue else { throw read.missing("notice_due") }
            return .delinquencyChanged(change)
        case .consentWithdrawn, .consentExpired: return .consentEnded(try ConsentEnded(read))
        case .hardshipRequested, .hardshipResolved, .hardshipEnded: return .hardship(try HardshipEvent(read))
        case .drawRefunded: return .drawRefunded(try DrawRefunded(read))
        case .bureauDisputeOpened, .bureauDisputeResolved: return .bureauDispute(try BureauDisputeEvent(read))
        default:
            if let fact = try AccountFact.decode(read) { return .fact(fact) }
            if let record = try ServiceRecord.decode(read) { return .service(record) }
            // Only an action added to AuditAction without its event (a test names it).
            throw read.missing("action")
        }
    }
}

