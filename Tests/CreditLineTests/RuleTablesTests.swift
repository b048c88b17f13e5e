import Testing
@testable import CreditLine

/// The verdict of a rule as text: its outcome, or the code of the refusal (and the field, if any).
func verdict<T>(_ rule: () throws(DomainError) -> T, _ describe: (T) -> String = { _ in "ok" }) -> String {
    do {
        return describe(try rule())
    } catch {
        return error.field.map { "\(error.code.rawValue) \($0)" } ?? error.code.rawValue
    }
}

enum Fixtures {
    static let now = Timestamp(rfc3339: "2026-11-25T10:00:00.000Z")!

    static func decision(tier: Tier = .b, outcome: Decision.Outcome = .approve, expiresInDays: Int = 30) -> Decision {
        Decision(id: "dec_1", accountID: "acc_1", score: 700, tier: tier, outcome: outcome, recommendedLimit: 1_000_000,
                 reasons: [], modelVersion: "v1", inputs: nil, inputsSHA256: "h", explanation: [],
                 scoredAt: now.adding(days: -1), expiresAt: now.adding(days: expiresInDays))
    }

    static func review(kind: Review.Kind = .activation, status: Review.Status = .open) -> Review {
        Review(id: "rev_1", kind: kind, status: status, accountID: "acc_1", decisionID: "dec_1", statement: nil,
               createdAt: now.adding(days: -1))
    }

    static let terms = Terms(version: "2026-11", tiers: Dictionary(uniqueKeysWithValues: Tier.allCases.map {
        ($0, Terms.TierTerms(interestFreeDays: $0 == .e ? 0 : 30, instalmentPlans: []))
    }))
}

/// Four eyes and the limit bounds of an operator's resolution (README "Activation, reviews and
/// limits"): every refusal at its boundary.
enum ReviewResolutionCases {
    static let single = 200_000

    static func resolve(kind: Review.Kind = .activation, status: Review.Status = .open, account: AccountStatus? = .pendingReview,
                 consent: Bool = true, assessment: Bool = true, first: String? = nil, firstLimit: Int? = nil, approve: Bool = true,
                 limit: Int? = nil, by approver: String = "ana", requested: Int? = nil, income: Int? = 10_000_000) -> String
    {
        let record = ReviewRecord(review: Fixtures.review(kind: kind, status: status), firstApprover: first,
                                  firstApprovedLimit: firstLimit, requestedLimit: requested)
        return verdict({ () throws(DomainError) in
            try ReviewRules.resolve(record, accountStatus: kind == .contest ? nil : account,
                                    creditLineConsentActive: consent, assessmentConsentActive: assessment,
                                    ReviewRules.Resolution(approve: approve, creditLimit: limit, approver: approver),
                                    singleApproverLimit: single, policy: LimitPolicy(),
                                    affordability: income.map { AffordabilityTests.assessment(income: $0, obligations: 0) },
                                    plans: [Terms.Plan(months: 12, monthlyFeeBps: 50)], now: Fixtures.now)
        }) { verdict in
            switch verdict {
            case .contestResolved(let upheld): return upheld ? "upheld" : "rejected"
            case .firstApproval(let limit): return "first approval \(limit)"
            case .activationApproved(let limit, let to, let second):
                return "\(to.rawValue) \(limit)" + (second ? " second" : "")
            case .activationDeclined(let to): return to.rawValue
            }
        }
    }

