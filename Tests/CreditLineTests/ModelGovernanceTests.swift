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
