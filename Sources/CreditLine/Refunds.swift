/// Returned purchases (README "Refunds and the credit balance"): a refund from the merchant
/// reduces what the purchase's draw still owes, latest instalments first, and takes with it the
/// fees on the part returned; whatever it cannot reduce becomes the account's credit balance,
/// which pays the next instalments and is never lost.

/// Where a repayment's money came from: the customer, or their credit balance.
public enum RepaymentSource: String, Sendable, CaseIterable, Codable {
    case payment
    case creditBalance = "credit_balance"
}

/// A refund as stored, with what it did.
public struct RefundRecord: Sendable, Equatable {
    public var id: String
    public var accountID: String
    public var drawID: String
    public var amount: Int
    /// The merchant's reference for the return: one refund per reference per draw. Never in the
    /// audit log (it can say what was bought).
    public var merchantRef: String
    public var outcome: RefundOutcome
    /// What the account's credit balance paid of its instalments in the same write.
    public var creditApplied: Int
    public var receivedAt: Timestamp

    public init(id: String, accountID: String, drawID: String, amount: Int, merchantRef: String, outcome: RefundOutcome,
                creditApplied: Int, receivedAt: Timestamp)
    {
        (self.id, self.accountID, self.drawID, self.amount, self.merchantRef) = (id, accountID, drawID, amount, merchantRef)
        (self.outcome, self.creditApplied, self.receivedAt) = (outcome, creditApplied, receivedAt)
    }
}

/// What a refund did to one instalment of its draw.
public struct RefundAllocation: Sendable, Equatable {
    public var instalmentID: String
    /// Unpaid principal the refund took away.
    public var principal: Int
    /// Unpaid fee on the returned part, cancelled.
    public var feeCancelled: Int
    /// Fee on the returned part that had been paid, given back to the credit balance.
    public var feeCredited: Int

    public init(instalmentID: String, principal: Int, feeCancelled: Int, feeCredited: Int) {
        (self.instalmentID, self.principal, self.feeCancelled, self.feeCredited) = (instalmentID, principal, feeCancelled, feeCredited)
    }
}

/// A refund's effect, every fen accounted for: `amount = principalReduced + principalToCredit`;
/// the credit balance grows by `principalToCredit + feesCredited`.
public struct RefundOutcome: Sendable, Equatable {
    public var allocations: [RefundAllocation]
    /// The part of the refund no unpaid principal of the draw was left to take.
    public var principalToCredit: Int

    public init(allocations: [RefundAllocation], principalToCredit: Int) {
        (self.allocations, self.principalToCredit) = (allocations, principalToCredit)
    }

    public var principalReduced: Int { allocations.reduce(0) { $0 + $1.principal } }
    public var feesCancelled: Int { allocations.reduce(0) { $0 + $1.feeCancelled } }
    public var feesCredited: Int { allocations.reduce(0) { $0 + $1.feeCredited } }
    /// What the refund adds to the account's credit balance.
    public var toCreditBalance: Int { principalToCredit + feesCredited }
}

public enum RefundRules {
    /// Who may be refunded: a draw of this account, by an amount no larger than the purchase, under
    /// a merchant reference not used for this draw before (409 `duplicate-refund`). Any line that
    /// ever drew takes refunds, closed or charged off included: a returned purchase is owed back
    /// whatever the line's state.
    public static func check(accountStatus: AccountStatus?, drawAmount: Int?, amount: Int, merchantRefUsed: Bool)
        throws(DomainError)
    {
        _ = try Existence.require(accountStatus, "account")
        let drawAmount = try Existence.require(drawAmount, "draw on this account")
        guard (1...drawAmount).contains(amount) else {
            throw DomainError(.invalid, code: .invalidAmount,
                              "amount must be a whole number of fen, 1 to the purchase's \(drawAmount).", field: "amount")
        }
        guard !merchantRefUsed else {
            throw DomainError(.conflict, code: .duplicateRefund,
                              "This draw already has a refund under that merchant_ref.")
        }
    }

