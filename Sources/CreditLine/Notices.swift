import Foundation

/// What the customer must be told, and by when (README "Events and notices").
public enum NoticeKind: String, Sendable, CaseIterable, Codable {
    case activationConfirmation = "activation_confirmation"
    case adverseAction = "adverse_action"
    case reviewOutcome = "review_outcome"
    case limitChange = "limit_change"
    case lineFrozen = "line_frozen"
    case lineUnfrozen = "line_unfrozen"
    case consentExpiring = "consent_expiring"
    case preReportWarning = "pre_report_warning"
    /// A periodic review found the customer eligible for more credit: an offer, never applied.
    case limitOffer = "limit_offer"
    /// The line took another tier's terms, on the customer's acceptance.
    case termsChange = "terms_change"
    /// A hardship plan's every step (README "Hardship plans").
    case hardshipPlan = "hardship_plan"
    /// A returned purchase refunded (README "Refunds and the credit balance").
    case refund
    /// An instalment past due, on the reminders' schedule (README "Payment reminders").
    case paymentReminder = "payment_reminder"
    /// A dispute of credit reporting received, and its answer (README "Credit reporting").
    case bureauDispute = "bureau_dispute"
}

/// The languages notices are written in; an account has one (`zh-CN` unless it chose another).
public enum NoticeLocale: String, Sendable, CaseIterable, Codable {
    case zhCN = "zh-CN"
    case en

    /// The language of a customer who named none when the account was made (README "Accounts").
    public static let customerDefault = NoticeLocale.zhCN

    /// `text` as a language: nil when absent, 422 naming `field` when it is neither.
    public static func parse(_ text: String?, field: String) throws(DomainError) -> NoticeLocale? {
        guard let text else { return nil }
        guard let locale = NoticeLocale(rawValue: text) else { throw .invalidField(field, "\(field) must be zh-CN or en.") }
        return locale
    }
}

/// A notice's state: delivered once the calling app reports it showed or sent it; overdue when
/// its deadline passed first.
public enum NoticeStatus: String, Sendable, CaseIterable {
    case pending, delivered, overdue

    public static func of(deliveredAt: Timestamp?, dueBy: Timestamp, now: Timestamp) -> NoticeStatus {
        if deliveredAt != nil { return .delivered }
        return now > dueBy ? .overdue : .pending
    }
}

/// A value a template may show, formatted for the locale at rendering.
public enum NoticeValue: Sendable, Equatable {
    /// Whole fen, shown as yuan.
    case amount(Int)
    case date(CivilDate)
    case number(Int)
    /// Reason codes, shown as their descriptions in the locale, one a line.
    case reasons([String])
    /// Instalment plans, one a line: each with its monthly fee and its annual rate beside it.
    case plans([Terms.Plan])
}

/// A notice decided but not yet written in words: which template, with which values, due when.
public struct NoticeDraft: Sendable, Equatable {
    public var kind: NoticeKind
    /// The template's key: the kind, or the kind and its variant (`limit_change_decrease`).
    public var template: String
    public var values: [String: NoticeValue]
    public var dueBy: Timestamp

    public init(kind: NoticeKind, template: String? = nil, values: [String: NoticeValue] = [:], dueBy: Timestamp) {
        self.kind = kind
        self.template = template ?? kind.rawValue
        self.values = values
        self.dueBy = dueBy
    }
}

/// Which changes the customer must be told of, decided from the audit entry that records the
/// change: nothing changes for a customer without a notice.
public enum NoticeRules {
    /// The policy values notices quote.
    public struct Settings: Sendable, Equatable {
        public var coolingOffDays: Int
        public var declineCoolOffDays: Int

        public init(coolingOffDays: Int, declineCoolOffDays: Int) {
            (self.coolingOffDays, self.declineCoolOffDays) = (coolingOffDays, declineCoolOffDays)
        }
    }

    /// One day for what happened to the line; seven for the warning before negative credit
    /// information may be reported (Credit Reporting Industry Regulation Art. 15).
    public static let defaultDays = 1
    public static let preReportDays = 7
    /// A consent's end is announced this many days ahead.
    public static let consentExpiringDays = 30

    /// An audit entry that lacks a fact its notice must state: the notice is not written with a
    /// made-up value, and the write that recorded the entry fails.
    public struct MissingFact: Error, Sendable, Equatable, CustomStringConvertible {
        public var action: AuditAction
        public var key: String
        public var description: String { "\(action.rawValue) entry without a readable \(key) for its notice" }
    }

