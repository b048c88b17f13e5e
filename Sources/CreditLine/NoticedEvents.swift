// The typed events whose notices or checks read them back (README "Development", typed domain
// events); `DomainEvent` wraps them.

/// A limit that changed, as the rules decided it: the audit entry's detail and the customer's
/// notice are each derived from this value here, and nowhere else (README "Development", typed
/// seams); the pushed event's data is the detail's (`AuditAction.eventData`). A notice for an
/// entry read back from the chain goes through `init(auditDetail:)`, so the two paths cannot
/// disagree.
public struct LimitAdjusted: Sendable, Equatable {
    public enum Cause: Sendable, Equatable {
        /// A request: the customer's own, a calling service's or an operator's, with or without
        /// a note beside its reason code.
        case request(hasNote: Bool)
        /// A periodic review lowered the limit on a decision, for its reasons.
        case periodicReview(reviewID: String, decisionID: String, reasonCodes: [String])
        /// The customer took an offer.
        case limitOffer(offerID: String)
    }

    public var oldLimit: Int
    public var newLimit: Int
    public var direction: LimitPolicy.Direction
    public var initiatedBy: LimitPolicy.Initiator
    public var customerAccepted: Bool
    public var reasonCode: String
    public var cause: Cause
    /// The customer's confirmation as its audit detail records it (the hash of what they saw),
    /// when one was given.
    public var confirmation: [String: JSONValue]
    /// For an increase, the affordable limit it was weighed against (README "Ability to repay"):
    /// the compliance report judges the change by it. Increases before the rule have none.
    public var affordableLimit: Int?

    public init(oldLimit: Int, newLimit: Int, direction: LimitPolicy.Direction, initiatedBy: LimitPolicy.Initiator,
                customerAccepted: Bool, reasonCode: String, cause: Cause, confirmation: [String: JSONValue] = [:],
                affordableLimit: Int? = nil)
    {
        self.affordableLimit = affordableLimit
        (self.oldLimit, self.newLimit, self.direction, self.initiatedBy) = (oldLimit, newLimit, direction, initiatedBy)
        (self.customerAccepted, self.reasonCode, self.cause, self.confirmation) = (customerAccepted, reasonCode, cause, confirmation)
    }

    /// The customer is told of every change they did not ask for.
    public var noticeDue: Bool { initiatedBy != .customer }

    /// The `limit.adjusted` entry's detail: the same members, in the same canonical bytes, as
    /// every entry written before this type existed.
    public var auditDetail: [String: JSONValue] {
        var detail: [String: JSONValue]
        switch cause {
        case .request(let hasNote):
            detail = ["has_note": .bool(hasNote)]
        case .periodicReview(let reviewID, let decisionID, let reasonCodes):
            detail = ["portfolio_review_id": .string(reviewID), "decision_id": .string(decisionID),
                      "reason_codes": .array(reasonCodes.map(JSONValue.string)), "cause": LimitChangeCause.periodicReview.json]
        case .limitOffer(let offerID):
            detail = ["cause": LimitChangeCause.limitOffer.json, "offer_id": .string(offerID)]
        }
        detail.merge([
            "old_limit": .int(oldLimit), "new_limit": .int(newLimit), "direction": .string(direction.rawValue),
            "initiated_by": .string(initiatedBy.rawValue), "customer_accepted": .bool(customerAccepted),
            "notice_due": .bool(noticeDue), "reason_code": .string(reasonCode),
        ]) { $1 }
        detail.merge(confirmation) { $1 }
        if let affordableLimit { detail["affordable_limit"] = .int(affordableLimit) }
        return detail
    }

    /// The notice owed for it, if any: the old and new limits, and for a periodic review its
    /// reasons (README "Events and notices").
    public func notice(now: Timestamp) -> NoticeDraft? {
        guard noticeDue else { return nil }
        var values: [String: NoticeValue] = ["old_limit": .amount(oldLimit), "new_limit": .amount(newLimit)]
        var template = "limit_change_\(direction.rawValue)"
        switch cause {
        case .periodicReview(_, _, let reasonCodes):
            template += "_review"
            values["reasons"] = .reasons(Array(reasonCodes.prefix(4)))
        case .limitOffer:
            template += "_offer"
        case .request:
            break
        }
        return NoticeDraft(kind: .limitChange, template: template, values: values, dueBy: now.adding(days: NoticeRules.defaultDays))
    }

