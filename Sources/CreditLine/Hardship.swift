/// When the customer struggles (README "Hardship plans"): a plan agreed with a customer who
/// cannot pay as scheduled, instead of "late" running on to "charged off". The customer asks;
/// a person decides; the rules are these.
public enum HardshipKind: String, Sendable, CaseIterable, Codable {
    /// Every unpaid instalment moves 1–3 months later, with no fee for the move.
    case paymentHoliday = "payment_holiday"
    /// What is owed is spread over 3–24 new monthly instalments, at an annual rate no higher than
    /// the line's cheapest plan's.
    case restructure
}

public enum HardshipStatus: String, Sendable, CaseIterable, Codable {
    case pending, approved, declined, ended
}

/// A hardship request as stored, and the plan it became.
public struct HardshipRequest: Sendable, Equatable {
    public var id: String
    public var accountID: String
    public var kind: HardshipKind
    public var months: Int
    public var status: HardshipStatus
    public var requestedAt: Timestamp
    public var resolvedAt: Timestamp?
    public var reasonCode: String?
    /// The line's delinquency when the plan was approved: while it is in force, no worse.
    public var delinquencyAtApproval: Delinquency?
    public var endedAt: Timestamp?
    /// `broken` (an instalment of the plan 30 days late) or `completed` (nothing left owed).
    public var endReason: String?

    public init(id: String, accountID: String, kind: HardshipKind, months: Int, status: HardshipStatus,
                requestedAt: Timestamp, resolvedAt: Timestamp? = nil, reasonCode: String? = nil,
                delinquencyAtApproval: Delinquency? = nil, endedAt: Timestamp? = nil, endReason: String? = nil)
    {
        (self.id, self.accountID, self.kind, self.months, self.status) = (id, accountID, kind, months, status)
        (self.requestedAt, self.resolvedAt, self.reasonCode) = (requestedAt, resolvedAt, reasonCode)
        (self.delinquencyAtApproval, self.endedAt, self.endReason) = (delinquencyAtApproval, endedAt, endReason)
    }

    /// Approved and not ended: the plan is in force.
    public var inForce: Bool { status == .approved }
}

public enum HardshipRules {
    public static let holidayMonths = 1...3
    public static let restructureMonths = 3...24
    /// At most one approved plan in this many days (12 months).
    public static let spacingDays = 365
    /// An instalment of the plan this many days late breaks it.
    public static let breakingDays = 30

    /// The request as sent: a kind, and months within its range (422 naming the field).
    public static func validate(kind: String, months: Int) throws(DomainError) -> HardshipKind {
        guard let parsed = HardshipKind(rawValue: kind) else {
            throw .invalidField("kind", "kind must be payment_holiday or restructure.")
        }
        let range = parsed == .paymentHoliday ? holidayMonths : restructureMonths
        guard range.contains(months) else {
            throw DomainError(.invalid, code: .invalidField,
                              "months must be \(range.lowerBound)–\(range.upperBound) for a \(kind).", field: "months")
        }
        return parsed
    }

    /// A request is taken from an open line that owes something, one at a time, and not within
    /// 12 months of an approved plan.
    public static func checkRequest(accountStatus: AccountStatus?, owes: Bool, pendingID: String?,
                                    lastApprovedAt: Timestamp?, now: Timestamp) throws(DomainError)
    {
        let status = try AccountStatus.requireOpen(accountStatus, "A closed line has no plan to agree.")
        guard status == .active || status == .frozen else {
            throw DomainError(.conflict, code: .invalidTransition, "Only an open line (active or frozen) can have a hardship plan.")
        }
        guard owes else { throw DomainError(.conflict, code: .nothingOwed, "Nothing is owed on this line: there is nothing to plan.") }
        if let pendingID {
            throw DomainError(.conflict, code: .hardshipPending, "Hardship request \(pendingID) is still waiting for a decision.")
        }
        try checkSpacing(lastApprovedAt: lastApprovedAt, now: now)
    }

    /// At most one approved plan in 12 months.
    public static func checkSpacing(lastApprovedAt: Timestamp?, now: Timestamp) throws(DomainError) {
        guard let last = lastApprovedAt, now < last.adding(days: spacingDays) else { return }
        throw DomainError(.conflict, code: .hardshipTooSoon,
                          "A plan was approved on \(last.rfc3339); at most one plan is approved in 12 months.")
    }

    /// An operator's decision: only a pending request, and an approval within the spacing rule.
    public static func checkResolution(_ request: HardshipRequest?, approve: Bool, lastApprovedAt: Timestamp?,
                                       accountStatus: AccountStatus?, now: Timestamp) throws(DomainError)
    {
        let request = try Existence.require(request, "hardship request")
        guard request.status == .pending else {
            throw DomainError(.conflict, code: .reviewResolved, "This hardship request is already \(request.status.rawValue).")
        }
        guard approve else { return }
        let status = try AccountStatus.requireOpen(accountStatus, "A closed line has no plan to agree.")
        guard status == .active || status == .frozen else {
            throw DomainError(.conflict, code: .invalidTransition, "Only an open line (active or frozen) can have a hardship plan.")
        }
        try checkSpacing(lastApprovedAt: lastApprovedAt, now: now)
    }

