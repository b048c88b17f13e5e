/// The rest of what happens to an account, as typed values: changes the customer is not sent a
/// notice for (they asked for them, or were told another way), each with the audit detail it
/// records and read back from it in one place (README "Development", typed domain events). No
/// free text the caller chose travels in them: a draw's merchant reference, a consent's evidence,
/// a contest's statement stay outside the chain.
public enum AccountFact: Sendable, Equatable {
    case accountCreated(status: AccountStatus)
    /// An activation held for a person: the score's tier needs one, or its model's review lapsed
    /// (`reviewReason`).
    case pendingReview(from: AccountStatus, tier: Tier, path: ApplicationPath, reviewID: String, reviewReason: String?)
    /// A review opened: an activation's, or the customer's contest of a decision.
    case reviewRequested(kind: Review.Kind, decisionID: String, hasStatement: Bool?)
    case consentGranted(purpose: ConsentPurpose, noticeVersion: String, noticeSHA256: String, channel: ConsentChannel,
                        method: ConsentMethod, expiresAt: Timestamp)
    /// A score: never its inputs, which must be erasable (PIPL Art. 47), only their hash.
    case decisionScored(modelVersion: String, score: Int, tier: Tier, outcome: Decision.Outcome, recommendedLimit: Int,
                        reasonCodes: [String], inputsSHA256: String, portfolioReviewID: String?)
    case drawCreated(amount: Int, planMonths: Int?, fees: Int, instalments: Int, balance: Int, availableCredit: Int)
    case repaymentReceived(amount: Int, principal: Int, fees: Int, instalments: Int, balance: Int, feesOutstanding: Int)
    /// The account's credit balance paying instalments as they are drawn (README "Refunds and the
    /// credit balance"); a refund's own entry says what its balance paid.
    case creditBalanceApplied(amount: Int, instalments: Int, balance: Int, feesOutstanding: Int, creditBalance: Int)
    /// Negative information reported to the credit bureau, and a report corrected (README "Credit
    /// reporting"): the report's id, date and figures, never the customer's reference.
    case bureauReported(reportID: String, reportDate: String, statusCode: String, daysPastDue: Int, amountOverdue: Int)
    case bureauCorrected(reportID: String, reportDate: String, corrects: String, reason: String)
    /// The customer's withdrawal within the cooling-off period, with their confirmation's evidence.
    case accountCancelled(from: AccountStatus, to: AccountStatus, channel: ConsentChannel, feesWaived: Int, balance: Int,
                          confirmation: [String: JSONValue])
    case chargeOffApproved(reasonCode: ChargeOff.ReasonCode, daysPastDue: Int)
    case accountChargedOff(from: AccountStatus, reasonCode: ChargeOff.ReasonCode, daysPastDue: Int, balance: Int,
                           feesOutstanding: Int)
    /// A notice written: its hash, never its text.
    case noticeCreated(kind: NoticeKind, locale: NoticeLocale, templateVersion: String, contentSHA256: String, dueBy: Timestamp)
    case noticeDelivered(kind: NoticeKind, templateVersion: String, contentSHA256: String, channel: String,
                         deliveredAt: Timestamp)
    case limitOfferAccepted(adjustmentID: String, newLimit: Int, confirmation: [String: JSONValue])
    case preferencesUpdated(limitIncreaseOptOut: Bool, locale: NoticeLocale, reminderChannels: [String]? = nil)
    /// The customer said no on their own page: a record that grants nothing.
    case consentDeclined(purpose: ConsentPurpose, noticeVersion: String, noticeSHA256: String)
    /// A link to the customer's own pages handed to a calling service (the link is the entry's
    /// subject; its token is never stored).
    case customerLinkIssued(purpose: CustomerLinkPurpose, consentPurpose: ConsentPurpose?, expiresAt: Timestamp)
    /// An affordability assessment recorded (README "Ability to repay"): its source and term,
    /// never the amounts, which are erasable.
    case affordabilityAssessed(source: AffordabilityAssessment.Source, validUntil: Timestamp, hasEvidenceRef: Bool,
                               confirmation: [String: JSONValue])
    /// A link's first action: what it did, on which page, to which record.
    case customerLinkUsed(purpose: CustomerLinkPurpose, outcome: String, recordID: String, locale: NoticeLocale,
                          pageSHA256: String)