    /// The value an entry's detail records, read back: a member it needs and lacks fails loudly.
    public init(auditDetail detail: [String: JSONValue]) throws(NoticeRules.MissingFact) {
        let read = DetailReader(action: .limitAdjusted, detail: detail)
        let cause: Cause
        switch LimitChangeCause.of(detail) {
        case .periodicReview?:
            cause = .periodicReview(reviewID: try read.text("portfolio_review_id"), decisionID: try read.text("decision_id"),
                                    reasonCodes: try read.texts("reason_codes"))
        case .limitOffer?:
            cause = .limitOffer(offerID: try read.text("offer_id"))
        case nil:
            cause = .request(hasNote: try read.bool("has_note"))
        }
        // Entries written before initiated_by was recorded owed a notice exactly when notice_due.
        let initiatedBy: LimitPolicy.Initiator = detail["initiated_by"] == nil
            ? (try read.bool("notice_due") ? .operator : .customer) : try read.named("initiated_by")
        self.init(oldLimit: try read.int("old_limit"), newLimit: try read.int("new_limit"), direction: try read.named("direction"),
                  initiatedBy: initiatedBy, customerAccepted: try read.bool("customer_accepted"),
                  reasonCode: try read.text("reason_code"), cause: cause,
                  confirmation: detail.filter { $0.key.hasPrefix("confirmation_") },
                  affordableLimit: detail["affordable_limit"] == nil ? nil : try read.int("affordable_limit"))
    }
}

/// How an application was decided: at the customer's request, on the score of a decision under
/// a consent and terms, or by an operator resolving its review.
public enum ApplicationPath: Sendable, Equatable {
    case request(decisionID: String, consentID: String, termsVersion: String)
    case reviewResolution(reviewID: String)

    var auditDetail: [String: JSONValue] {
        switch self {
        case .request(let decisionID, let consentID, let termsVersion):
            ["decision_id": .string(decisionID), "consent_id": .string(consentID), "terms_version": .string(termsVersion)]
        case .reviewResolution(let reviewID):
            ["cause": AccountTransitionCause.reviewResolution.json, "review_id": .string(reviewID)]
        }
    }

    init(_ read: DetailReader) throws(NoticeRules.MissingFact) {
        self = AccountTransitionCause.of(read.detail) == .reviewResolution
            ? .reviewResolution(reviewID: try read.text("review_id"))
            : .request(decisionID: try read.text("decision_id"), consentID: try read.text("consent_id"),
                       termsVersion: try read.text("terms_version"))
    }
}

/// A line opened, at the tier whose terms it took.
public struct AccountActivated: Sendable, Equatable {
    public var from: AccountStatus
    public var tier: Tier
    public var creditLimit: Int
    public var path: ApplicationPath
    /// The line's instalment plans, for the customer's confirmation (each with its annual rate).
    /// Not in the audit detail, which names the terms' version; an entry read back has none.
    public var plans: [Terms.Plan]
    /// Why the limit is what it is (README "Ability to repay"); entries from before it have none.
    public var limitBasis: LimitBasis?
    /// For the customer's confirmation, not the audit detail (the income is erasable): the
    /// monthly income they declared (nil without a current assessment).
    public var declaredIncome: Int?

    /// The monthly repayment of the whole limit on the longest plan, for the confirmation. The
    /// plans are the live event's (an entry read back has none, and says no more than before).
    public var fullUseRepayment: Int? {
        plans.isEmpty ? nil : Affordability.monthlyRepayment(of: creditLimit, on: Affordability.longestPlan(plans))
    }

    public init(from: AccountStatus, tier: Tier, creditLimit: Int, path: ApplicationPath, plans: [Terms.Plan] = [],
                limitBasis: LimitBasis? = nil, declaredIncome: Int? = nil)
    {
        (self.from, self.tier, self.creditLimit, self.path, self.plans) = (from, tier, creditLimit, path, plans)
        self.limitBasis = limitBasis
        self.declaredIncome = declaredIncome
    }

    public var auditDetail: [String: JSONValue] {
        var detail = path.auditDetail.merging([
            "from": .string(from.rawValue), "tier": .string(tier.rawValue), "credit_limit": .int(creditLimit),
        ]) { $1 }
        if let limitBasis { detail["limit_basis"] = .object(limitBasis.auditDetail) }
        return detail
    }