    static let cases: [(String, String, String)] = [
        // (label, verdict, expected)
        ("cancelled review", resolve(status: .cancelled), "review-cancelled"),
        ("resolved review", resolve(status: .resolved), "review-resolved"),
        ("contest upheld", resolve(kind: .contest), "upheld"),
        ("contest rejected", resolve(kind: .contest, approve: false), "rejected"),
        ("contest needs no consent", resolve(kind: .contest, consent: false), "upheld"),
        ("missing account", resolve(account: nil), "not-found"),
        ("consent withdrawn", resolve(consent: false), "review-cancelled"),
        ("assessment consent gone: no approval", resolve(assessment: false), "consent-required"),
        ("assessment consent gone: decline", resolve(assessment: false, approve: false), "declined"),
        ("contest without assessment consent", resolve(kind: .contest, assessment: false), "upheld"),
        ("decline", resolve(approve: false), "declined"),
        ("default limit", resolve(), "active 200000"),
        ("at the single-approver limit", resolve(limit: 200_000), "active 200000"),
        ("zero", resolve(limit: 0), "active 0"),
        ("negative", resolve(limit: -1), "invalid-amount credit_limit"),
        ("one fen above: first approval", resolve(limit: 200_001), "first approval 200001"),
        ("second person, same limit", resolve(first: "bo", firstLimit: 300_000, limit: 300_000),
         "active 300000 second"),
        ("same person twice", resolve(first: "ana", firstLimit: 300_000, limit: 300_000), "four-eyes-required"),
        ("second person, other limit", resolve(first: "bo", firstLimit: 300_000, limit: 300_001),
         "four-eyes-required"),
        ("at the policy maximum", resolve(first: "bo", firstLimit: 5_000_000, limit: 5_000_000),
         "active 5000000 second"),
        ("above the policy maximum", resolve(limit: 5_000_001), "above-policy-max credit_limit"),
        ("account no longer pending", resolve(account: .active), "invalid-transition"),
        ("declining a prospect", resolve(account: .prospect, approve: false), "invalid-transition"),
        // The customer's own request is the ceiling (README "Activation, reviews and limits").
        ("asked 50,000: the default is what was asked", resolve(requested: 50_000), "active 50000"),
        ("asked 50,000: granted 50,000", resolve(limit: 50_000, requested: 50_000), "active 50000"),
        ("asked 50,000: less is fine", resolve(limit: 30_000, requested: 50_000), "active 30000"),
        ("asked 50,000: one fen more", resolve(limit: 50_001, requested: 50_000), "above-requested-limit credit_limit"),
        ("asked 50,000: tier D's 200,000", resolve(limit: 200_000, requested: 50_000), "above-requested-limit credit_limit"),
        ("asked 50,000: a second approval of more", resolve(first: "bo", firstLimit: 5_000_000, limit: 5_000_000, requested: 50_000),
         "above-requested-limit credit_limit"),
        ("asked 1,000,000: the default stays tier D's", resolve(requested: 1_000_000), "active 200000"),
        ("asked 1,000,000: above tier D takes four eyes", resolve(limit: 1_000_000, requested: 1_000_000),
         "first approval 1000000"),
        ("asked 0: declining is the way", resolve(requested: 0), "active 0"),
        ("asked 0: any line is more", resolve(limit: 1, requested: 0), "above-requested-limit credit_limit"),
        ("asked 50,000: declining needs nothing", resolve(approve: false, requested: 50_000), "declined"),
        // Ability to repay (README "Ability to repay"): without an assessment the starter limit is
        // the default and the most; a low income caps what a person may approve.
        ("no assessment: the starter limit by default", resolve(income: nil), "active 50000"),
        ("no assessment: the starter limit", resolve(limit: 50_000, income: nil), "active 50000"),
        ("no assessment: above the starter limit", resolve(limit: 50_001, income: nil), "assessment-missing credit_limit"),
        ("a low income: the default is what it can repay", resolve(income: 30_000), "active 169812"),
        ("a low income: above what it can repay", resolve(limit: 169_813, income: 30_000), "affordability-cap credit_limit"),
    ]
}

/// An operator's limit offer: to an opened line, above its limit, within the policy.
enum OperatorOfferCases {
    static func offer(_ status: AccountStatus? = .active, current: Int = 50_000, offered: Int) -> String {
        verdict({ () throws(DomainError) in
            try LimitOffers.checkOperatorOffer(accountStatus: status, currentLimit: current, offered: offered, maxLimit: 5_000_000)
        })
    }

    static let cases: [(String, String, String)] = [
        ("an active line, more", offer(offered: 200_000), "ok"),
        ("a frozen line, more", offer(.frozen, offered: 200_000), "ok"),
        ("the same limit", offer(offered: 50_000), "invalid-field offered_limit"),
        ("less", offer(offered: 40_000), "invalid-field offered_limit"),
        ("one fen more", offer(offered: 50_001), "ok"),
        ("at the policy maximum", offer(offered: 5_000_000), "ok"),
        ("above the policy maximum", offer(offered: 5_000_001), "above-policy-max offered_limit"),
        ("a line waiting for review", offer(.pendingReview, current: 0, offered: 50_000), "invalid-transition"),
        ("a closed line", offer(.closed, offered: 200_000), "invalid-transition"),
        ("no account", offer(nil, offered: 200_000), "not-found"),
    ]
}

@Suite struct OperatorOfferTable {
    @Test(arguments: OperatorOfferCases.cases)
    func offer(label: String, verdict: String, expected: String) {
        #expect(verdict == expected, "\(label)")
    }
}