    public var action: AuditAction {
        switch self {
        case .accountCreated: .accountCreated
        case .pendingReview: .accountPendingReview
        case .reviewRequested: .reviewRequested
        case .consentGranted: .consentGranted
        case .decisionScored: .decisionScored
        case .drawCreated: .drawCreated
        case .repaymentReceived: .repaymentReceived
        case .creditBalanceApplied: .creditBalanceApplied
        case .bureauReported: .bureauReported
        case .bureauCorrected: .bureauCorrected
        case .accountCancelled: .accountCancelled
        case .chargeOffApproved: .chargeOffApproved
        case .accountChargedOff: .accountChargedOff
        case .noticeCreated: .noticeCreated
        case .noticeDelivered: .noticeDelivered
        case .limitOfferAccepted: .limitOfferAccepted
        case .preferencesUpdated: .preferencesUpdated
        case .consentDeclined: .consentDeclined
        case .customerLinkIssued: .customerLinkIssued
        case .customerLinkUsed: .customerLinkUsed
        case .affordabilityAssessed: .affordabilityAssessed
        }
    }

    public var auditDetail: [String: JSONValue] {
        switch self {
        case .accountCreated(let status):
            return ["status": .string(status.rawValue)]
        case .pendingReview(let from, let tier, let path, let reviewID, let reviewReason):
            var detail = path.auditDetail.merging(["from": .string(from.rawValue), "tier": .string(tier.rawValue),
                                                   "review_id": .string(reviewID)]) { $1 }
            if let reviewReason { detail["review_reason"] = .string(reviewReason) }
            return detail
        case .reviewRequested(let kind, let decisionID, let hasStatement):
            var detail: [String: JSONValue] = ["kind": .string(kind.rawValue), "decision_id": .string(decisionID)]
            if let hasStatement { detail["has_statement"] = .bool(hasStatement) }
            return detail
        case .consentGranted(let purpose, let noticeVersion, let noticeSHA256, let channel, let method, let expiresAt):
            return ["purpose": .string(purpose.rawValue), "notice_version": .string(noticeVersion),
                    "notice_sha256": .string(noticeSHA256), "channel": .string(channel.rawValue),
                    "method": .string(method.rawValue), "expires_at": .string(expiresAt.rfc3339)]
        case .decisionScored(let modelVersion, let score, let tier, let outcome, let recommendedLimit, let reasonCodes,
                             let inputsSHA256, let portfolioReviewID):
            var detail: [String: JSONValue] = [
                "model_version": .string(modelVersion), "score": .int(score), "tier": .string(tier.rawValue),
                "outcome": .string(outcome.rawValue), "recommended_limit": .int(recommendedLimit),
                "reason_codes": .array(reasonCodes.map(JSONValue.string)), "inputs_sha256": .string(inputsSHA256),
            ]
            if let portfolioReviewID { detail["portfolio_review_id"] = .string(portfolioReviewID) }
            return detail
        case .drawCreated(let amount, let planMonths, let fees, let instalments, let balance, let availableCredit):
            return ["amount": .int(amount), "plan_months": planMonths.map(JSONValue.int) ?? .null, "fees": .int(fees),
                    "instalments": .int(instalments), "balance": .int(balance), "available_credit": .int(availableCredit)]
        case .repaymentReceived(let amount, let principal, let fees, let instalments, let balance, let feesOutstanding):
            return ["amount": .int(amount), "principal": .int(principal), "fees": .int(fees),
                    "instalments": .int(instalments), "balance": .int(balance), "fees_outstanding": .int(feesOutstanding)]
        case .creditBalanceApplied(let amount, let instalments, let balance, let feesOutstanding, let creditBalance):
            return ["amount": .int(amount), "instalments": .int(instalments), "balance": .int(balance),
                    "fees_outstanding": .int(feesOutstanding), "credit_balance": .int(creditBalance)]
        case .bureauReported(let reportID, let reportDate, let statusCode, let daysPastDue, let amountOverdue):
            return ["report_id": .string(reportID), "report_date": .string(reportDate), "status_code": .string(statusCode),
                    "days_past_due": .int(daysPastDue), "amount_overdue": .int(amountOverdue)]
        case .bureauCorrected(let reportID, let reportDate, let corrects, let reason):
            return ["report_id": .string(reportID), "report_date": .string(reportDate), "corrects": .string(corrects),
                    "correction_reason": .string(reason)]
        case .accountCancelled(let from, let to, let channel, let feesWaived, let balance, let confirmation):
            return ["from": .string(from.rawValue), "to": .string(to.rawValue), "channel": .string(channel.rawValue),
                    "fees_waived": .int(feesWaived), "balance": .int(balance)].merging(confirmation) { $1 }
        case .chargeOffApproved(let reasonCode, let daysPastDue):
            return ["reason_code": .string(reasonCode.rawValue), "days_past_due": .int(daysPastDue)]
        case .accountChargedOff(let from, let reasonCode, let daysPastDue, let balance, let feesOutstanding):
            return ["from": .string(from.rawValue), "reason_code": .string(reasonCode.rawValue),
                    "days_past_due": .int(daysPastDue), "balance": .int(balance), "fees_outstanding": .int(feesOutstanding)]
        case .noticeCreated(let kind, let locale, let templateVersion, let contentSHA256, let dueBy):
            return ["kind": .string(kind.rawValue), "locale": .string(locale.rawValue),
                    "template_version": .string(templateVersion), "content_sha256": .string(contentSHA256),
                    "due_by": .string(dueBy.rfc3339)]
        case .noticeDelivered(let kind, let templateVersion, let contentSHA256, let channel, let deliveredAt):
            return ["kind": .string(kind.rawValue), "template_version": .string(templateVersion),
                    "content_sha256": .string(contentSHA256), "channel": .string(channel),
                    "delivered_at": .string(deliveredAt.rfc3339)]
        case .limitOfferAccepted(let adjustmentID, let newLimit, let confirmation):
            return ["adjustment_id": .string(adjustmentID), "new_limit": .int(newLimit)].merging(confirmation) { $1 }
        case .preferencesUpdated(let limitIncreaseOptOut, let locale, let reminderChannels):
            var detail: [String: JSONValue] = ["limit_increase_opt_out": .bool(limitIncreaseOptOut), "locale": .string(locale.rawValue)]
            if let reminderChannels { detail["reminder_channels"] = .array(reminderChannels.map(JSONValue.string)) }
            return detail
        case .consentDeclined(let purpose, let noticeVersion, let noticeSHA256):
            return ["purpose": .string(purpose.rawValue), "notice_version": .string(noticeVersion),
                    "notice_sha256": .string(noticeSHA256), "channel": .string(ConsentChannel.hosted.rawValue)]
        case .customerLinkIssued(let purpose, let consentPurpose, let expiresAt):
            var detail: [String: JSONValue] = ["purpose": .string(purpose.rawValue), "expires_at": .string(expiresAt.rfc3339)]
            if let consentPurpose { detail["consent_purpose"] = .string(consentPurpose.rawValue) }
            return detail
        case .customerLinkUsed(let purpose, let outcome, let recordID, let locale, let pageSHA256):
            return ["purpose": .string(purpose.rawValue), "outcome": .string(outcome), "record_id": .string(recordID),
                    "locale": .string(locale.rawValue), "page_sha256": .string(pageSHA256)]
        case .affordabilityAssessed(let source, let validUntil, let hasEvidenceRef, let confirmation):
            return ["source": .string(source.rawValue), "valid_until": .string(validUntil.rfc3339),
                    "has_evidence_ref": .bool(hasEvidenceRef)].merging(confirmation) { $1 }
        }
    }