    init(_ read: DetailReader) throws(NoticeRules.MissingFact) {
        self.init(from: try read.named("from"), tier: try read.named("tier"), creditLimit: try read.int("credit_limit"),
                  path: try ApplicationPath(read), limitBasis: try LimitBasis(read, key: "limit_basis"))
    }
}

/// An application declined; the decision's reasons go with it, for the customer's notice.
public struct AccountDeclined: Sendable, Equatable {
    public var from: AccountStatus
    public var reasonCodes: [String]
    public var path: ApplicationPath
    /// The score's tier, recorded for a decline at the customer's request; a decline by review
    /// records none.
    public var tier: Tier?

    public init(from: AccountStatus, reasonCodes: [String], path: ApplicationPath, tier: Tier? = nil) {
        (self.from, self.reasonCodes, self.path, self.tier) = (from, reasonCodes, path, tier)
    }

    public var auditDetail: [String: JSONValue] {
        var detail = path.auditDetail.merging([
            "from": .string(from.rawValue), "reason_codes": .array(reasonCodes.map(JSONValue.string)),
        ]) { $1 }
        if let tier { detail["tier"] = .string(tier.rawValue) }
        return detail
    }

    init(_ read: DetailReader) throws(NoticeRules.MissingFact) {
        self.init(from: try read.named("from"), reasonCodes: try read.texts("reason_codes"), path: try ApplicationPath(read),
                  tier: read.detail["tier"] == nil ? nil : try read.named("tier", as: Tier.self))
    }
}

/// An operator's decision on a review: a contest upheld or rejected, the first of two approvals,
/// or an activation approved or declined.
public enum ReviewResolved: Sendable, Equatable {
    case contest(upheld: Bool, decisionID: String)
    /// Four eyes: recorded, resolving nothing yet.
    case firstApproval(creditLimit: Int)
    case activationApproved(creditLimit: Int, secondApprover: Bool)
    case activationDeclined

    public var auditDetail: [String: JSONValue] {
        switch self {
        case .contest(let upheld, let decisionID):
            ["kind": .string(Review.Kind.contest.rawValue), "outcome": .string(upheld ? "upheld" : "rejected"),
             "decision_id": .string(decisionID)]
        case .firstApproval(let limit):
            ["kind": .string(Review.Kind.activation.rawValue), "stage": "first_approval", "credit_limit": .int(limit)]
        case .activationApproved(let limit, let secondApprover):
            ["kind": .string(Review.Kind.activation.rawValue), "outcome": "approved", "credit_limit": .int(limit),
             "second_approver": .bool(secondApprover)]
        case .activationDeclined:
            ["kind": .string(Review.Kind.activation.rawValue), "outcome": "declined"]
        }
    }

    func notice(dueBy: Timestamp) -> NoticeDraft? {
        let outcome: String
        var values: [String: NoticeValue] = [:]
        switch self {
        case .firstApproval: return nil
        case .contest(let upheld, _): outcome = upheld ? "upheld" : "rejected"
        case .activationApproved(let limit, _):
            outcome = "approved"
            values["credit_limit"] = .amount(limit)
        case .activationDeclined: outcome = "declined"
        }
        return NoticeDraft(kind: .reviewOutcome, template: "review_outcome_\(outcome)", values: values, dueBy: dueBy)
    }

    init(_ read: DetailReader) throws(NoticeRules.MissingFact) {
        switch (try read.named("kind", as: Review.Kind.self), try read.optionalText("stage"), try read.optionalText("outcome")) {
        case (.contest, nil, "upheld"?), (.contest, nil, "rejected"?):
            self = .contest(upheld: try read.text("outcome") == "upheld", decisionID: try read.text("decision_id"))
        case (.activation, "first_approval"?, nil):
            self = .firstApproval(creditLimit: try read.int("credit_limit"))
        case (.activation, nil, "approved"?):
            // Entries before four eyes did not say whether a second approver was needed.
            let second = read.detail["second_approver"] == nil ? false : try read.bool("second_approver")
            self = .activationApproved(creditLimit: try read.int("credit_limit"), secondApprover: second)
        case (.activation, nil, "declined"?):
            self = .activationDeclined
        default:
            throw read.missing(read.detail["stage"] == nil ? "outcome" : "stage")
        }
    }
}