@Suite struct ReviewResolutionTable {
    @Test(arguments: ReviewResolutionCases.cases)
    func resolution(label: String, verdict: String, expected: String) {
        #expect(verdict == expected, "\(label)")
    }
}

/// Terms follow an approving, unexpired decision of this account under the current terms.
enum TermsAcceptanceCases {
    /// The shipped terms' shape (config/terms.json): A's plans cheapest, C without A's 12 months.
    static func plans(_ fees: [(Int, Int)]) -> [Terms.Plan] { fees.map { Terms.Plan(months: $0.0, monthlyFeeBps: $0.1) } }
    static let real = Terms(version: "2026-11", tiers: [
        .a: .init(interestFreeDays: 30, instalmentPlans: plans([(3, 0), (6, 45), (12, 50)])),
        .b: .init(interestFreeDays: 30, instalmentPlans: plans([(3, 50), (6, 55), (12, 60)])),
        .c: .init(interestFreeDays: 30, instalmentPlans: plans([(3, 70), (6, 75)])),
        .d: .init(interestFreeDays: 30, instalmentPlans: plans([(3, 90)])),
        .e: .init(interestFreeDays: 0, instalmentPlans: []),
    ])

    static func accept(status: AccountStatus? = .active, decision: Decision? = Fixtures.decision(),
                       version: String = "2026-11", at now: Timestamp = Fixtures.now, terms: Terms = Fixtures.terms,
                       current: Terms.TierTerms? = Fixtures.terms.tiers[.b], confirmed: Bool = false) -> String
    {
        verdict({ () throws(DomainError) in
            try TermsAcceptance.decide(
                TermsAcceptance.Facts(accountStatus: status, decision: decision, requestedTermsVersion: version,
                                      currentTerms: current, confirmed: confirmed),
                terms: terms, now: now)
        }) { "tier \($0.tier.rawValue)" + ($0.noDearer ? "" : " dearer") }
    }

    static let cases: [(String, String, String)] = [
        ("active", accept(), "tier B"),
        ("frozen", accept(status: .frozen), "tier B"),
        ("prospect", accept(status: .prospect), "invalid-transition"),
        ("closed", accept(status: .closed), "invalid-transition"),
        ("missing account", accept(status: nil), "not-found"),
        ("missing decision", accept(decision: nil), "not-found"),
        ("expires now", accept(decision: Fixtures.decision(expiresInDays: 0)), "decision-expired"),
        ("expires a day later", accept(decision: Fixtures.decision(expiresInDays: 1)), "tier B"),
        ("older terms", accept(version: "2026-10"), "terms-mismatch"),
        ("tier C", accept(decision: Fixtures.decision(tier: .c)), "tier C"),
        ("tier D", accept(decision: Fixtures.decision(tier: .d, outcome: .review)),
         "risk-tier-too-low decision_id"),
        ("tier E", accept(decision: Fixtures.decision(tier: .e, outcome: .decline)),
         "risk-tier-too-low decision_id"),
        // Dearer terms need the customer's confirmation (README "Activation, reviews and limits").
        ("A to C: dearer, unconfirmed", accept(decision: Fixtures.decision(tier: .c), terms: real, current: real.tiers[.a]),
         "confirmation-required customer_confirmation"),
        ("A to C: dearer, confirmed", accept(decision: Fixtures.decision(tier: .c), terms: real, current: real.tiers[.a],
                                            confirmed: true), "tier C dearer"),
        ("A to B: a fee higher", accept(decision: Fixtures.decision(tier: .b), terms: real, current: real.tiers[.a]),
         "confirmation-required customer_confirmation"),
        ("C to A: cheaper", accept(decision: Fixtures.decision(tier: .a), terms: real, current: real.tiers[.c]), "tier A"),
        ("A to A: the same", accept(decision: Fixtures.decision(tier: .a), terms: real, current: real.tiers[.a]), "tier A"),
        ("C to B: a fee lower, a plan added", accept(decision: Fixtures.decision(tier: .b), terms: real, current: real.tiers[.c]),
         "tier B"),
        ("no terms on record: unconfirmed", accept(decision: Fixtures.decision(tier: .a), terms: real, current: nil),
         "confirmation-required customer_confirmation"),
        ("no terms on record: confirmed", accept(decision: Fixtures.decision(tier: .a), terms: real, current: nil,
                                                confirmed: true), "tier A dearer"),
    ]
}

