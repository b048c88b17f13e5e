import CreditLine
import Testing
import TestSupport

/// Ability to repay (README "Ability to repay"): the repayment of a whole limit, the affordable
/// limit, and the least of a line's bounds, by table; and by property, that income and
/// obligations move the limit the right way and the chosen limit's repayment fits.
@Suite struct AffordabilityTests {
    static let now = Fixtures.now
    static let plans = [Terms.Plan(months: 3, monthlyFeeBps: 0), Terms.Plan(months: 12, monthlyFeeBps: 50)]
    static let settings = Affordability.Settings()

    static func assessment(income: Int, obligations: Int, at: Timestamp = now) -> AffordabilityAssessment {
        AffordabilityAssessment(id: "aff_1", accountID: "acc_1", monthlyIncome: income, monthlyObligations: obligations,
                                source: .selfDeclared, evidenceRef: nil, assessedAt: at,
                                validUntil: at.adding(days: Affordability.validityDays))
    }

    @Test(arguments: [
        // limit, plan, repayment
        (0, Terms.Plan(months: 12, monthlyFeeBps: 50), 0),
        (1_200_000, Terms.Plan(months: 12, monthlyFeeBps: 50), 100_000 + 6_000),
        (1_000_000, Terms.Plan(months: 3, monthlyFeeBps: 0), 333_334),  // equal parts, rounded up
        (1_000_000, nil, 1_000_000),  // no plan: the whole amount at once
        (100, Terms.Plan(months: 12, monthlyFeeBps: 45), 9),  // the fee of 100 fen at 0.45 % rounds to 0
    ] as [(Int, Terms.Plan?, Int)])
    func theRepaymentOfAWholeLimit(_ limit: Int, _ plan: Terms.Plan?, _ repayment: Int) {
        #expect(Affordability.monthlyRepayment(of: limit, on: plan) == repayment)
    }