    /// The notices an entry makes due: its typed event's (`DomainEvent.notices`), read back from
    /// the detail the entry records, so what the customer is told is what the chain says.
    public static func drafts(for action: AuditAction, detail: [String: JSONValue], now: Timestamp,
                              settings: Settings) throws(MissingFact) -> [NoticeDraft]
    {
        try DomainEvent.decode(action, auditDetail: detail).notices(now: now, settings: settings)
    }

    /// The notice that a consent will end, due before it does.
    public static func consentExpiring(purpose: ConsentPurpose, expiresAt: Timestamp) -> NoticeDraft {
        NoticeDraft(kind: .consentExpiring, template: "consent_expiring_\(purpose.rawValue)",
                    values: ["expires_on": .date(CivilDate(expiresAt))], dueBy: expiresAt)
    }
}

/// The texts of notices in one locale, from `config/notices/<locale>.json`: a template per kind
/// (and variant) with `{placeholders}`, and the reasons' descriptions. A changed text is a new
/// `version`.
public struct NoticeTemplates: Sendable, Equatable {
    public let locale: NoticeLocale
    public let version: String
    public let templates: [String: String]
    public let reasons: [String: String]

    struct File: Decodable {
        var locale: String
        var version: String
        var templates: [String: String]
        var reasons: [String: String]
    }

    /// Every template a draft can name, with the values it may show.
    public static let placeholders: [String: Set<String>] = [
        "activation_confirmation": ["credit_limit", "plans", "cooling_off_days", "cancel_by"],
        // Ability to repay (README "Ability to repay"): the repayment of the whole limit beside the
        // declared income, and why the limit is what it is; at the starter limit, no income yet.
        "activation_confirmation_assessed": ["credit_limit", "plans", "cooling_off_days", "cancel_by", "limit_reason",
                                             "full_use_repayment", "declared_income"],
        "activation_confirmation_starter": ["credit_limit", "plans", "cooling_off_days", "cancel_by", "limit_reason",
                                            "full_use_repayment"],
        "adverse_action": ["reasons", "reapply_on"],
        "review_outcome_approved": ["credit_limit"],
        "review_outcome_declined": [],
        "review_outcome_upheld": [],
        "review_outcome_rejected": [],
        "limit_change_increase": ["old_limit", "new_limit"],
        "limit_change_decrease": ["old_limit", "new_limit"],
        "limit_change_decrease_review": ["old_limit", "new_limit", "reasons"],
        "limit_change_increase_offer": ["old_limit", "new_limit"],
        "line_frozen_review": ["reasons"],
        "line_frozen_consent_expired": [],
        "limit_offer": ["current_limit", "offered_limit", "expires_on"],
        "terms_change": ["interest_free_days"],
        "terms_change_dearer": ["interest_free_days"],
        "line_frozen": [],
        "line_unfrozen": [],
        "consent_expiring_credit_assessment": ["expires_on"],
        "consent_expiring_credit_line": ["expires_on"],
        "pre_report_warning": ["days_past_due", "report_after"],
        "hardship_plan_requested": ["months"],
        "hardship_plan_approved_payment_holiday": ["months"],
        "hardship_plan_approved_restructure": ["months"],
        "hardship_plan_declined": ["months"],
        "hardship_plan_ended_broken": ["months"],
        "hardship_plan_ended_completed": ["months"],
        "refund": ["amount", "owed", "credit_balance"],
        "refund_credit_balance": ["amount", "owed", "credit_balance"],
        "payment_reminder": ["days_past_due", "overdue"],
        "bureau_dispute_opened": ["answer_by"],
        "bureau_dispute_upheld": [],
        "bureau_dispute_rejected": [],
    ]

