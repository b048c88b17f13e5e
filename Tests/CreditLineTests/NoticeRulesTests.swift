import Foundation
import Testing
@testable import CreditLine

/// Which changes make a notice due, what the templates may say, and webhook retry timing
/// (README "Events and notices").
@Suite struct NoticeRulesTests {
    static let settings = NoticeRules.Settings(coolingOffDays: 14, declineCoolOffDays: 30)

    static func templates(_ locale: String = "en", change: (inout [String: String]) -> Void = { _ in },
                          reasons: [String: String] = ["R01": "Short history"]) throws(ScorecardError) -> NoticeTemplates
    {
        var texts: [String: String] = [:]
        for (key, names) in NoticeTemplates.placeholders {
            texts[key] = key + names.sorted().map { " {\($0)}" }.joined()
        }
        change(&texts)
        let file: [String: Any] = ["locale": locale, "version": "t1", "templates": texts, "reasons": reasons]
        return try NoticeTemplates(json: try! JSONSerialization.data(withJSONObject: file), reasonCodes: ["R01"])
    }

    static let offer = DomainEvent.limitOfferCreated(LimitOfferCreated(
        decisionID: "dec_1", currentLimit: 100, offeredLimit: 200, expiresAt: Fixtures.now.adding(days: 30),
        portfolioReviewID: "prv_1", reasonCode: nil))
    static let activated = DomainEvent.accountActivated(AccountActivated(
        from: .prospect, tier: .a, creditLimit: 100,
        path: .request(decisionID: "dec_1", consentID: "con_1", termsVersion: "2026-11")))
    static let delinquent = DomainEvent.delinquencyChanged(DelinquencyChange(from: .dpd1To30, to: .dpd31To60, daysPastDue: 31))
    static let lowered = DomainEvent.limitAdjusted(LimitAdjusted(
        oldLimit: 200, newLimit: 100, direction: .decrease, initiatedBy: .operator, customerAccepted: false,
        reasonCode: "risk_deterioration", cause: .request(hasNote: false)))