/// A line frozen, unfrozen or closed, and why: an operator's action (with its reason code), a
/// periodic review (with the decision's reasons), or the end of the line's consent.
public struct AccountTransitioned: Sendable, Equatable {
    public enum Reason: Sendable, Equatable {
        case operatorAction(reasonCode: String, hasNote: Bool)
        case periodicReview(reviewID: String, decisionID: String, reasonCodes: [String])
        /// The consent's withdrawal or lapse: nothing further is recorded beside the cause.
        case consentEnd
    }

    public var action: AuditAction
    public var from: AccountStatus
    public var to: AccountStatus
    public var cause: AccountTransitionCause
    public var reason: Reason

    public init(action: AuditAction, from: AccountStatus, to: AccountStatus, cause: AccountTransitionCause, reason: Reason) {
        (self.action, self.from, self.to, self.cause, self.reason) = (action, from, to, cause, reason)
    }

    public var auditDetail: [String: JSONValue] {
        var detail: [String: JSONValue] = ["from": .string(from.rawValue), "to": .string(to.rawValue), "cause": cause.json]
        switch reason {
        case .operatorAction(let reasonCode, let hasNote):
            detail.merge(["reason_code": .string(reasonCode), "has_note": .bool(hasNote)]) { $1 }
        case .periodicReview(let reviewID, let decisionID, let reasonCodes):
            detail.merge(["portfolio_review_id": .string(reviewID), "decision_id": .string(decisionID),
                          "reason_codes": .array(reasonCodes.map(JSONValue.string))]) { $1 }
        case .consentEnd:
            break
        }
        return detail
    }

    /// A withdrawal's freeze is the customer's own act; everything else they did not ask for
    /// but a closure, which the console's closure does not announce (README "Not built yet").
    func notice(dueBy: Timestamp) -> NoticeDraft? {
        guard cause != .consentWithdrawal else { return nil }
        switch (action, reason) {
        case (.accountFrozen, .periodicReview(_, _, let reasonCodes)):
            return NoticeDraft(kind: .lineFrozen, template: "line_frozen_review",
                               values: ["reasons": .reasons(Array(reasonCodes.prefix(4)))], dueBy: dueBy)
        case (.accountFrozen, _):
            return NoticeDraft(kind: .lineFrozen, template: cause == .consentExpiry ? "line_frozen_consent_expired" : nil,
                               dueBy: dueBy)
        case (.accountUnfrozen, _):
            return NoticeDraft(kind: .lineUnfrozen, dueBy: dueBy)
        default:
            return nil
        }
    }

    init(_ read: DetailReader) throws(NoticeRules.MissingFact) {
        let cause: AccountTransitionCause = try read.named("cause")
        let reason: Reason
        switch cause {
        case .periodicReview:
            reason = .periodicReview(reviewID: try read.text("portfolio_review_id"), decisionID: try read.text("decision_id"),
                                     reasonCodes: try read.texts("reason_codes"))
        case .consentWithdrawal, .consentExpiry:
            reason = .consentEnd
        default:
            reason = .operatorAction(reasonCode: try read.text("reason_code"), hasNote: try read.bool("has_note"))
        }
        self.init(action: read.action, from: try read.named("from"), to: try read.named("to"), cause: cause, reason: reason)
    }
}

/// An active line moved to the terms of a newer decision's tier, on the customer's acceptance.
public struct TermsAccepted: Sendable, Equatable {
    public var termsVersion: String
    public var decisionID: String
    public var tier: Tier
    public var previousTier: Tier?
    /// Nil only in entries written before the rule that dearer terms need a confirmation.
    public var noDearer: Bool?
    public var interestFreeDays: Int
    /// The customer's confirmation as its audit detail records it, when one was given.
    public var confirmation: [String: JSONValue]

    public init(termsVersion: String, decisionID: String, tier: Tier, previousTier: Tier?, noDearer: Bool?,
                interestFreeDays: Int, confirmation: [String: JSONValue] = [:])
    {
        (self.termsVersion, self.decisionID, self.tier, self.previousTier) = (termsVersion, decisionID, tier, previousTier)
        (self.noDearer, self.interestFreeDays, self.confirmation) = (noDearer, interestFreeDays, confirmation)
    }

    public var auditDetail: [String: JSONValue] {
        var detail: [String: JSONValue] = [
            "terms_version": .string(termsVersion), "decision_id": .string(decisionID), "tier": .string(tier.rawValue),
            "previous_tier": previousTier.map { .string($0.rawValue) } ?? .null,
            "interest_free_days": .int(interestFreeDays),
        ]
        if let noDearer { detail["no_dearer"] = .bool(noDearer) }
        return detail.merging(confirmation) { $1 }
    }

