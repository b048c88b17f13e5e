/// A customer's dispute of what is or would be reported of them (README "Credit reporting",
/// disputes): answered by a person within 20 days (Credit Reporting Industry Regulation Art. 25);
/// while it is open nothing is reported and no reminder is written; upheld, the report is corrected.
public enum BureauDisputeItem: String, Sendable, CaseIterable, Codable {
    case overdue
    case chargeOff = "charge_off"
}

public enum BureauDisputeStatus: String, Sendable, CaseIterable, Codable {
    case open, upheld, rejected
}

public struct BureauDispute: Sendable, Equatable {
    public var id: String
    public var accountID: String
    public var item: BureauDisputeItem
    public var status: BureauDisputeStatus
    public var openedAt: Timestamp
    public var dueBy: Timestamp
    public var resolvedAt: Timestamp?
    public var reasonCode: String?

    public init(id: String, accountID: String, item: BureauDisputeItem, status: BureauDisputeStatus, openedAt: Timestamp,
                dueBy: Timestamp, resolvedAt: Timestamp? = nil, reasonCode: String? = nil)
    {
        (self.id, self.accountID, self.item, self.status) = (id, accountID, item, status)
        (self.openedAt, self.dueBy, self.resolvedAt, self.reasonCode) = (openedAt, dueBy, resolvedAt, reasonCode)
    }
}

public enum BureauDisputeRules {
    /// Art. 25: the objection is dealt with within 20 days.
    public static let answerDays = 20
    public static let maxStatement = 1_000

    /// The request as sent: an item, and the customer's own words (1–1,000 characters; kept
    /// outside the chain and erased by the retention sweep once answered).
    public static func validate(item: String, statement: String) throws(DomainError) -> BureauDisputeItem {
        guard let parsed = BureauDisputeItem(rawValue: item) else {
            throw .invalidField("item", "item must be overdue or charge_off.")
        }
        guard statement.contains(where: { !$0.isWhitespace }), statement.count <= maxStatement else {
            throw .invalidField("statement", "statement must be the customer's words, 1 to \(maxStatement) characters.")
        }
        return parsed
    }

    /// One dispute open at a time, of something there is: an overdue the account shows or had
    /// reported, a charge-off it has.
    public static func checkOpen(accountStatus: AccountStatus?, item: BureauDisputeItem, daysPastDue: Int,
                                 standing: BureauStatusCode?, openDisputeID: String?) throws(DomainError)
    {
        let status = try Existence.require(accountStatus, "account")
        if let openDisputeID {
            throw DomainError(.conflict, code: .disputeOpen, "Dispute \(openDisputeID) is still waiting for an answer.")
        }
        let disputable: Bool
        switch item {
        case .overdue: disputable = daysPastDue > 0 || (standing.map { $0 != .chargedOff } ?? false)
        case .chargeOff: disputable = status == .chargedOff || standing == .chargedOff
        }
        guard disputable else {
            throw DomainError(.conflict, code: .nothingToDispute,
                              "The account has no \(item == .overdue ? "overdue" : "charge-off") to dispute.")
        }
    }

    /// An answer: only to an open dispute.
    public static func checkResolution(_ dispute: BureauDispute?) throws(DomainError) {
        let dispute = try Existence.require(dispute, "bureau dispute")
        guard dispute.status == .open else {
            throw DomainError(.conflict, code: .reviewResolved, "This dispute is already \(dispute.status.rawValue).")
        }
    }

    public static func dueBy(openedAt: Timestamp) -> Timestamp { openedAt.adding(days: answerDays) }
}

/// A dispute opened or answered, as the chain records it and the customer is told of it.
public struct BureauDisputeEvent: Sendable, Equatable {
    public enum Step: Sendable, Equatable {
        case opened
        case resolved(upheld: Bool, reasonCode: String)
    }

    public var disputeID: String
    public var item: BureauDisputeItem
    public var dueBy: Timestamp
    public var step: Step

    public init(disputeID: String, item: BureauDisputeItem, dueBy: Timestamp, step: Step) {
        (self.disputeID, self.item, self.dueBy, self.step) = (disputeID, item, dueBy, step)
    }

    public var action: AuditAction {
        switch step {
        case .opened: .bureauDisputeOpened
        case .resolved: .bureauDisputeResolved
        }
    }

    /// Ids, codes and the deadline; never the customer's statement nor the operator's note.
    public var auditDetail: [String: JSONValue] {
        var detail: [String: JSONValue] = ["dispute_id": .string(disputeID), "item": .string(item.rawValue),
                                           "due_by": .string(dueBy.rfc3339)]
        if case .resolved(let upheld, let reasonCode) = step {
            detail["outcome"] = .string(upheld ? "upheld" : "rejected")
            detail["reason_code"] = .string(reasonCode)
        }
        return detail
    }

    init(_ read: DetailReader) throws(NoticeRules.MissingFact) {
        let step: Step = read.action == .bureauDisputeOpened ? .opened
            : .resolved(upheld: try read.text("outcome") == "upheld", reasonCode: try read.text("reason_code"))
        self.init(disputeID: try read.text("dispute_id"), item: try read.named("item"), dueBy: try read.timestamp("due_by"),
                  step: step)
    }

    /// The customer is told it was received and by when it will be answered, and then the answer.
    public func notice(dueBy noticeDue: Timestamp) -> NoticeDraft {
        switch step {
        case .opened:
            return NoticeDraft(kind: .bureauDispute, template: "bureau_dispute_opened",
                               values: ["answer_by": .date(CivilDate(dueBy))], dueBy: noticeDue)
        case .resolved(let upheld, _):
            return NoticeDraft(kind: .bureauDispute, template: upheld ? "bureau_dispute_upheld" : "bureau_dispute_rejected",
                               dueBy: noticeDue)
        }
    }
}