/// What makes terms dearer: any plan's fee higher, any plan gone, fewer interest-free days.
@Suite struct NoDearerTable {
    static func terms(_ days: Int, _ fees: [(Int, Int)]) -> Terms.TierTerms {
        .init(interestFreeDays: days, instalmentPlans: TermsAcceptanceCases.plans(fees))
    }

    static let cases: [(String, Terms.TierTerms, Terms.TierTerms, Bool)] = [
        ("the same", terms(30, [(3, 50)]), terms(30, [(3, 50)]), true),
        ("a fee lower", terms(30, [(3, 40)]), terms(30, [(3, 50)]), true),
        ("a fee higher", terms(30, [(3, 51)]), terms(30, [(3, 50)]), false),
        ("a plan gone", terms(30, [(3, 50)]), terms(30, [(3, 50), (12, 60)]), false),
        ("a plan added", terms(30, [(3, 50), (6, 55)]), terms(30, [(3, 50)]), true),
        ("a plan's months changed", terms(30, [(6, 50)]), terms(30, [(3, 50)]), false),
        ("a day fewer interest-free", terms(29, [(3, 50)]), terms(30, [(3, 50)]), false),
        ("more interest-free days", terms(30, []), terms(0, []), true),
        ("one cheaper, one dearer", terms(30, [(3, 0), (6, 80)]), terms(30, [(3, 50), (6, 55)]), false),
    ]

    @Test(arguments: cases)
    func noDearer(label: String, new: Terms.TierTerms, current: Terms.TierTerms, expected: Bool) {
        #expect(new.isNoDearer(than: current) == expected, "\(label)")
    }
}

@Suite struct TermsAcceptanceTable {
    @Test(arguments: TermsAcceptanceCases.cases)
    func acceptance(label: String, verdict: String, expected: String) {
        #expect(verdict == expected, "\(label)")
    }
}

/// Freeze, unfreeze and closure: every action from every state, with and without consent.
@Suite struct OperatorActionTable {
    static let allowed: [OperatorAction: Set<AccountStatus>] = [
        .freeze: [.active], .unfreeze: [.frozen], .closure: [.active, .frozen],
    ]

    @Test(arguments: OperatorAction.allCases)
    func everyStateWithAndWithoutConsent(action: OperatorAction) {
        for status in AccountStatus.allCases {
            for consent in [true, false] {
                let result = verdict({ () throws(DomainError) in
                    try action.decide(from: status, creditLineConsentActive: consent)
                }) { $0.rawValue }
                let expected: String
                if Self.allowed[action]!.contains(status) {
                    expected = action == .unfreeze && !consent ? "consent-required"
                        : ["freeze": "frozen", "unfreeze": "active", "closure": "closed"][action.rawValue]!
                } else {
                    expected = action == .unfreeze && status == .frozen && !consent ? "consent-required" : "invalid-transition"
                }
                #expect(result == expected, "\(action) from \(status) with consent \(consent)")
            }
        }
        #expect(verdict({ () throws(DomainError) in try action.decide(from: nil, creditLineConsentActive: true) })
            == "not-found")
    }
}

/// Scoring needs an open account and the credit_assessment consent in force.
@Suite struct ScoringEligibilityTable {
    @Test(arguments: AccountStatus.allCases)
    func everyStatusWithAndWithoutConsent(status: AccountStatus) {
        for consent in [true, false] {
            let result = verdict { () throws(DomainError) in
                try ScoringEligibility.check(accountStatus: status, assessmentConsentActive: consent)
            }
            let expected = [.closed, .chargedOff].contains(status) ? "account-closed" : consent ? "ok" : "consent-required"
            #expect(result == expected, "\(status) with consent \(consent)")
        }
    }

    @Test func aMissingAccountIsNotFound() {
        #expect(verdict { () throws(DomainError) in
            try ScoringEligibility.check(accountStatus: nil, assessmentConsentActive: true)
        } == "not-found")
    }
}

/// One consent per purpose in force, none for a closed account.
@Suite struct ConsentGrantTable {
    static let grant = ConsentRules.Grant(
        purpose: .creditLine, noticeVersion: "2026-11", noticeSHA256: String(repeating: "ab", count: 32), channel: .app,
        method: .explicitOptIn, evidence: nil, expiresAt: Fixtures.now.adding(days: 365))