    /// Parses and checks a file: every template present, no placeholder a template cannot be
    /// given, and a description for every reason code the scorecard can give.
    public init(json: Data, reasonCodes: [String]) throws(ScorecardError) {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: json)
        } catch {
            throw ScorecardError("notices: not a valid template file: \(error)")
        }
        guard let locale = NoticeLocale(rawValue: file.locale) else {
            throw ScorecardError("notices: locale \(file.locale) is not one of zh-CN, en")
        }
        for (key, allowed) in Self.placeholders.sorted(by: { $0.key < $1.key }) {
            guard let text = file.templates[key], !text.isEmpty else {
                throw ScorecardError("notices \(file.locale): template \(key) is missing")
            }
            if let stray = Self.names(in: text).subtracting(allowed).sorted().first {
                throw ScorecardError("notices \(file.locale): template \(key) names {\(stray)}, which it is never given")
            }
        }
        if let extra = Set(file.templates.keys).subtracting(Self.placeholders.keys).sorted().first {
            throw ScorecardError("notices \(file.locale): \(extra) is not a template")
        }
        if let missing = reasonCodes.sorted().first(where: { file.reasons[$0] == nil }) {
            throw ScorecardError("notices \(file.locale): no description for reason \(missing)")
        }
        self.locale = locale
        self.version = file.version
        self.templates = file.templates
        self.reasons = file.reasons
    }

    static func names(in text: String) -> Set<String> {
        var names = Set<String>()
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            names.insert(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    /// The draft in words. A value the template does not name is left out; a name the draft
    /// does not give stays as written (the loader refuses templates that could do that).
    public func render(_ draft: NoticeDraft) -> String {
        var text = templates[draft.template] ?? templates[draft.kind.rawValue] ?? draft.kind.rawValue
        for (name, value) in draft.values {
            text = text.replacingOccurrences(of: "{\(name)}", with: format(value))
        }
        return text
    }

    func format(_ value: NoticeValue) -> String {
        switch value {
        case .amount(let fen):
            return Self.amount(fen, locale: locale)
        case .date(let date):
            return Self.date(date, locale: locale)
        case .number(let number):
            return String(number)
        case .reasons(let codes):
            return codes.map { "- " + (reasons[$0] ?? $0) }.joined(separator: "\n")
        case .plans(let plans):
            guard !plans.isEmpty else { return locale == .zhCN ? "- 无分期" : "- no instalment plans" }
            return plans.map { plan in
                let (fee, apr) = (AnnualRate.percent(plan.monthlyFeeBps), AnnualRate.percent(plan.aprBps))
                return locale == .zhCN ? "- \(plan.months) 期:月费率 \(fee),年化利率 \(apr)"
                    : "- \(plan.months) months: \(fee) a month, \(apr) a year"
            }.joined(separator: "\n")
        }
    }


    /// Whole fen as the customer reads them: `1,000.00 元`, `CNY 1,000.00`.
    public static func amount(_ fen: Int, locale: NoticeLocale) -> String {
        let yuan = (fen < 0 ? "-" : "") + grouped(abs(fen) / 100) + "." + zeroPadded(abs(fen) % 100, 2)
        return locale == .zhCN ? "\(yuan) 元" : "CNY \(yuan)"
    }

    /// `2026年12月6日`, `2026-12-06`.
    public static func date(_ date: CivilDate, locale: NoticeLocale) -> String {
        locale == .zhCN ? "\(date.year)年\(date.month)月\(date.day)日" : date.description
    }

    static func grouped(_ value: Int) -> String {
        let digits = Array(String(value))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return out
    }
}

/// The calling app's report that a notice was shown or sent.
public enum NoticeDelivery {
    public static let channels = ["app", "sms", "email", "letter", "phone", "branch"]
    /// A report may be this far ahead of the service's clock (clocks drift), no further.
    public static let maxClockSkewSeconds: Int64 = 300

    /// The notice must exist and not yet be delivered (409 `notice-already-delivered`: the first
    /// report stands); the reported moment must lie between the notice's writing and now.
    /// `allowed`: the channels a reminder may go by (the customer's choice when it was written);
    /// nil for any.
    public static func check(createdAt: Timestamp?, deliveredAt: Timestamp?, reported: Timestamp,
                             now: Timestamp, channel: String? = nil, allowed: [String]? = nil) throws(DomainError)
    {
        let createdAt = try Existence.require(createdAt, "notice")
        guard deliveredAt == nil else {
            throw DomainError(.conflict, code: .noticeAlreadyDelivered, "This notice was already reported delivered.")
        }
        if let allowed, let channel, !allowed.contains(channel) {
            throw DomainError.invalidField("channel", "The customer allows this notice only by \(allowed.joined(separator: ", ")).")
        }
        guard reported >= createdAt else {
            throw DomainError.invalidField("delivered_at", "delivered_at is before the notice was written.")
        }
        guard reported <= now.adding(seconds: maxClockSkewSeconds) else {
            throw DomainError.invalidField("delivered_at", "delivered_at is in the future.")
        }
    }
}
