import Testing
@testable import CreditLine

/// Each rule of the limit policy (README "Activation, reviews and limits") at its boundary, with the time handed in.
@Suite struct LimitPolicyTests {
    static let now = Timestamp(rfc3339: "2026-11-25T10:00:00.000Z")!
    let policy = LimitPolicy()

    func state(status: AccountStatus = .active, limit: Int = 1_000_000, optedOut: Bool = false, consent: Bool = true,
               assessment: Bool = true,
               lastIncreaseDaysAgo: Int? = nil, decisionDaysAgo: Int? = 1, tier: Tier = .b, reviewed: Bool = true,
               income: Int? = 10_000_000, assessedDaysAgo: Int = 1)
        -> LimitPolicy.State
    {
        LimitPolicy.State(
            status: status, currentLimit: limit, optedOut: optedOut, creditLineConsentActive: consent,
            assessmentConsentActive: assessment,
            lastIncreaseAt: lastIncreaseDaysAgo.map { Self.now.adding(days: -$0) },
            latestDecision: decisionDaysAgo.map { (tier, Self.now.adding(days: -$0)) }, latestDecisionModelReviewed: reviewed,
            affordability: income.map { AffordabilityTests.assessment(income: $0, obligations: 0, at: Self.now.adding(days: -assessedDaysAgo)) },
            plans: [Terms.Plan(months: 12, monthlyFeeBps: 50)])
    }

    func verdict(_ newLimit: Int, by initiator: LimitPolicy.Initiator = .customer, accepted: Bool = false,
                 _ state: LimitPolicy.State) -> String
    {
        let request = LimitPolicy.Request(newLimit: newLimit, initiatedBy: initiator, customerAccepted: accepted)
        switch Result(catching: { () throws(DomainError) in try policy.evaluate(request, state: state, now: Self.now) }) {
        case .success(let direction): return direction.rawValue
        case .failure(let error): return error.code.rawValue
        }
    }

    @Test func increaseRulesAtTheirBoundaries() {
        #expect(verdict(1_500_000, state()) == "increase")                       // exactly +50 %
        #expect(verdict(1_500_001, state()) == "increase-too-large")
        #expect(verdict(1_200_000, state(lastIncreaseDaysAgo: 90)) == "increase")  // exactly 90 days
        #expect(verdict(1_200_000, state(lastIncreaseDaysAgo: 89)) == "increase-too-soon")
        #expect(verdict(1_200_000, state(decisionDaysAgo: 29)) == "increase")
        #expect(verdict(1_200_000, state(decisionDaysAgo: 30)) == "stale-decision")  // 30 days is no longer younger
        #expect(verdict(1_200_000, state(decisionDaysAgo: nil)) == "stale-decision")
        #expect(verdict(1_200_000, state(tier: .c)) == "increase")
        #expect(verdict(1_200_000, state(tier: .d)) == "risk-tier-too-low")
        #expect(verdict(1_200_000, state(tier: .e)) == "risk-tier-too-low")
        // A lapsed model approves no increase; a decrease needs no model at all.
        #expect(verdict(1_200_000, state(reviewed: false)) == "model-review-overdue")
        #expect(verdict(800_000, state(reviewed: false)) == "decrease")
        #expect(verdict(5_000_000, state(limit: 4_000_000)) == "increase")      // exactly the maximum
        #expect(verdict(5_000_001, state(limit: 4_000_000)) == "above-policy-max")
        #expect(verdict(1_200_000, state(optedOut: true)) == "increase-opted-out")
        #expect(verdict(1_200_000, by: .system, state()) == "acceptance-required")
        #expect(verdict(1_200_000, by: .operator, state()) == "acceptance-required")
        #expect(verdict(1_200_000, by: .operator, accepted: true, state()) == "increase")
        #expect(verdict(1_200_000, state(consent: false)) == "consent-required")
        #expect(verdict(1_200_000, state(assessment: false)) == "consent-required")
        #expect(verdict(1_200_000, state(status: .frozen)) == "invalid-transition")
        #expect(verdict(1_200_000, state(status: .prospect, limit: 0)) == "invalid-transition")
    }

