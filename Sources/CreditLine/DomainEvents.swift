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

    public init(oldLimit: Int, newLimit: Int, direction: LimitPolicy.Direction, initiatedBy: LimitPolicy.Initiator,
                customerAccepted: Bool, reasonCode: String, cause: Cause, confirmation: [String: JSONValue] = [:])
    {
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
        func int(_ key: String) throws(NoticeRules.MissingFact) -> Int {
            guard let value = detail[key]?.intValue else { throw NoticeRules.MissingFact(action: .limitAdjusted, key: key) }
            return value
        }
        func text(_ key: String) throws(NoticeRules.MissingFact) -> String {
            guard let value = detail[key]?.stringValue else { throw NoticeRules.MissingFact(action: .limitAdjusted, key: key) }
            return value
        }
        guard let direction = LimitPolicy.Direction(rawValue: try text("direction")) else {
            throw NoticeRules.MissingFact(action: .limitAdjusted, key: "direction")
        }
        let cause: Cause
        switch LimitChangeCause.of(detail) {
        case .periodicReview?:
            cause = .periodicReview(reviewID: detail["portfolio_review_id"]?.stringValue ?? "",
                                    decisionID: detail["decision_id"]?.stringValue ?? "",
                                    reasonCodes: (detail["reason_codes"]?.arrayValue ?? []).compactMap(\.stringValue))
        case .limitOffer?:
            cause = .limitOffer(offerID: detail["offer_id"]?.stringValue ?? "")
        case nil:
            cause = .request(hasNote: detail["has_note"] == .bool(true))
        }
        // Entries written before initiated_by was recorded owed a notice exactly when notice_due.
        let initiatedBy = detail["initiated_by"]?.stringValue.flatMap(LimitPolicy.Initiator.init(rawValue:))
            ?? (detail["notice_due"] == .bool(true) ? .operator : .customer)
        self.init(oldLimit: try int("old_limit"), newLimit: try int("new_limit"), direction: direction,
                  initiatedBy: initiatedBy, customerAccepted: detail["customer_accepted"] == .bool(true),
                  reasonCode: detail["reason_code"]?.stringValue ?? "", cause: cause)
    }
}