    @Test(arguments: [
        // income, obligations, allowance at 50 %
        (1_000_000, 0, 500_000), (1_000_000, 200_000, 300_000), (1_000_000, 600_000, 0), (1, 0, 0), (3, 0, 1),
        (12_345_678, 1_000, 6_171_839),
    ])
    func theAllowance(_ income: Int, _ obligations: Int, _ allowance: Int) {
        #expect(Affordability.allowance(monthlyIncome: income, monthlyObligations: obligations, settings: Self.settings)
                == allowance)
    }

    @Test func theAffordableLimitIsTheLargestThatFits() {
        // 800,000 fen a month, 100,000 owed: 300,000 a month to spare. On 12 months at 0.5 %:
        // L/12 + L/200 ≤ 300,000 → L ≤ 3,396,226 (give or take the fen's rounding).
        let plan = Terms.Plan(months: 12, monthlyFeeBps: 50)
        let limit = Affordability.affordableLimit(monthlyIncome: 800_000, monthlyObligations: 100_000, plan: plan,
                                                  settings: Self.settings, ceiling: 20_000_000)
        #expect(Affordability.monthlyRepayment(of: limit, on: plan) <= 300_000)
        #expect(Affordability.monthlyRepayment(of: limit + 1, on: plan) > 300_000)
        #expect((3_396_000...3_396_300).contains(limit))
        // Nothing to spare: nothing affordable. Everything to spare: the ceiling.
        #expect(Affordability.affordableLimit(monthlyIncome: 100_000, monthlyObligations: 80_000, plan: plan,
                                              settings: Self.settings, ceiling: 20_000_000) == 0)
        #expect(Affordability.affordableLimit(monthlyIncome: 100_000_000, monthlyObligations: 0, plan: plan,
                                              settings: Self.settings, ceiling: 20_000_000) == 20_000_000)
    }

    @Test(arguments: [
        // tier, requested, income, obligations (nil: no assessment), limit, binding
        (2_000_000, nil, Optional(5_000_000), 0, 2_000_000, LimitBasis.Binding.tierRecommendation),
        (2_000_000, Optional(1_000_000), Optional(5_000_000), 0, 1_000_000, .requestedLimit),
        (2_000_000, Optional(1_000_000), Optional(600_000), 200_000, 1_000_000, .requestedLimit),
        (2_000_000, Optional(1_000_000), Optional(150_000), 0, 849_060, .affordabilityCap),
        (2_000_000, nil, nil, 0, 50_000, .assessmentMissing),
        (20_000, nil, nil, 0, 20_000, .tierRecommendation),
        (50_000, nil, nil, 0, 50_000, .assessmentMissing),  // a tie names the protection
        (30_000_000, nil, Optional(100_000_000), 0, 5_000_000, .regulatoryCap),  // limit_max below the 20,000,000 cap
        (2_000_000, nil, Optional(100_000), 60_000, 0, .affordabilityCap),
    ] as [(Int, Int?, Int?, Int, Int, LimitBasis.Binding)])
    func theLeastBoundBinds(_ tier: Int, _ requested: Int?, _ income: Int?, _ obligations: Int, _ limit: Int,
                            _ binding: LimitBasis.Binding)
    {
        let basis = Affordability.limit(
            tierRecommendation: tier, requestedLimit: requested,
            assessment: income.map { Self.assessment(income: $0, obligations: obligations) }, plans: Self.plans,
            settings: Self.settings, policyMax: 5_000_000, now: Self.now)
        #expect(basis.limit == limit, "\(basis)")
        #expect(basis.binding == binding, "\(basis)")
        #expect(basis.limit <= basis.cap)
    }

    @Test func anAssessmentAYearOldNoLongerCounts() {
        let old = Self.assessment(income: 5_000_000, obligations: 0, at: Self.now.adding(days: -Affordability.validityDays))
        #expect(!old.isCurrent(at: Self.now))
        let basis = Affordability.limit(tierRecommendation: 2_000_000, requestedLimit: nil, assessment: old, plans: Self.plans,
                                        settings: Self.settings, policyMax: 5_000_000, now: Self.now)
        #expect(basis.binding == .assessmentMissing && basis.limit == 50_000 && basis.affordableLimit == nil)
        var erased = Self.assessment(income: 5_000_000, obligations: 0)
        erased.monthlyIncome = nil
        #expect(!erased.isCurrent(at: Self.now), "an erased assessment is no assessment")
    }

    @Test(arguments: [
        (0, 0, "self_declared", nil, "monthly_income"), (-5, 0, "self_declared", nil, "monthly_income"),
        (100, -1, "self_declared", nil, "monthly_obligations"), (100, 0, "payslip", nil, "source"),
        (100, 0, "verified", nil, "evidence_ref"), (100, 0, "verified", "a b", "evidence_ref"),
    ] as [(Int, Int, String, String?, String)])
    func aBadAssessmentNamesItsField(_ income: Int, _ obligations: Int, _ source: String, _ evidence: String?, _ field: String) {
        #expect(throws: DomainError.self) {
            try Affordability.validate(monthlyIncome: income, monthlyObligations: obligations, source: source, evidenceRef: evidence)
        }
        do {
            _ = try Affordability.validate(monthlyIncome: income, monthlyObligations: obligations, source: source, evidenceRef: evidence)
        } catch {
            #expect(error.field == field)
        }
    }

    /// Properties over 3,000 random customers: more income never lowers the limit, more
    /// obligations never raise it, and the chosen limit's repayment fits the allowance.
    @Test func incomeAndObligationsMoveTheLimitTheRightWay() {
        var random = SeededRandom(seed: 46)
        for _ in 0..<3_000 {
            let income = Int.random(in: 1...5_000_000, using: &random)
            let obligations = Int.random(in: 0...3_000_000, using: &random)
            let more = Int.random(in: 1...2_000_000, using: &random)
            let tier = [200_000, 500_000, 1_000_000, 2_000_000][Int.random(in: 0...3, using: &random)]
            let requested: Int? = Bool.random(using: &random) ? Int.random(in: 0...3_000_000, using: &random) : nil
            let plans = [Self.plans, [Terms.Plan(months: 6, monthlyFeeBps: 45)], []][Int.random(in: 0...2, using: &random)]
            func limit(_ income: Int, _ obligations: Int) -> LimitBasis {
                Affordability.limit(tierRecommendation: tier, requestedLimit: requested,
                                    assessment: Self.assessment(income: income, obligations: obligations), plans: plans,
                                    settings: Self.settings, policyMax: 5_000_000, now: Self.now)
            }
            let base = limit(income, obligations)
            #expect(limit(income + more, obligations).limit >= base.limit, "income \(income)+\(more), owed \(obligations)")
            #expect(limit(income, obligations + more).limit <= base.limit, "income \(income), owed \(obligations)+\(more)")
            let allowance = Affordability.allowance(monthlyIncome: income, monthlyObligations: obligations, settings: Self.settings)
            #expect(Affordability.monthlyRepayment(of: base.limit, on: Affordability.longestPlan(plans)) <= allowance,
                    "income \(income), owed \(obligations): \(base)")
        }
    }
}