    /// An increase needs a current assessment and stays within what the customer can repay
    /// (README "Ability to repay"); a decrease needs neither.
    @Test func increasesWeighTheAbilityToRepay() {
        #expect(verdict(1_200_000, state(income: nil)) == "assessment-missing")
        #expect(verdict(1_200_000, state(assessedDaysAgo: 365)) == "assessment-missing")  // a year old
        #expect(verdict(1_200_000, state(assessedDaysAgo: 364)) == "increase")
        // 300,000 fen a month: 150,000 to spare, 1,698,120 on 12 months at 0.5 %.
        #expect(verdict(1_500_000, state(income: 300_000)) == "increase")
        #expect(verdict(1_200_000, state(income: 200_000)) == "affordability-cap")
        #expect(verdict(900_000, state(income: nil)) == "decrease")
        var capped = policy
        capped.affordability.regulatoryLimitCap = 1_100_000
        let request = LimitPolicy.Request(newLimit: 1_200_000, initiatedBy: .customer, customerAccepted: false)
        #expect(throws: DomainError(.invalid, code: .regulatoryCap,
                                    "new_limit is above the regulatory cap of 1100000 fen for one person's consumer credit.",
                                    field: "new_limit")) {
            try capped.evaluate(request, state: state(), now: Self.now)
        }
    }

    @Test func decreasesNeedNoneOfThat() {
        let hostile = state(status: .frozen, optedOut: true, consent: false, assessment: false, lastIncreaseDaysAgo: 1,
                            decisionDaysAgo: nil, tier: .e)
        #expect(verdict(500_000, by: .operator, hostile) == "decrease")
        #expect(verdict(0, by: .system, hostile) == "decrease")
        #expect(verdict(500_000, state(status: .closed)) == "invalid-transition")
    }

    @Test func amountsMustBeValidAndChangeSomething() {
        #expect(verdict(-1, state()) == "invalid-amount")
        #expect(verdict(1_000_000, state()) == "invalid-amount")
    }

    /// Zero stays zero: +50 % of nothing is nothing.
    @Test func aZeroLimitCannotBeIncreased() {
        #expect(verdict(1, state(limit: 0)) == "increase-too-large")
    }
}

@Suite struct ActivationTests {
    static let now = Timestamp(rfc3339: "2026-11-25T10:00:00.000Z")!

    static func decision(outcome: String, recommended: Int, expiresInDays: Int = 30) -> Decision {
        Decision(id: "dec_1", accountID: "acc_1", score: 700, tier: outcome == "approve" ? .b : outcome == "review" ? .d : .e,
                 outcome: Decision.Outcome(rawValue: outcome)!, recommendedLimit: recommended, reasons: [], modelVersion: "v1", inputs: nil,
                 inputsSHA256: "h", explanation: [], scoredAt: now.adding(days: -1), expiresAt: now.adding(days: expiresInDays))
    }

    static func consent(_ purpose: ConsentPurpose = .creditLine, _ status: ConsentStatus = .active) -> Consent {
        Consent(id: "con_1", accountID: "acc_1", purpose: purpose, noticeVersion: "v", noticeSHA256: "h", channel: .app,
                method: .explicitOptIn, evidence: nil, storedStatus: status, grantedAt: now.adding(days: -1),
                expiresAt: now.adding(days: 300))
    }

    func decide(status: AccountStatus = .prospect, declinedDaysAgo: Int? = nil, consent: Consent? = consent(),
                assessment: Bool = true, decision: Decision? = decision(outcome: "approve", recommended: 1_000_000),
                terms: String = "2026-11", requested: Int? = nil,
                modelReview: ModelReviewGate.Review? = ModelReviewGate.Review(approved: true, validUntil: now.adding(days: 90)),
                income: Int? = 10_000_000, obligations: Int = 0)
        -> String
    {
        // By default an income that holds nothing back, so the tier and the request decide.
        let affordability = income.map {
            AffordabilityAssessment(id: "aff_1", accountID: "acc_1", monthlyIncome: $0, monthlyObligations: obligations,
                                    source: .selfDeclared, evidenceRef: nil, assessedAt: Self.now.adding(days: -1),
                                    validUntil: Self.now.adding(days: 364))
        }
        let facts = Activation.Facts(
            accountStatus: status, declinedAt: declinedDaysAgo.map { Self.now.adding(days: -$0) }, consent: consent,
            assessmentConsentActive: assessment, decision: decision, termsVersion: terms, currentTermsVersion: "2026-11",
            requestedLimit: requested, modelReview: modelReview, affordability: affordability,
            plans: [Terms.Plan(months: 12, monthlyFeeBps: 50)])
        switch Result(catching: { () throws(DomainError) in try Activation.decide(facts, policy: LimitPolicy(), now: Self.now) }) {
        case .success(.activated(let limit)): return "activated \(limit)"
        case .success(let outcome): return outcome.name
        case .failure(let error): return error.code.rawValue
        }
    }