    /// Applies a refund of `amount` to a draw of `drawAmount` of which `refundedBefore` was already
    /// refunded; `instalments` are every instalment of the draw. The unpaid principal goes first,
    /// the latest due instalment first; what is left over goes to the credit balance. Each fee is
    /// cut in the proportion of the purchase still standing that this refund returns, rounded in
    /// the customer's favour (the fee that stays is ⌊fee × standing after ÷ standing before⌋): the
    /// unpaid part of the cut is cancelled, the rest was paid and is credited. Once the whole
    /// purchase is returned no fee of it is left.
    public static func apply(amount: Int, drawAmount: Int, refundedBefore: Int, to instalments: inout [InstalmentState])
        -> RefundOutcome
    {
        var cuts: [String: RefundAllocation] = [:]
        let standing = max(0, drawAmount - refundedBefore)
        let standingAfter = max(0, standing - amount)
        if standing > 0 {
            for index in instalments.indices {
                let charged = instalments[index].fee - instalments[index].feeWaived
                guard charged > 0 else { continue }
                let cut = charged - scaled(charged, by: standingAfter, over: standing)
                let cancelled = min(cut, instalments[index].feeOwed)
                let credited = cut - cancelled
                instalments[index].fee -= cut
                instalments[index].feePaid -= credited
                if cut > 0 {
                    cuts[instalments[index].id] = RefundAllocation(instalmentID: instalments[index].id, principal: 0,
                                                                   feeCancelled: cancelled, feeCredited: credited)
                }
            }
        }
        var left = amount
        let latestFirst = instalments.indices.sorted { (instalments[$0].due, $0) > (instalments[$1].due, $1) }
        for index in latestFirst where left > 0 && instalments[index].principalOwed > 0 {
            let reduced = min(left, instalments[index].principalOwed)
            left -= reduced
            instalments[index].principal -= reduced
            let id = instalments[index].id
            cuts[id, default: RefundAllocation(instalmentID: id, principal: 0, feeCancelled: 0, feeCredited: 0)].principal += reduced
        }
        // In the draw's own instalment order, so the record reads like its schedule.
        let allocations = instalments.compactMap { cuts[$0.id] }
        return RefundOutcome(allocations: allocations, principalToCredit: left)
    }

    /// ⌊value × numerator ÷ denominator⌋ for non-negative values, without overflow.
    static func scaled(_ value: Int, by numerator: Int, over denominator: Int) -> Int {
        let product = value.multipliedFullWidth(by: numerator)
        return denominator.dividingFullWidth(product).quotient
    }
}

/// The account's credit balance: money the customer is owed back, kept until it pays what they
/// owe. It pays instalments as a repayment would (oldest due first, fee before principal), as
/// soon as there is both a balance and something owed; it never adds to the credit available
/// to draw, and the service never pays it out.
public enum CreditBalance {
    /// What `credit` pays of `owed`: all of it, or everything owed when that is less.
    public static func apply(_ credit: Int, to owed: [RepaymentAllocation.Owed]) -> [RepaymentAllocation.Applied] {
        let outstanding = owed.reduce(0) { $0 + $1.fee + $1.principal }
        let paying = min(credit, outstanding)
        guard paying > 0 else { return [] }
        // Within 1…outstanding, so the allocation cannot refuse it.
        return (try? RepaymentAllocation.allocate(paying, to: owed)) ?? []
    }
}

/// A refund as the chain records it and the customer is told of it (README "Refunds and the
/// credit balance"): figures only, never the merchant's reference.
public struct DrawRefunded: Sendable, Equatable {
    public var refundID: String
    public var amount: Int
    public var principalReduced: Int
    public var feesCancelled: Int
    public var feesCredited: Int
    public var creditApplied: Int
    public var balance: Int
    public var feesOutstanding: Int
    public var creditBalance: Int

    public init(refundID: String, amount: Int, principalReduced: Int, feesCancelled: Int, feesCredited: Int,
                creditApplied: Int, balance: Int, feesOutstanding: Int, creditBalance: Int)
    {
        (self.refundID, self.amount, self.principalReduced) = (refundID, amount, principalReduced)
        (self.feesCancelled, self.feesCredited, self.creditApplied) = (feesCancelled, feesCredited, creditApplied)
        (self.balance, self.feesOutstanding, self.creditBalance) = (balance, feesOutstanding, creditBalance)
    }

    public var auditDetail: [String: JSONValue] {
        ["refund_id": .string(refundID), "amount": .int(amount), "principal_reduced": .int(principalReduced),
         "fees_cancelled": .int(feesCancelled), "fees_credited": .int(feesCredited), "credit_applied": .int(creditApplied),
         "balance": .int(balance), "fees_outstanding": .int(feesOutstanding), "credit_balance": .int(creditBalance)]
    }

    init(_ read: DetailReader) throws(NoticeRules.MissingFact) {
        self.init(refundID: try read.text("refund_id"), amount: try read.int("amount"),
                  principalReduced: try read.int("principal_reduced"), feesCancelled: try read.int("fees_cancelled"),
                  feesCredited: try read.int("fees_credited"), creditApplied: try read.int("credit_applied"),
                  balance: try read.int("balance"), feesOutstanding: try read.int("fees_outstanding"),
                  creditBalance: try read.int("credit_balance"))
    }

    /// The customer is told what the return took off what they owe, and of any credit kept for them.
    public func notice(dueBy: Timestamp) -> NoticeDraft {
        NoticeDraft(kind: .refund, template: creditBalance > 0 ? "refund_credit_balance" : "refund", values: [
            "amount": .amount(amount), "owed": .amount(balance + feesOutstanding), "credit_balance": .amount(creditBalance),
        ], dueBy: dueBy)
    }
}