    @Test(arguments: AccountStatus.allCases)
    func everyStatusWithAndWithoutAnActiveConsent(status: AccountStatus) {
        for active in [nil, "con_old"] {
            let result = verdict { () throws(DomainError) in
                try ConsentRules.checkGrant(Self.grant, accountStatus: status, activeConsentID: active)
            }
            let expected = [.closed, .chargedOff].contains(status) ? "account-closed"
                : active == nil ? "ok" : "consent-already-active"
            #expect(result == expected, "\(status), active consent \(active ?? "none")")
        }
    }

    @Test func aMissingAccountIsNotFound() {
        #expect(verdict { () throws(DomainError) in
            try ConsentRules.checkGrant(Self.grant, accountStatus: nil, activeConsentID: nil)
        } == "not-found")
    }
}

/// A contest opens once per decision at a time.
@Suite struct ContestTable {
    @Test(arguments: [
        (Fixtures.decision() as Decision?, nil as String?, "ok"),
        (Fixtures.decision(), "rev_open", "review-already-open"),
        (nil, nil, "not-found"),
    ])
    func contest(decision: Decision?, open: String?, expected: String) {
        #expect(verdict { () throws(DomainError) in
            try ReviewRules.checkContest(decision: decision, openContestID: open)
        } == expected)
    }
}

/// If-Match (RFC 9110 §13.1.1): the named version, or any version for `*`, of an existing account.
@Suite struct AccountVersionTable {
    @Test(arguments: [
        (3 as Int?, 3 as Int?, "ok"), (3, 4, "version-mismatch"), (nil, 4, "ok"), (3, nil, "not-found"),
        (nil, nil, "not-found"),
    ])
    func precondition(expected: Int?, current: Int?, result: String) {
        #expect(verdict { () throws(DomainError) in
            try AccountVersion(accountID: "acc_1", version: expected).check(current: current)
        } == result)
    }

    @Test func aStaleVersionIsItsOwnKind() {
        do {
            try AccountVersion(accountID: "acc_1", version: 1).check(current: 2)
            Issue.record("a stale version passed")
        } catch {
            #expect(error.kind == .staleVersion)
        }
    }
}

/// Whose word a limit change rests on (README "Activation, reviews and limits"): the customer's
/// own confirmation is needed when they asked, and for every increase said to be accepted by
/// them, whoever sends it; and compliance check 5 holds an increase only with that confirmation.
@Suite struct CustomerWordTable {
    static let confirmation: [(LimitPolicy.Initiator, Bool, LimitPolicy.Direction, Bool)] = [
        (.customer, false, .increase, true),
        (.customer, false, .decrease, true),
        (.customer, true, .increase, true),
        (.operator, true, .increase, true),  // "the customer accepted", in an operator's words
        (.system, true, .increase, true),
        (.operator, true, .decrease, false),
        (.operator, false, .decrease, false),
        (.system, false, .decrease, false),
        (.operator, false, .increase, false),  // refused anyway: acceptance-required
    ]

    @Test(arguments: confirmation)
    func confirmationIsRequired(_ row: (LimitPolicy.Initiator, Bool, LimitPolicy.Direction, Bool)) {
        #expect(CustomerConfirmation.isRequired(initiatedBy: row.0, customerAccepted: row.1, direction: row.2) == row.3,
                "\(row)")
    }

    @Test(arguments: [
        (true, false, true, true), (true, false, false, false), (false, true, true, true), (false, true, false, false),
        (true, true, true, true), (false, false, true, false), (false, false, false, false),
    ])
    func checkFive(accepted: Bool, initiated: Bool, confirmed: Bool, holds: Bool) {
        #expect(ComplianceRules.increase(customerAccepted: accepted, customerInitiated: initiated, confirmed: confirmed) == holds)
    }

    @Test(arguments: [(true, false, true), (true, true, true), (false, true, true), (false, false, false)])
    func checkFiveForTerms(noDearer: Bool, confirmed: Bool, holds: Bool) {
        #expect(ComplianceRules.termsChange(noDearer: noDearer, confirmed: confirmed) == holds)
    }
}

/// Check 7 and 8c of the compliance report (README "Data governance"): a notice is on time when
/// delivered by its deadline, and a report backdated past the grace is an anomaly.
@Suite struct NoticeTimelinessTable {
    static let due = Fixtures.now