    /// The fact an entry of `action` records, read back from its detail; nil for an action that
    /// is not one of these.
    static func decode(_ read: DetailReader) throws(NoticeRules.MissingFact) -> AccountFact? {
        func optional<T>(_ key: String, _ value: () throws(NoticeRules.MissingFact) -> T) throws(NoticeRules.MissingFact) -> T? {
            read.detail[key] == nil || read.detail[key] == .null ? nil : try value()
        }
        let confirmation = read.detail.filter { $0.key.hasPrefix("confirmation_") }
        switch read.action {
        case .accountCreated:
            return .accountCreated(status: try read.named("status"))
        case .accountPendingReview:
            return .pendingReview(from: try read.named("from"), tier: try read.named("tier"), path: try ApplicationPath(read),
                                  reviewID: try read.text("review_id"), reviewReason: try read.optionalText("review_reason"))
        case .reviewRequested:
            return .reviewRequested(kind: try read.named("kind"), decisionID: try read.text("decision_id"),
                                    hasStatement: try optional("has_statement") { () throws(NoticeRules.MissingFact) in
                                        try read.bool("has_statement")
                                    })
        case .consentGranted:
            return .consentGranted(purpose: try read.named("purpose"), noticeVersion: try read.text("notice_version"),
                                   noticeSHA256: try read.text("notice_sha256"), channel: try read.named("channel"),
                                   method: try read.named("method"), expiresAt: try read.timestamp("expires_at"))
        case .decisionScored:
            return .decisionScored(modelVersion: try read.text("model_version"), score: try read.int("score"),
                                   tier: try read.named("tier"), outcome: try read.named("outcome"),
                                   recommendedLimit: try read.int("recommended_limit"),
                                   reasonCodes: try read.texts("reason_codes"), inputsSHA256: try read.text("inputs_sha256"),
                                   portfolioReviewID: try read.optionalText("portfolio_review_id"))
        case .drawCreated:
            return .drawCreated(amount: try read.int("amount"),
                                planMonths: try optional("plan_months") { () throws(NoticeRules.MissingFact) in
                                    try read.int("plan_months")
                                },
                                fees: try read.int("fees"), instalments: try read.int("instalments"),
                                balance: try read.int("balance"), availableCredit: try read.int("available_credit"))
        case .repaymentReceived:
            return .repaymentReceived(amount: try read.int("amount"), principal: try read.int("principal"),
                                      fees: try read.int("fees"), instalments: try read.int("instalments"),
                                      balance: try read.int("balance"), feesOutstanding: try read.int("fees_outstanding"))
        case .creditBalanceApplied:
            return .creditBalanceApplied(amount: try read.int("amount"), instalments: try read.int("instalments"),
                                         balance: try read.int("balance"), feesOutstanding: try read.int("fees_outstanding"),
                                         creditBalance: try read.int("credit_balance"))
        case .bureauReported:
            return .bureauReported(reportID: try read.text("report_id"), reportDate: try read.text("report_date"),
                                   statusCode: try read.text("status_code"), daysPastDue: try read.int("days_past_due"),
                                   amountOverdue: try read.int("amount_overdue"))
        case .bureauCorrected:
            return .bureauCorrected(reportID: try read.text("report_id"), reportDate: try read.text("report_date"),
                                    corrects: try read.text("corrects"), reason: try read.text("correction_reason"))
        case .accountCancelled:
            return .accountCancelled(from: try read.named("from"), to: try read.named("to"), channel: try read.named("channel"),
                                     feesWaived: try read.int("fees_waived"), balance: try read.int("balance"),
                                     confirmation: confirmation)
        case .chargeOffApproved:
            return .chargeOffApproved(reasonCode: try read.named("reason_code"), daysPastDue: try read.int("days_past_due"))
        case .accountChargedOff:
            return .accountChargedOff(from: try read.named("from"), reasonCode: try read.named("reason_code"),
                                      daysPastDue: try read.int("days_past_due"), balance: try read.int("balance"),
                                      feesOutstanding: try read.int("fees_outstanding"))
        case .noticeCreated:
            return .noticeCreated(kind: try read.named("kind"), locale: try read.named("locale"),
                                  templateVersion: try read.text("template_version"),
                                  contentSHA256: try read.text("content_sha256"), dueBy: try read.timestamp("due_by"))
        case .noticeDelivered:
            return .noticeDelivered(kind: try read.named("kind"), templateVersion: try read.text("template_version"),
                                    contentSHA256: try read.text("content_sha256"), channel: try read.text("channel"),
                                    deliveredAt: try read.timestamp("delivered_at"))
        case .limitOfferAccepted:
            return .limitOfferAccepted(adjustmentID: try read.text("adjustment_id"), newLimit: try read.int("new_limit"),
                                       confirmation: confirmation)
        case .preferencesUpdated:
            return .preferencesUpdated(limitIncreaseOptOut: try read.bool("limit_increase_opt_out"),
                                       locale: try read.named("locale"),
                                       reminderChannels: read.detail["reminder_channels"] == nil ? nil : try read.texts("reminder_channels"))
        case .affordabilityAssessed:
            return .affordabilityAssessed(source: try read.named("source"), validUntil: try read.timestamp("valid_until"),
                                          hasEvidenceRef: try read.bool("has_evidence_ref"), confirmation: confirmation)
        default:
            return try decodeCustomerPages(read)
        }
    }

    /// The facts of the customer's own pages (README "The customer's own pages").
    static func decodeCustomerPages(_ read: DetailReader) throws(NoticeRules.MissingFact) -> AccountFact? {
        switch read.action {
        case .consentDeclined:
            return .consentDeclined(purpose: try read.named("purpose"), noticeVersion: try read.text("notice_version"),
                                    noticeSHA256: try read.text("notice_sha256"))
        case .customerLinkIssued:
            let consentPurpose: ConsentPurpose? = read.detail["consent_purpose"] == nil ? nil : try read.named("consent_purpose")
            return .customerLinkIssued(purpose: try read.named("purpose"), consentPurpose: consentPurpose,
                                       expiresAt: try read.timestamp("expires_at"))
        case .customerLinkUsed:
            return .customerLinkUsed(purpose: try read.named("purpose"), outcome: try read.text("outcome"),
                                     recordID: try read.text("record_id"), locale: try read.named("locale"),
                                     pageSHA256: try read.text("page_sha256"))
        default:
            return nil
        }
    }
}