    /// A payment holiday: every unpaid instalment due `months` later, its amounts unchanged.
    public static func holiday(_ instalments: [InstalmentState], months: Int) -> [InstalmentState] {
        instalments.map { instalment in
            guard !instalment.isSettled else { return instalment }
            var moved = instalment
            moved.due = instalment.due.adding(months: months)
            return moved
        }
    }

    /// The monthly fee of a restructure over `months`: the highest (up to the cheapest plan's own
    /// fee) whose annual rate over those months stays at or under the cheapest plan's annual rate.
    /// Never above the cost cap either (README "The cost cap").
    public static func restructureFeeBps(months: Int, cheapest: Terms.Plan?, aprCapBps: Int = CostCap.defaultBps) -> Int {
        guard let cheapest, cheapest.monthlyFeeBps > 0 else { return 0 }
        let ceiling = min(cheapest.aprBps, aprCapBps)
        var fee = cheapest.monthlyFeeBps
        while fee > 0 && AnnualRate.nominalBps(monthlyFeeBps: fee, months: months) > ceiling { fee -= 1 }
        return fee
    }

    /// The line's cheapest plan: the lowest annual rate.
    public static func cheapestPlan(_ plans: [Terms.Plan]) -> Terms.Plan? {
        plans.min { ($0.aprBps, $0.months) < ($1.aprBps, $1.months) }
    }

    /// A restructure of one draw's unpaid instalments: their principal in `months` equal parts
    /// (the remainder on the first), each with the restructure's monthly fee on that principal,
    /// and their unpaid fees spread the same way; the first due a month after `today`.
    public static func restructure(principal: Int, fees: Int, months: Int, feeBps: Int, today: CivilDate)
        -> [Schedule.Instalment]
    {
        let (share, extra) = principal.quotientAndRemainder(dividingBy: months)
        let (feeShare, feeExtra) = fees.quotientAndRemainder(dividingBy: months)
        let monthly = Schedule.fee(amount: principal, bps: feeBps)
        return (1...months).map { number in
            Schedule.Instalment(number: number, due: today.adding(months: number),
                                principal: share + (number == 1 ? extra : 0),
                                fee: monthly + feeShare + (number == 1 ? feeExtra : 0))
        }
    }

    /// Broken: an instalment due since the plan was approved is `breakingDays` or more late.
    public static func isBroken(_ instalments: [InstalmentState], approvedOn: CivilDate, today: CivilDate) -> Bool {
        instalments.contains { !$0.isSettled && $0.due >= approvedOn && $0.due.days(until: today) >= breakingDays }
    }

    /// While a plan is in force the line's delinquency is never worse than when it was approved.
    public static func delinquency(live: Delinquency, atApproval: Delinquency?) -> Delinquency {
        guard let atApproval else { return live }
        return min(live, atApproval)
    }
}

/// A step of a hardship plan as the chain records it and the customer is told of it: an event,
/// an audit entry and a notice each (README "Hardship plans").
public struct HardshipEvent: Sendable, Equatable {
    public enum Step: Sendable, Equatable {
        case requested
        case approved
        case declined(reasonCode: String)
        /// `broken` or `completed`.
        case ended(reason: String)
    }

    public var requestID: String
    public var kind: HardshipKind
    public var months: Int
    public var step: Step

    public init(requestID: String, kind: HardshipKind, months: Int, step: Step) {
        (self.requestID, self.kind, self.months, self.step) = (requestID, kind, months, step)
    }

    public var action: AuditAction {
        switch step {
        case .requested: .hardshipRequested
        case .approved, .declined: .hardshipResolved
        case .ended: .hardshipEnded
        }
    }

    public var auditDetail: [String: JSONValue] {
        var detail: [String: JSONValue] = ["request_id": .string(requestID), "kind": .string(kind.rawValue),
                                           "months": .int(months)]
        switch step {
        case .requested: break
        case .approved: detail["outcome"] = .string("approved")
        case .declined(let reasonCode): detail.merge(["outcome": .string("declined"), "reason_code": .string(reasonCode)]) { $1 }
        case .ended(let reason): detail["reason"] = .string(reason)
        }
        return detail
    }

    init(_ read: DetailReader) throws(NoticeRules.MissingFact) {
        let step: Step
        switch read.action {
        case .hardshipRequested: step = .requested
        case .hardshipEnded: step = .ended(reason: try read.text("reason"))
        default:
            step = try read.text("outcome") == "approved" ? .approved : .declined(reasonCode: try read.text("reason_code"))
        }
        self.init(requestID: try read.text("request_id"), kind: try read.named("kind"), months: try read.int("months"), step: step)
    }

    /// The customer is told of every step, in their language: what was asked, agreed or ended.
    public func notice(dueBy: Timestamp) -> NoticeDraft {
        let template: String
        switch step {
        case .requested: template = "hardship_plan_requested"
        case .approved: template = "hardship_plan_approved_\(kind.rawValue)"
        case .declined: template = "hardship_plan_declined"
        case .ended(let reason): template = "hardship_plan_ended_\(reason)"
        }
        return NoticeDraft(kind: .hardshipPlan, template: template, values: ["months": .number(months)], dueBy: dueBy)
    }
}
