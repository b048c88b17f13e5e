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

    /// A limit offer's notice states when it lapses; an entry without that date writes no
    /// notice with a made-up one, and the write that recorded it fails.
    /// An amount or a count a notice quotes and the entry lacks fails the notice: never 0.
    @Test(arguments: [
        (AuditAction.limitAdjusted, ["notice_due": JSONValue.bool(true), "direction": "decrease", "old_limit": .int(100)],
         "new_limit"),
        (.accountActivated, [:], "credit_limit"),
        (.limitOfferCreated, ["offered_limit": .int(200), "expires_at": "2026-12-25T10:00:00.000Z"], "current_limit"),
        (.accountDelinquencyChanged, ["notice_due": .bool(true)], "days_past_due"),
    ] as [(AuditAction, [String: JSONValue], String)])
    func aMissingAmountFailsTheNotice(action: AuditAction, detail: [String: JSONValue], key: String) {
        #expect(throws: NoticeRules.MissingFact(action: action, key: key)) {
            try NoticeRules.drafts(for: action, detail: detail, now: Fixtures.now, settings: Self.settings)
        }
    }

    @Test func aLimitOfferWithoutItsExpiryIsRefused() throws {
        let detail: [String: JSONValue] = ["current_limit": .int(100), "offered_limit": .int(200)]
        #expect(throws: NoticeRules.MissingFact(action: .limitOfferCreated, key: "expires_at")) {
            try NoticeRules.drafts(for: .limitOfferCreated, detail: detail, now: Fixtures.now, settings: Self.settings)
        }
        var complete = detail
        complete["expires_at"] = .string(Fixtures.now.adding(days: 30).rfc3339)
        let drafts = try NoticeRules.drafts(for: .limitOfferCreated, detail: complete, now: Fixtures.now, settings: Self.settings)
        #expect(drafts.map(\.values["expires_on"]) == [.date(CivilDate(Fixtures.now.adding(days: 30)))])
    }

    @Test(arguments: [
        (AuditAction.accountActivated, ["credit_limit": JSONValue.int(100)], ["activation_confirmation"]),
        (.accountDeclined, ["reason_codes": .array(["R01", "R02", "R03", "R04", "R05"].map(JSONValue.string))], ["adverse_action"]),
        (.reviewResolved, ["kind": "activation", "stage": "first_approval", "credit_limit": .int(1)], []),
        (.reviewResolved, ["kind": "contest", "outcome": "upheld"], ["review_outcome_upheld"]),
        (.reviewResolved, ["kind": "activation", "outcome": "approved", "credit_limit": .int(1)], ["review_outcome_approved"]),
        (.limitAdjusted, ["notice_due": .bool(false), "direction": "increase"], []),
        (.limitAdjusted, ["notice_due": .bool(true), "direction": "decrease", "old_limit": .int(200), "new_limit": .int(100)],
         ["limit_change_decrease"]),
        (.accountFrozen, ["cause": "consent_withdrawal"], []),
        (.accountFrozen, ["cause": "operator_freeze"], ["line_frozen"]),
        (.accountUnfrozen, ["cause": "operator_unfreeze"], ["line_unfrozen"]),
        (.accountDelinquencyChanged, ["notice_due": .bool(false), "days_past_due": .int(5)], []),
        (.accountDelinquencyChanged, ["notice_due": .bool(true), "days_past_due": .int(31)], ["pre_report_warning"]),
        (.drawCreated, ["amount": .int(1)], []),
        (.consentGranted, [:], []),
    ])
    func whichChangesAreTold(_ action: AuditAction, _ detail: [String: JSONValue], _ expected: [String]) throws {
        let drafts = try NoticeRules.drafts(for: action, detail: detail, now: Fixtures.now, settings: Self.settings)
        #expect(drafts.map(\.template) == expected)
        for draft in drafts {
            let days = draft.kind == .preReportWarning ? 7 : 1
            #expect(draft.dueBy == Fixtures.now.adding(days: days))
            #expect(NoticeTemplates.placeholders[draft.template]?.isSuperset(of: draft.values.keys) == true,
                    "\(draft.template) is given a value its template may not show")
        }
        if action == .accountDeclined, case .reasons(let codes)? = drafts.first?.values["reasons"] {
            #expect(codes == ["R01", "R02", "R03", "R04"])
        }
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