    /// A fact a notice quotes (an amount, a count, a date) and the entry lacks fails the notice,
    /// and the write that recorded the entry: never 0, never a made-up date.
    @Test(arguments: [
        (lowered, "new_limit"), (activated, "credit_limit"), (offer, "current_limit"), (offer, "expires_at"),
        (delinquent, "days_past_due"),
    ] as [(DomainEvent, String)])
    func aMissingFactFailsTheNotice(event: DomainEvent, key: String) throws {
        var detail = event.auditDetail
        #expect(detail.removeValue(forKey: key) != nil)
        #expect(throws: NoticeRules.MissingFact(action: event.action, key: key)) {
            try NoticeRules.drafts(for: event.action, detail: detail, now: Fixtures.now, settings: Self.settings)
        }
        detail[key] = .string("not a \(key)")
        #expect(throws: NoticeRules.MissingFact(action: event.action, key: key)) {
            try NoticeRules.drafts(for: event.action, detail: detail, now: Fixtures.now, settings: Self.settings)
        }
    }

    @Test func anOffersNoticeSaysWhenItLapses() throws {
        let drafts = try NoticeRules.drafts(for: .limitOfferCreated, detail: Self.offer.auditDetail, now: Fixtures.now,
                                            settings: Self.settings)
        #expect(drafts.map(\.values["expires_on"]) == [.date(CivilDate(Fixtures.now.adding(days: 30)))])
    }

    static let reasons = ["R01", "R02", "R03", "R04", "R05"]

    @Test(arguments: [
        (activated, ["activation_confirmation"]),
        (.accountDeclined(AccountDeclined(from: .prospect, reasonCodes: reasons,
                                          path: .request(decisionID: "dec_1", consentID: "con_1", termsVersion: "2026-11"),
                                          tier: .e)), ["adverse_action"]),
        (.accountDeclined(AccountDeclined(from: .pendingReview, reasonCodes: reasons,
                                          path: .reviewResolution(reviewID: "rev_1"))), ["adverse_action"]),
        (.reviewResolved(.firstApproval(creditLimit: 1)), []),
        (.reviewResolved(.contest(upheld: true, decisionID: "dec_1")), ["review_outcome_upheld"]),
        (.reviewResolved(.contest(upheld: false, decisionID: "dec_1")), ["review_outcome_rejected"]),
        (.reviewResolved(.activationApproved(creditLimit: 1, secondApprover: true)), ["review_outcome_approved"]),
        (.reviewResolved(.activationDeclined), ["review_outcome_declined"]),
        (.limitAdjusted(LimitAdjusted(oldLimit: 100, newLimit: 200, direction: .increase, initiatedBy: .customer,
                                      customerAccepted: false, reasonCode: "customer_request",
                                      cause: .request(hasNote: false))), []),
        (lowered, ["limit_change_decrease"]),
        (.accountTransitioned(AccountTransitioned(action: .accountFrozen, from: .active, to: .frozen,
                                                  cause: .consentWithdrawal, reason: .consentEnd)), []),
        (.accountTransitioned(AccountTransitioned(action: .accountFrozen, from: .active, to: .frozen,
                                                  cause: .consentExpiry, reason: .consentEnd)), ["line_frozen_consent_expired"]),
        (.accountTransitioned(AccountTransitioned(action: .accountFrozen, from: .active, to: .frozen, cause: .operatorFreeze,
                                                  reason: .operatorAction(reasonCode: "card_lost", hasNote: true))),
         ["line_frozen"]),
        (.accountTransitioned(AccountTransitioned(action: .accountFrozen, from: .active, to: .frozen, cause: .periodicReview,
                                                  reason: .periodicReview(reviewID: "prv_1", decisionID: "dec_1",
                                                                          reasonCodes: reasons))),
         ["line_frozen_review"]),
        (.accountTransitioned(AccountTransitioned(action: .accountUnfrozen, from: .frozen, to: .active,
                                                  cause: .operatorUnfreeze,
                                                  reason: .operatorAction(reasonCode: "customer_request", hasNote: false))),
         ["line_unfrozen"]),
        (.termsAccepted(TermsAccepted(termsVersion: "2026-11", decisionID: "dec_1", tier: .b, previousTier: .a,
                                      noDearer: false, interestFreeDays: 30)), ["terms_change_dearer"]),
        (.termsAccepted(TermsAccepted(termsVersion: "2026-11", decisionID: "dec_1", tier: .a, previousTier: .b,
                                      noDearer: true, interestFreeDays: 50)), ["terms_change"]),
        (.delinquencyChanged(DelinquencyChange(from: .current, to: .dpd1To30, daysPastDue: 5)), []),
        (delinquent, ["pre_report_warning"]),
        (.consentEnded(ConsentEnded(purpose: .creditLine, how: .withdrawn(channel: .app), effects: [.accountFrozen])), []),
    ] as [(DomainEvent, [String])])
    func whichChangesAreTold(_ event: DomainEvent, _ expected: [String]) throws {
        // The entry read back owes what the event owes.
        #expect(try DomainEvent.decode(event.action, auditDetail: event.auditDetail) == event)
        let drafts = try NoticeRules.drafts(for: event.action, detail: event.auditDetail, now: Fixtures.now,
                                            settings: Self.settings)
        #expect(drafts == event.notices(now: Fixtures.now, settings: Self.settings))
        #expect(drafts.map(\.template) == expected)
        for draft in drafts {
            let days = draft.kind == .preReportWarning ? 7 : 1
            #expect(draft.dueBy == Fixtures.now.adding(days: days))
            #expect(NoticeTemplates.placeholders[draft.template]?.isSuperset(of: draft.values.keys) == true,
                    "\(draft.template) is given a value its template may not show")
            if case .reasons(let codes)? = draft.values["reasons"] {
                #expect(codes == ["R01", "R02", "R03", "R04"])
            }
        }
    }

    /// The customer asked for these, or was told another way; the service's own records are no
    /// customer's.
    @Test(arguments: [
        (AuditAction.drawCreated, DomainEvent.fact(.drawCreated(amount: 1, planMonths: nil, fees: 0, instalments: 1, balance: 1,
                                                                availableCredit: 0)).auditDetail),
        (.consentGranted, DomainEvent.fact(.consentGranted(purpose: .creditLine, noticeVersion: "2026-11", noticeSHA256: "ab",
                                                           channel: .app, method: .explicitOptIn,
                                                           expiresAt: Fixtures.now)).auditDetail),
        (.keyCreated, ["role": "service", "tenant": .null, "person_named": false]),
    ] as [(AuditAction, [String: JSONValue])])
    func factsOweNothing(_ action: AuditAction, _ detail: [String: JSONValue]) throws {
        #expect(try NoticeRules.drafts(for: action, detail: detail, now: Fixtures.now, settings: Self.settings).isEmpty)
    }

    @Test func aConsentsEndIsDueBeforeIt() {
        let ends = Fixtures.now.adding(days: 20)
        let draft = NoticeRules.consentExpiring(purpose: .creditLine, expiresAt: ends)
        #expect(draft.template == "consent_expiring_credit_line")
        #expect(draft.dueBy == ends)
    }

    @Test func templatesAreCheckedWhenLoaded() throws {
        #expect(throws: ScorecardError.self) { try Self.templates { $0["line_frozen"] = nil } }
        #expect(throws: ScorecardError.self) { try Self.templates { $0["line_frozen"] = "frozen {credit_limit}" } }
        #expect(throws: ScorecardError.self) { try Self.templates { $0["surprise"] = "hello" } }
        #expect(throws: ScorecardError.self) { try Self.templates(reasons: [:]) }
        #expect(throws: ScorecardError.self) { try Self.templates("fr") }
        #expect(try Self.templates().version == "t1")
    }

    @Test(arguments: [(0, "0.00"), (5, "0.05"), (100, "1.00"), (123_456_789, "1,234,567.89"), (100_000_000, "1,000,000.00")])
    func amountsAreYuanToTheFen(_ fen: Int, _ shown: String) throws {
        let english = try Self.templates()
        let chinese = try Self.templates("zh-CN")
        let draft = NoticeDraft(kind: .limitChange, template: "limit_change_increase",
                                values: ["old_limit": .amount(fen), "new_limit": .amount(7)], dueBy: Fixtures.now)
        #expect(english.render(draft) == "limit_change_increase CNY 0.07 CNY \(shown)")
        #expect(chinese.render(draft) == "limit_change_increase 0.07 元 \(shown) 元")
    }

    @Test func datesAndReasonsReadNaturally() throws {
        let draft = NoticeDraft(kind: .adverseAction, values: [
            "reasons": .reasons(["R01", "R99"]), "reapply_on": .date(CivilDate(year: 2026, month: 12, day: 5)!),
        ], dueBy: Fixtures.now)
        #expect(try Self.templates().render(draft) == "adverse_action 2026-12-05 - Short history\n- R99")
        #expect(try Self.templates("zh-CN").render(draft).hasPrefix("adverse_action 2026年12月5日 "))
    }

    @Test(arguments: [
        (nil, 0, NoticeStatus.pending), (nil, 2, .overdue), (0, 2, .delivered), (nil, 1, .pending),
    ] as [(Int?, Int, NoticeStatus)])
    func statusFollowsTheDeadline(_ deliveredAfterDays: Int?, _ nowAfterDays: Int, _ expected: NoticeStatus) {
        let created = Fixtures.now
        let status = NoticeStatus.of(deliveredAt: deliveredAfterDays.map { created.adding(days: $0) },
                                     dueBy: created.adding(days: 1), now: created.adding(days: nowAfterDays))
        #expect(status == expected)
    }

    @Test func deliveryReports() {
        let created = Fixtures.now
        func check(_ delivered: Timestamp?, _ reported: Timestamp, exists: Bool = true) -> String {
            verdict { () throws(DomainError) in
                try NoticeDelivery.check(createdAt: exists ? created : nil, deliveredAt: delivered, reported: reported,
                                         now: created.adding(days: 1))
            }
        }
        #expect(check(nil, created) == "ok")
        #expect(check(nil, created.adding(days: 1).adding(seconds: 299)) == "ok")
        #expect(check(nil, created.adding(days: 1).adding(seconds: 301)) == "invalid-field delivered_at")
        #expect(check(nil, created.adding(seconds: -1)) == "invalid-field delivered_at")
        #expect(check(created, created) == "notice-already-delivered")
        #expect(check(nil, created, exists: false) == "not-found")
    }

    @Test(arguments: [
        (1, 0.0, 500), (1, 1.0, 1000), (2, 1.0, 2000), (3, 0.5, 3000), (13, 1.0, 3_600_000), (200, 1.0, 3_600_000),
        (0, 1.0, 1000),
    ])
    func retriesBackOffToAnHour(_ attempts: Int, _ jitter: Double, _ expected: Int) {
        #expect(WebhookRules.delayMilliseconds(afterAttempts: attempts, baseMilliseconds: 1000, jitter: jitter) == expected)
    }

    @Test func theRetryWindowCloses() {
        let start = Fixtures.now
        #expect(!WebhookRules.isExhausted(windowStart: start, now: start.adding(seconds: 24 * 3600 - 1), retryHours: 24))
        #expect(WebhookRules.isExhausted(windowStart: start, now: start.adding(seconds: 24 * 3600), retryHours: 24))
    }

    @Test func subscriptionsNameEvents() {
        #expect(verdict({ () throws(DomainError) in try WebhookRules.eventTypes(["account.activated", "account.activated"]) },
                        { "\($0.count)" }) == "1")
        #expect(verdict { () throws(DomainError) in try WebhookRules.eventTypes([]) } == "invalid-field event_types")
        #expect(verdict { () throws(DomainError) in try WebhookRules.eventTypes(["key.created"]) } == "invalid-field event_types")
        #expect(verdict { () throws(DomainError) in try WebhookRules.eventTypes(["nope"]) } == "invalid-field event_types")
    }

    @Test(arguments: [
        ("http://127.0.0.1:8080/hook", [String](), "ok"), ("http://[::1]/hook", [], "ok"), ("https://localhost/x", [], "ok"),
        ("http://127.0.0.2/hook", [], "webhook-host-not-allowed url"), ("http://LOCALHOST/x", [], "ok"),
        ("https://hooks.example.com/x", ["hooks.example.com"], "ok"),
        ("https://evil.hooks.example.com/x", ["hooks.example.com"], "webhook-host-not-allowed url"),
        ("gopher://127.0.0.1/", [], "invalid-field url"), ("http:///nohost", [], "invalid-field url"),
        ("http://a:b@127.0.0.1/", [], "invalid-field url"),
    ])
    func endpointURLs(_ url: String, _ allowed: [String], _ expected: String) {
        #expect(verdict { () throws(DomainError) in try WebhookRules.validate(url: url, allowedHosts: allowed) } == expected)
    }
}

/// The console's session clock (README "Console"): 30 minutes idle, 8 hours at most, ended when
/// signed out; only people sign in.
@Suite struct ConsoleSessionRulesTests {
    static let start = Timestamp(rfc3339: "2026-11-26T08:00:00.000Z")!

    @Test(arguments: [
        (0, 0, false, true), (29, 29, false, true), (30, 30, false, false), (120, 20, false, true),
        (479, 10, false, true), (480, 10, false, false), (10, 5, true, false),
    ] as [(Int, Int, Bool, Bool)])
    func liveness(minutesSinceStart: Int, minutesSinceLastSeen: Int, ended: Bool, live: Bool) {
        let now = Self.start.adding(seconds: Int64(minutesSinceStart) * 60)
        let seen = now.adding(seconds: -Int64(minutesSinceLastSeen) * 60)
        #expect(ConsoleSessionRules.isLive(createdAt: Self.start, lastSeenAt: seen, endedAt: ended ? now : nil, now: now) == live)
    }

    @Test func onlyPeopleSignIn() {
        #expect(Role.allCases.filter(ConsoleSessionRules.maySignIn) == [.operator, .auditor, .risk])
    }
}
