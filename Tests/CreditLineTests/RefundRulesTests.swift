import CreditLine
import TestSupport
import Testing

/// Refunds and the credit balance (README "Refunds and the credit balance"): who may be refunded,
/// how a refund spreads over a draw, and that no fen is made or lost by any mix of draws,
/// refunds and repayments.
@Suite struct RefundRulesTests {
    static let today = CivilDate(Fixtures.now)

    static func code(_ body: () throws(DomainError) -> Void) -> String {
        do { try body(); return "ok" } catch { return error.code.rawValue + (error.field.map { " " + $0 } ?? "") }
    }

    @Test(arguments: [
        (AccountStatus.active, Optional(60_000), 20_000, false, "ok"),
        (.active, 60_000, 60_000, false, "ok"),
        (.closed, 60_000, 1, false, "ok"),  // a returned purchase is owed back whatever the line's state
        (.chargedOff, 60_000, 1, false, "ok"),
        (.active, 60_000, 60_001, false, "invalid-amount amount"),
        (.active, 60_000, 0, false, "invalid-amount amount"),
        (.active, 60_000, 100, true, "duplicate-refund"),
        (.active, nil, 100, false, "not-found"),
    ] as [(AccountStatus, Int?, Int, Bool, String)])
    func whoMayBeRefunded(_ status: AccountStatus, _ drawAmount: Int?, _ amount: Int, _ used: Bool, _ expected: String) {
        #expect(Self.code { () throws(DomainError) in
            try RefundRules.check(accountStatus: status, drawAmount: drawAmount, amount: amount, merchantRefUsed: used)
        } == expected)
    }

    @Test func aRefundOfAnAccountThatIsNotThereIsNotFound() {
        #expect(Self.code { () throws(DomainError) in
            try RefundRules.check(accountStatus: nil, drawAmount: 10, amount: 1, merchantRefUsed: false)
        } == "not-found")
    }

    /// The example: a 60,000 draw, 20,000 refunded leaves 40,000 owed; a further 50,000
    /// leaves nothing owed and 10,000 in the credit balance.
    @Test func theExampleOfASixtyThousandPurchase() {
        var instalments = [InstalmentState(id: "i1", due: Self.today.adding(days: 30), principal: 60_000, fee: 0)]
        let first = RefundRules.apply(amount: 20_000, drawAmount: 60_000, refundedBefore: 0, to: &instalments)
        #expect(first.principalReduced == 20_000 && first.toCreditBalance == 0)
        #expect(instalments[0].principalOwed == 40_000)
        let second = RefundRules.apply(amount: 50_000, drawAmount: 60_000, refundedBefore: 20_000, to: &instalments)
        #expect(second.principalReduced == 40_000 && second.principalToCredit == 10_000 && second.toCreditBalance == 10_000)
        #expect(instalments[0].principalOwed == 0 && instalments[0].isSettled)
    }

    /// Latest instalments first; the fees on the returned part go, the unpaid ones cancelled and
    /// the paid ones credited.
    @Test func latestInstalmentsFirstAndTheFeesOnTheReturnedPart() {
        // A 30,000 draw on three months at 100 fen a month each; the first instalment paid.
        var instalments = (1...3).map { number in
            InstalmentState(id: "i\(number)", due: Self.today.adding(months: number), principal: 10_000, fee: 100,
                            principalPaid: number == 1 ? 10_000 : 0, feePaid: number == 1 ? 100 : 0)
        }
        let outcome = RefundRules.apply(amount: 15_000, drawAmount: 30_000, refundedBefore: 0, to: &instalments)
        // Half the purchase returned: every fee halves.
        #expect(instalments.map(\.fee) == [50, 50, 50])
        #expect(outcome.allocations == [
            RefundAllocation(instalmentID: "i1", principal: 0, feeCancelled: 0, feeCredited: 50),
            RefundAllocation(instalmentID: "i2", principal: 5_000, feeCancelled: 50, feeCredited: 0),
            RefundAllocation(instalmentID: "i3", principal: 10_000, feeCancelled: 50, feeCredited: 0),
        ])
        #expect(instalments[0].feePaid == 50 && instalments[0].isSettled)
        #expect(instalments.map(\.principalOwed) == [0, 5_000, 0])
        #expect(outcome.toCreditBalance == 50, "the paid fee on the returned half comes back")
    }

    /// A fee's cut rounds in the customer's favour, and once the whole purchase is back no fee of
    /// it is left, however it was returned.
    @Test(arguments: [[1], [3], [1, 2], [1, 1, 1], [2, 1]] as [[Int]])
    func theWholePurchaseReturnedLeavesNoFee(_ thirds: [Int]) {
        var instalments = [InstalmentState(id: "i1", due: Self.today.adding(months: 1), principal: 10_001, fee: 101)]
        var (refunded, thirdsSoFar) = (0, 0)
        for part in thirds {
            thirdsSoFar += part
            let amount = min(10_001, thirdsSoFar * 10_001 / 3) - refunded
            _ = RefundRules.apply(amount: amount, drawAmount: 10_001, refundedBefore: refunded, to: &instalments)
            refunded += amount
        }
        if refunded >= 10_001 { #expect(instalments[0].fee == 0 && instalments[0].principal == 0) }
        #expect(instalments[0].fee <= 101 - 101 * min(refunded, 10_001) / 10_001, "rounded in the customer's favour")
    }

    @Test func aCreditBalancePaysTheNextInstalmentsAndNoMoreThanIsOwed() {
        let owed = [RepaymentAllocation.Owed(instalmentID: "late", due: Self.today.adding(days: -3), fee: 10, principal: 90),
                    RepaymentAllocation.Owed(instalmentID: "next", due: Self.today.adding(days: 27), fee: 10, principal: 90)]
        #expect(CreditBalance.apply(150, to: owed) == [
            RepaymentAllocation.Applied(instalmentID: "late", fee: 10, principal: 90),
            RepaymentAllocation.Applied(instalmentID: "next", fee: 10, principal: 40),
        ])
        #expect(CreditBalance.apply(1_000, to: owed).reduce(0) { $0 + $1.fee + $1.principal } == 200)
        #expect(CreditBalance.apply(0, to: owed).isEmpty && CreditBalance.apply(50, to: []).isEmpty)
    }

    /// Property: over random mixes of draws, refunds and repayments on one line, what was drawn
    /// and charged less what was paid and refunded is always what is owed less the credit
    /// balance; a credit balance exists only while nothing is owed; nothing goes negative.
    @Test(arguments: [11, 12, 13, 14, 15, 16, 17, 18] as [UInt64])
    func nothingIsCreatedOrLost(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        let plans = [Terms.Plan(months: 3, monthlyFeeBps: 50), Terms.Plan(months: 12, monthlyFeeBps: 70)]
        var instalments: [InstalmentState] = []
        var draws: [(id: String, amount: Int, refunded: Int, first: Int, count: Int)] = []
        var (drawn, paidIn, refundedIn, credit) = (0, 0, 0, 0)
        for step in 0..<400 {
            switch Int.random(in: 0..<3, using: &random) {
            case 0:
                let amount = Int.random(in: 1...50_000, using: &random)
                let plan = [nil, plans[0], plans[1]].randomElement(using: &random)!
                let schedule = Schedule.make(amount: amount, drawnOn: Self.today, plan: plan, interestFreeDays: 30)
                draws.append(("d\(step)", amount, 0, instalments.count, schedule.count))
                instalments += schedule.map { InstalmentState(id: "d\(step)-\($0.number)", due: $0.due, principal: $0.principal, fee: $0.fee) }
                drawn += amount
            case 1 where !draws.isEmpty:
                let index = Int.random(in: draws.indices, using: &random)
                let draw = draws[index]
                let amount = Int.random(in: 1...draw.amount, using: &random)
                var own = Array(instalments[draw.first..<(draw.first + draw.count)])
                let outcome = RefundRules.apply(amount: amount, drawAmount: draw.amount, refundedBefore: draw.refunded, to: &own)
                instalments.replaceSubrange(draw.first..<(draw.first + draw.count), with: own)
                #expect(outcome.principalReduced + outcome.principalToCredit == amount)
                draws[index].refunded += amount
                refundedIn += amount
                credit += outcome.toCreditBalance
            default:
                let owed = instalments.reduce(0) { $0 + $1.principalOwed + $1.feeOwed }
                guard owed > 0 else { continue }
                let amount = Int.random(in: 1...owed, using: &random)
                LedgerPosition.apply(try RepaymentAllocation.allocate(amount, to: instalments.map(\.owed)), to: &instalments)
                paidIn += amount
            }
            // The credit balance pays what is owed, as the store does after every refund and draw.
            let fromCredit = CreditBalance.apply(credit, to: instalments.map(\.owed))
            LedgerPosition.apply(fromCredit, to: &instalments)
            credit -= fromCredit.reduce(0) { $0 + $1.fee + $1.principal }

            let charged = instalments.reduce(0) { $0 + $1.fee - $1.feeWaived }
            let owed = instalments.reduce(0) { $0 + $1.principalOwed + $1.feeOwed }
            #expect(drawn + charged - paidIn - refundedIn == owed - credit, "seed \(seed) step \(step)")
            #expect(credit >= 0 && (credit == 0 || owed == 0), "seed \(seed) step \(step)")
            #expect(instalments.allSatisfy { $0.principalOwed >= 0 && $0.feeOwed >= 0 && $0.feePaid >= 0 && $0.fee >= 0 })
        }
        #expect(refundedIn > 0 && paidIn > 0)
    }
}