    @Test(arguments: [
        ("delivered before", Optional(-3_600), 0, true), ("delivered at the deadline", Optional(0), 0, true),
        ("delivered a second late", Optional(1), 0, false), ("delivered eleven days late", Optional(950_400), 0, false),
        ("not delivered, not yet due", nil, -1, true), ("not delivered, due now", nil, 0, false),
        ("not delivered, overdue", nil, 86_400, false),
    ] as [(String, Int64?, Int64, Bool)])
    func onTime(label: String, deliveredOffset: Int64?, nowOffset: Int64, expected: Bool) {
        let delivered = deliveredOffset.map { Self.due.adding(seconds: $0) }
        #expect(ComplianceRules.noticeOnTime(dueBy: Self.due, deliveredAt: delivered, now: Self.due.adding(seconds: nowOffset))
                == expected, "\(label)")
    }

    @Test(arguments: [(0, false), (24 * 3600, false), (24 * 3600 + 1, true), (3 * 86_400, true)] as [(Int64, Bool)])
    func backdated(secondsBefore: Int64, expected: Bool) {
        #expect(ComplianceRules.isBackdatedReport(deliveredAt: Self.due.adding(seconds: -secondsBefore), receivedAt: Self.due,
                                                  graceHours: 24) == expected)
    }
}

/// Check 9 of the compliance report (README "The customer's own pages"): a consent recorded by a
/// page carries its whole evidence, and its link agrees.
@Suite struct PageEvidenceTable {
    static let acted = Fixtures.now
    static let page = String(repeating: "a", count: 64)
    static let complete = ComplianceRules.PageEvidenceFacts(
        consentID: "con_1", actedAt: acted, linkID: "lnk_1", locale: "zh-CN", pageSHA256: page,
        shownAt: acted.adding(seconds: -40), linkUsedAt: acted, linkSubjectID: "con_1", linkPageSHA256: page)

    static func with(_ change: (inout ComplianceRules.PageEvidenceFacts) -> Void) -> ComplianceRules.PageEvidenceFacts {
        var facts = complete
        change(&facts)
        return facts
    }

    @Test(arguments: [
        ("complete", complete, true),
        ("shown the moment it was acted on", with { $0.shownAt = acted }, true),
        ("no link", with { $0.linkID = nil }, false),
        ("no language", with { $0.locale = nil }, false),
        ("a language never published", with { $0.locale = "fr" }, false),
        ("no page hash", with { $0.pageSHA256 = nil }, false),
        ("a page hash that is not one", with { $0.pageSHA256 = "ab"; $0.linkPageSHA256 = "ab" }, false),
        ("never shown", with { $0.shownAt = nil }, false),
        ("shown after the act", with { $0.shownAt = acted.adding(seconds: 1) }, false),
        ("the link never used", with { $0.linkUsedAt = nil }, false),
        ("the link used at another moment", with { $0.linkUsedAt = acted.adding(seconds: -1) }, false),
        ("the link used for another record", with { $0.linkSubjectID = "con_2" }, false),
        ("the link on another page", with { $0.linkPageSHA256 = String(repeating: "b", count: 64) }, false),
    ] as [(String, ComplianceRules.PageEvidenceFacts, Bool)])
    func checkNine(_ label: String, _ facts: ComplianceRules.PageEvidenceFacts, _ holds: Bool) {
        #expect(ComplianceRules.pageEvidence(facts) == holds, "\(label)")
    }

    @Test(arguments: [(0, 0, nil), (0, 3, 0), (2, 3, 67), (1, 3, 33), (1, 2, 50), (1, 200, 1), (1, 201, 0), (3, 3, 100)]
          as [(Int, Int, Int?)])
    func share(_ part: Int, _ whole: Int, _ percent: Int?) {
        #expect(ComplianceRules.percent(part, of: whole) == percent, "\(part) of \(whole)")
    }
}

/// Check 10 of the compliance report (README "Ability to repay"): a limit within what the
/// customer could repay when it was set.
@Suite struct LimitWithinCapTable {
    @Test(arguments: [
        (500_000, Optional(500_000), Optional(50_000), Optional(true)),
        (500_001, Optional(500_000), Optional(50_000), Optional(false)),
        (50_000, nil, Optional(50_000), Optional(true)),  // the starter limit, no assessment
        (50_001, nil, Optional(50_000), Optional(false)),  // above it without one
        (900_000, Optional(1_000_000), nil, Optional(true)),  // an increase: no starter limit applies
        (900_000, nil, nil, nil),  // recorded before the rule: not judged
    ] as [(Int, Int?, Int?, Bool?)])
    func checkTen(_ limit: Int, _ affordable: Int?, _ starter: Int?, _ holds: Bool?) {
        #expect(ComplianceRules.limitWithinCap(limit: limit, affordableLimit: affordable, starterLimit: starter) == holds)
    }
}