    init(_ read: DetailReader) throws(NoticeRules.MissingFact) {
        let previous = try read.optionalText("previous_tier")
        self.init(termsVersion: try read.text("terms_version"), decisionID: try read.text("decision_id"),
                  tier: try read.named("tier"), previousTier: try previous.map { (text) throws(NoticeRules.MissingFact) in
                      guard let tier = Tier(rawValue: text) else { throw read.missing("previous_tier") }
                      return tier
                  },
                  noDearer: read.detail["no_dearer"] == nil ? nil : try read.bool("no_dearer"),
                  interestFreeDays: try read.int("interest_free_days"),
                  confirmation: read.detail.filter { $0.key.hasPrefix("confirmation_") })
    }
}

/// An offer of a higher limit, never applied until the customer takes it: made by a periodic
/// review or by an operator (with a reason code).
public struct LimitOfferCreated: Sendable, Equatable {
    public var decisionID: String
    public var currentLimit: Int
    public var offeredLimit: Int
    public var expiresAt: Timestamp
    public var portfolioReviewID: String?
    public var reasonCode: String?
    /// An operator's offer says whether a note went beside its reason code (the note stays
    /// outside the chain); a review's offer has no note.
    public var hasNote: Bool?

    public init(decisionID: String, currentLimit: Int, offeredLimit: Int, expiresAt: Timestamp,
                portfolioReviewID: String?, reasonCode: String?, hasNote: Bool? = nil)
    {
        (self.decisionID, self.currentLimit, self.offeredLimit) = (decisionID, currentLimit, offeredLimit)
        (self.expiresAt, self.portfolioReviewID, self.reasonCode, self.hasNote) = (expiresAt, portfolioReviewID, reasonCode, hasNote)
    }

    public var auditDetail: [String: JSONValue] {
        var detail: [String: JSONValue] = [
            "decision_id": .string(decisionID), "current_limit": .int(currentLimit), "offered_limit": .int(offeredLimit),
            "expires_at": .string(expiresAt.rfc3339),
        ]
        if let portfolioReviewID { detail["portfolio_review_id"] = .string(portfolioReviewID) }
        if let reasonCode { detail["reason_code"] = .string(reasonCode) }
        if let hasNote { detail["has_note"] = .bool(hasNote) }
        return detail
    }

    init(_ read: DetailReader) throws(NoticeRules.MissingFact) {
        self.init(decisionID: try read.text("decision_id"), currentLimit: try read.int("current_limit"),
                  offeredLimit: try read.int("offered_limit"), expiresAt: try read.timestamp("expires_at"),
                  portfolioReviewID: try read.optionalText("portfolio_review_id"),
                  reasonCode: try read.optionalText("reason_code"),
                  hasNote: read.detail["has_note"] == nil ? nil : try read.bool("has_note"))
    }
}

/// A consent withdrawn by the customer or lapsed at its date, with what its end did
/// (`WithdrawalEffect`, by code: PIPL Art. 15, 47).
public struct ConsentEnded: Sendable, Equatable {
    public enum How: Sendable, Equatable {
        case withdrawn(channel: ConsentChannel)
        case expired
    }

    public var purpose: ConsentPurpose
    public var how: How
    public var effects: [String]

    public init(purpose: ConsentPurpose, how: How, effects: [WithdrawalEffect]) {
        (self.purpose, self.how, self.effects) = (purpose, how, effects.map(\.code))
    }

    public var action: AuditAction {
        if case .withdrawn = how { return .consentWithdrawn }
        return .consentExpired
    }

    public var auditDetail: [String: JSONValue] {
        var detail: [String: JSONValue] = [
            "purpose": .string(purpose.rawValue), "effects": .array(effects.map(JSONValue.string)),
        ]
        if case .withdrawn(let channel) = how { detail["channel"] = .string(channel.rawValue) }
        return detail
    }

    init(_ read: DetailReader) throws(NoticeRules.MissingFact) {
        (purpose, effects) = (try read.named("purpose"), try read.texts("effects"))
        how = read.action == .consentWithdrawn ? .withdrawn(channel: try read.named("channel")) : .expired
    }
}
