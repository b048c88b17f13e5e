import Foundation
import TestSupport
import Testing
@testable import CreditLine

/// Stability indices against populations worked out by hand, the challenger's agreement, and the
/// review gate as a table.
@Suite struct ModelGovernanceTests {
    /// Four equal development bands; 10, 20, 30 and 40 % now. By hand:
    /// (0.10 − 0.25) ln(0.4) + (0.20 − 0.25) ln(0.8) + (0.30 − 0.25) ln(1.2) + (0.40 − 0.25) ln(1.6)
    /// = 0.137444 + 0.011157 + 0.009116 + 0.070501 = 0.228217 (to six places, 0.2282174).
    @Test func aShiftedPopulationByHand() {
        let psi = Stability.index(expected: [0.25, 0.25, 0.25, 0.25], actual: Stability.shares([10, 20, 30, 40]))
        #expect(abs(psi - 0.2282174) < 0.000001)
        #expect(Stability.Status(index: psi) == .watch)
    }

    @Test func anUnmovedPopulationIsZero() {
        let development = [0.1, 0.2, 0.3, 0.4]
        #expect(Stability.index(expected: development, actual: Stability.shares([100, 200, 300, 400])) < 1e-12)
        #expect(Stability.Status(index: 0) == .stable)
    }

    /// One band empty: its share is floored at 0.0001, so the index is large but finite. By hand:
    /// (0.0001 − 0.5) ln(0.0001 / 0.5) + (1 − 0.5) ln(1 / 0.5) = 4.257745 + 0.346574 = 4.604318.
    @Test func anEmptyBandIsFlooredNotInfinite() {
        let psi = Stability.index(expected: [0.5, 0.5], actual: Stability.shares([0, 50]))
        #expect(abs(psi - 4.604318) < 0.000001)
        #expect(Stability.Status(index: psi) == .act)
        #expect(Stability.shares([0, 0]) == [0, 0])
    }

    @Test(arguments: [(0.0, Stability.Status.stable), (0.0999, .stable), (0.10, .watch), (0.25, .watch), (0.2501, .act)])
    func cutOffs(_ index: Double, _ status: Stability.Status) {
        #expect(Stability.Status(index: index) == status)
    }

    /// Random populations: the index is never negative, and is 0 exactly when the shares match.
    @Test func neverNegative() {
        var random = SeededRandom(seed: 16)
        for _ in 0..<1_000 {
            let expected = Stability.shares((0..<5).map { _ in Int.random(in: 1...100, using: &random) })
            let actual = Stability.shares((0..<5).map { _ in Int.random(in: 0...100, using: &random) })
            #expect(Stability.index(expected: expected, actual: actual) >= 0)
        }
    }

    @Test func challengerAgreement() {
        var agreement = Stability.Agreement()
        for (champion, challenger) in [(true, true), (true, false), (false, true), (false, true), (false, false)] {
            agreement.add(championApproves: champion, challengerApproves: challenger)
        }
        #expect(agreement.swapIn == 2 && agreement.swapOut == 1 && agreement.both == 1 && agreement.neither == 1)
        #expect(agreement.rate == 0.4)
        #expect(Stability.Agreement().rate == 1)
    }

    @Test(arguments: [
        (Decision.Outcome.approve, true, 10, Decision.Outcome.approve, nil),
        (.approve, true, -1, .review, "model-review-overdue"),
        (.approve, false, 10, .review, "model-review-overdue"),
        (.review, false, -1, .review, nil),
        (.decline, false, -1, .decline, nil),
    ] as [(Decision.Outcome, Bool, Int, Decision.Outcome, String?)])
    func theGate(_ scored: Decision.Outcome, _ approved: Bool, _ daysLeft: Int, _ acted: Decision.Outcome, _ reason: String?) {
        let now = Fixtures.now
        let gated = ModelReviewGate.outcome(scored, latestReview: .init(approved: approved, validUntil: now.adding(days: daysLeft)),
                                            now: now)
        #expect(gated.outcome == acted)
        #expect(gated.reason == reason)
        #expect(ModelReviewGate.outcome(.approve, latestReview: nil, now: now).outcome == .review)
    }
}