    /// Tier × consent state × account state.
    @Test(arguments: [
        ("approve", 1_000_000, "activated 1000000"), ("review", 200_000, "pending_review"), ("decline", 0, "declined"),
    ])
    func outcomeFollowsTheTier(outcome: String, recommended: Int, expected: String) {
        #expect(decide(decision: Self.decision(outcome: outcome, recommended: recommended)) == expected)
    }

    /// The gate: an approving tier activates only under an approved model review in force;
    /// reviews and declines are never changed by it.
    @Test(arguments: [
        ("approve", true, 1, "activated 1000000"), ("approve", true, 0, "pending_review"),
        ("approve", true, -1, "pending_review"), ("approve", false, 90, "pending_review"),
        ("approve", nil, 0, "pending_review"), ("review", nil, 0, "pending_review"), ("decline", nil, 0, "declined"),
        ("decline", false, 90, "declined"),
    ] as [(String, Bool?, Int, String)])
    func lapsedModelReviewSendsApprovalsToAPerson(outcome: String, approved: Bool?, validDays: Int, expected: String) {
        // validDays 0: the review ends at this very moment, so it is no longer in force.
        let review = approved.map { ModelReviewGate.Review(approved: $0, validUntil: Self.now.adding(days: validDays)) }
        #expect(decide(decision: Self.decision(outcome: outcome, recommended: 1_000_000), modelReview: review) == expected)
    }

    @Test(arguments: AccountStatus.allCases)
    func onlyProspectsAndCooledDeclinesMayActivate(status: AccountStatus) {
        let result = decide(status: status, declinedDaysAgo: 30)
        #expect(result == (status == .prospect || status == .declined ? "activated 1000000" : "invalid-transition"))
    }

    @Test func declinedAccountsWaitOutTheCoolOff() {
        #expect(decide(status: .declined, declinedDaysAgo: 29) == "cool-off")
        #expect(decide(status: .declined, declinedDaysAgo: 30) == "activated 1000000")
    }

    @Test func consentsMustBeInForce() {
        #expect(decide(consent: nil) == "consent-required")
        #expect(decide(consent: Self.consent(.creditAssessment)) == "consent-required")
        #expect(decide(consent: Self.consent(.creditLine, .withdrawn)) == "consent-required")
        #expect(decide(consent: Self.consent(.creditLine, .expired)) == "consent-required")
        #expect(decide(assessment: false) == "consent-required")
    }

    @Test func decisionAndTermsMustBeCurrent() {
        #expect(decide(decision: nil) == "not-found")
        #expect(decide(decision: Self.decision(outcome: "approve", recommended: 1, expiresInDays: 0)) == "decision-expired")
        #expect(decide(terms: "2025-01") == "terms-mismatch")
    }

    @Test func limitIsTheSmallestOfRecommendedRequestedAndMaximum() {
        #expect(decide(requested: 300_000) == "activated 300000")
        #expect(decide(requested: 9_000_000) == "activated 1000000")
        #expect(decide(requested: -1) == "invalid-amount")
        #expect(decide(decision: Self.decision(outcome: "approve", recommended: 8_000_000)) == "activated 5000000")
    }

    /// Ability to repay at activation (README "Ability to repay"): without an assessment the
    /// starter limit binds; a low income binds by what it can repay.
    @Test func activationWeighsTheAbilityToRepay() {
        #expect(decide(income: nil) == "activated 50000")
        #expect(decide(requested: 20_000, income: nil) == "activated 20000")
        // 200,000 fen a month, 50,000 owed: 50,000 to spare; 12 months at 0.5 %: 566,040 at most.
        #expect(decide(income: 200_000, obligations: 50_000) == "activated 566040")
        #expect(decide(income: 200_000, obligations: 100_000) == "activated 0")
    }
}

@Suite struct TermsTests {
    @Test func shippedTermsLoadAndCapInterestFreeDays() throws {
        let data = FileManagerShim.contents(repositoryRootForDomain + "/config/terms.json")
        let terms = try Terms(json: data)
        #expect(terms.version == "2026-11")
        #expect(terms.tiers[.a]?.instalmentPlans.map(\.monthlyFeeBps) == [0, 45, 50])
        #expect(terms.tiers[.e]?.instalmentPlans.isEmpty == true)
        let tooLong = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\"interest_free_days\": 30",
                                                                                with: "\"interest_free_days\": 31")
        #expect(throws: ScorecardError.self) { try Terms(json: Data(tooLong.utf8)) }
    }
}

import Foundation
enum FileManagerShim {
    static func contents(_ path: String) -> Data { FileManager.default.contents(atPath: path)! }
}
