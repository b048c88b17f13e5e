import CreditLine
import TestSupport
import Testing

/// The annualised rate by the internal-rate-of-return method (README "The line in use").
@Suite struct AnnualRateTests {
    /// Months, monthly fee in basis points, and the nominal annual rate in basis points computed
    /// independently (50-digit decimal bisection in Python, rounded half up).
    @Test(arguments: [
        (12, 60, 1303),  // tier B's 12-month plan: 7.2 % flat, 13.03 % a year
        (1, 30, 360), (1, 100, 1200),
        (3, 30, 539), (3, 45, 808), (3, 60, 1077), (3, 75, 1345), (3, 100, 1791),
        (6, 30, 615), (6, 45, 920), (6, 60, 1224), (6, 75, 1527), (6, 100, 2029),
        (12, 30, 658), (12, 45, 982), (12, 75, 1622), (12, 100, 2146),
        (24, 30, 677), (24, 45, 1005), (24, 60, 1327), (24, 75, 1643), (24, 100, 2157),
        (3, 0, 0), (12, 0, 0),
    ])
    func matchesRatesComputedIndependently(months: Int, feeBps: Int, aprBps: Int) {
        #expect(AnnualRate.nominalBps(monthlyFeeBps: feeBps, months: months) == aprBps)
    }

    /// The rate grows with the monthly fee, for every term; it is zero when the fee is; and it
    /// is never below the flat rate (12 × the monthly fee), since the fee is charged on
    /// principal already repaid.
    @Test func growsWithTheFeeAndIsZeroWithout() {
        var random = SeededRandom(seed: 44)
        for _ in 0..<2_000 {
            let months = Int.random(in: 1...36, using: &random)
            let fee = Int.random(in: 0...300, using: &random)
            let more = fee + Int.random(in: 1...50, using: &random)
            let rate = AnnualRate.nominalBps(monthlyFeeBps: fee, months: months)
            #expect(AnnualRate.nominalBps(monthlyFeeBps: more, months: months) > rate, "\(months) months, \(fee) → \(more) bps")
            #expect(rate >= 12 * fee, "\(months) months at \(fee) bps: \(rate)")
            if fee == 0 { #expect(rate == 0) }
        }
        #expect(AnnualRate.nominalBps(monthlyFeeBps: 0, months: 12) == 0)
    }

    @Test(arguments: [(0, "0.00%"), (5, "0.05%"), (45, "0.45%"), (920, "9.20%"), (1200, "12.00%"), (1303, "13.03%")])
    func percentagesHaveTwoDecimals(bps: Int, shown: String) {
        #expect(AnnualRate.percent(bps) == shown)
    }
}

/// The cost cap (README "The cost cap"): terms above it are refused, a plan above it is never charged.
@Suite struct CostCapTests {
    static func terms(_ plans: [Terms.Plan]) -> Terms {
        Terms(version: "t", tiers: [.a: Terms.TierTerms(interestFreeDays: 30, instalmentPlans: plans)])
    }

    @Test(arguments: [
        // monthly fee bps, months, allowed under 24 %
        (0, 3, true), (50, 12, true), (100, 12, true), (200, 12, false), (120, 6, false),
    ])
    func plansAgainstTheCap(_ fee: Int, _ months: Int, _ allowed: Bool) {
        let plan = Terms.Plan(months: months, monthlyFeeBps: fee)
        #expect(CostCap.allows(plan, capBps: CostCap.defaultBps) == allowed, "\(plan.aprBps)")
        #expect(((try? CostCap.check(Self.terms([plan]), capBps: CostCap.defaultBps)) != nil) == allowed)
        #expect(((try? CostCap.require(plan, capBps: CostCap.defaultBps)) != nil) == allowed)
    }

    @Test func theFirstPlanAboveTheCapIsNamed() {
        #expect(throws: ScorecardError.self) {
            try CostCap.check(Self.terms([Terms.Plan(months: 3, monthlyFeeBps: 0), Terms.Plan(months: 12, monthlyFeeBps: 200)]),
                              capBps: 2_400)
        }
        do {
            try CostCap.check(Self.terms([Terms.Plan(months: 12, monthlyFeeBps: 200)]), capBps: 2_400)
        } catch {
            #expect(error.description.contains("12-month plan") && error.description.contains("apr_cap_bps"))
        }
        #expect(throws: Never.self) { try CostCap.require(nil, capBps: 0) }
    }

    @Test func aRestructureNeverCostsMoreThanTheCap() {
        let cheapest = Terms.Plan(months: 3, monthlyFeeBps: 50)
        let fee = HardshipRules.restructureFeeBps(months: 3, cheapest: cheapest, aprCapBps: 500)
        #expect(AnnualRate.nominalBps(monthlyFeeBps: fee, months: 3) <= 500 && fee < 50)
    }
}