/// The portfolio review's action per line, as a table.
@Suite struct PortfolioPolicyTests {
    static func facts(status: AccountStatus = .active, line: Bool = true, assessment: Bool = true, optedOut: Bool = false,
                      limit: Int = 500_000, tier: Tier? = .c, lastIncrease: Timestamp? = nil, newTier: Tier,
                      recommended: Int = 2_000_000, income: Int? = 10_000_000) -> PortfolioPolicy.Facts
    {
        PortfolioPolicy.Facts(status: status, creditLineConsentActive: line, assessmentConsentActive: assessment,
                              optedOut: optedOut, currentLimit: limit, currentTier: tier, lastIncreaseAt: lastIncrease,
                              newTier: newTier, newRecommendedLimit: recommended,
                              affordability: income.map { AffordabilityTests.assessment(income: $0, obligations: 0, at: Fixtures.now.adding(days: -1)) },
                              plans: [Terms.Plan(months: 12, monthlyFeeBps: 50)])
    }

    @Test(arguments: [
        ("prospect is not reviewed", facts(status: .prospect, newTier: .a), PortfolioPolicy.Action.skipped("account-not-open")),
        ("closed is not reviewed", facts(status: .closed, newTier: .a), .skipped("account-not-open")),
        ("no consent, no re-scoring", facts(assessment: false, newTier: .e), .skipped("consent-required")),
        ("tier E freezes an active line", facts(newTier: .e), .freeze),
        ("tier E leaves a frozen line", facts(status: .frozen, newTier: .e), .none),
        ("tier D lowers to its recommendation", facts(limit: 500_000, newTier: .d), .lowerLimit(to: 200_000)),
        ("tier D under its recommendation stays", facts(limit: 150_000, newTier: .d), .none),
        ("better: an offer of at most +50 %", facts(limit: 500_000, tier: .c, newTier: .a), .offer(limit: 750_000)),
        ("better: an offer of at most the recommendation", facts(limit: 500_000, tier: .c, newTier: .b, recommended: 600_000),
         .offer(limit: 600_000)),
        ("the same tier: nothing", facts(tier: .c, newTier: .c), .none),
        ("opted out: no offer", facts(optedOut: true, tier: .c, newTier: .a), .none),
        ("a frozen line: no offer", facts(status: .frozen, tier: .c, newTier: .a), .none),
        ("no credit_line consent: no offer", facts(line: false, tier: .c, newTier: .a), .none),
        ("an increase 30 days ago: no offer", facts(tier: .c, lastIncrease: Fixtures.now.adding(days: -30), newTier: .a), .none),
        ("at the policy maximum: nothing", facts(limit: 5_000_000, tier: .c, newTier: .a, recommended: 9_000_000), .none),
        // Ability to repay (README "Ability to repay"): no offer without a current assessment, and
        // none above what the customer can repay (100,000 fen a month: 50,000 to spare, 566,040).
        ("no assessment: no offer", facts(limit: 500_000, tier: .c, newTier: .a, income: nil), .none),
        ("an offer of at most the affordable limit", facts(limit: 500_000, tier: .c, newTier: .a, income: 100_000),
         .offer(limit: 566_040)),
        ("nothing affordable above the limit: no offer", facts(limit: 600_000, tier: .c, newTier: .a, income: 100_000), .none),
    ])
    func actions(_ name: String, _ facts: PortfolioPolicy.Facts, _ expected: PortfolioPolicy.Action) {
        #expect(PortfolioPolicy.decide(facts, tierDLimit: 200_000, policy: LimitPolicy(), now: Fixtures.now) == expected, "\(name)")
    }
}
