import CreditLine
import Foundation
import GRDB
import Testing
@testable import CreditAPI
@testable import CreditStore

/// Each notice kind from a real flow over sockets, in both locales (README "Events and notices").
@Suite struct NoticeTests {
    func notices(_ service: TestService, _ account: String) async throws -> [[String: Any]] {
        try await service.call("GET", "/v1/accounts/\(account)/notices").json["items"] as? [[String: Any]] ?? []
    }

    /// An account in `locale` with both consents and a decision from `features`.
    func prepare(_ service: TestService, _ ref: String, locale: String, features: String = LineTests.tierA) async throws
        -> LineTests.Journey
    {
        let journey = try await LineTests().prepare(service, ref, features: features, locale: locale)
        #expect(try await service.call("GET", "/v1/accounts/\(journey.account)").json["locale"] as? String == locale)
        return journey
    }

    func kinds(_ service: TestService, _ account: String) async throws -> [String] {
        try await notices(service, account).compactMap { $0["kind"] as? String }
    }

    @Test(arguments: ["zh-CN", "en"])
    func activationAndLineChangesAreToldInTheCustomersLanguage(locale: String) async throws {
        let service = try TestService()
        let journey = try await prepare(service, "told-\(locale)", locale: locale)
        #expect(try await LineTests().activate(service, journey, limit: #","requested_limit":1000000"#).status == 200)
        var told = try await notices(service, journey.account)
        #expect(told.count == 1)
        let confirmation = try #require(told.first)
        #expect(confirmation["kind"] as? String == "activation_confirmation")
        #expect(confirmation["locale"] as? String == locale)
        #expect(confirmation["status"] as? String == "pending")
        #expect(confirmation["template_version"] as? String == "2026-12-07")
        let text = try #require(confirmation["text"] as? String)
        #expect(text.contains(locale == "en" ? "CNY 10,000.00" : "10,000.00 元"), "\(text)")
        // Every plan's price with its annual rate beside it: tier A's 6 months at 45 bps is 9.20 % a year.
        #expect(text.contains(locale == "en" ? "- 6 months: 0.45% a month, 9.20% a year" : "- 6 期:月费率 0.45%,年化利率 9.20%"),
                "\(text)")
        #expect(!text.contains("{"), "a placeholder left unfilled: \(text)")
        // Ability to repay: the repayment of the whole limit beside the income declared, and why.
        #expect(text.contains(locale == "en" ? "you told us you earn CNY 50,000.00 a month" : "您申报的月收入为 50,000.00 元"), "\(text)")
        #expect(text.contains(locale == "en" ? "- the amount you asked for" : "- 按您自己申请的金额"), "\(text)")
        let created = try #require(Timestamp(rfc3339: confirmation["created_at"] as? String ?? ""))
        #expect(confirmation["due_by"] as? String == created.adding(days: 1).rfc3339)

        // A limit the customer asked for: no notice. One they did not: a notice.
        _ = try await service.call("POST", "/v1/accounts/\(journey.account)/limit-adjustments",
                             body: #"{"new_limit":900000,"reason_code":"customer_request","note":"asked","initiated_by":"customer","customer_confirmation":{"channel":"app","method":"explicit_opt_in","notice_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}"#)
        _ = try await service.call("POST", "/v1/accounts/\(journey.account)/limit-adjustments", role: .operator,
                             body: #"{"new_limit":500000,"reason_code":"risk_deterioration","note":"risk","initiated_by":"operator"}"#)
        _ = try await service.call("POST", "/v1/accounts/\(journey.account)/freeze", role: .operator, body: #"{"reason_code":"other","note":"x"}"#)
        _ = try await service.call("POST", "/v1/accounts/\(journey.account)/unfreeze", role: .operator, body: #"{"reason_code":"other","note":"x"}"#)
        // The customer's own withdrawal freezes the line: that is no news to them.
        _ = try await service.call("POST", "/v1/consents/\(journey.lineConsent)/withdrawal", body: #"{"channel":"app"}"#)
        #expect(try await kinds(service, journey.account)
                == ["activation_confirmation", "limit_change", "line_frozen", "line_unfrozen"])
        told = try await notices(service, journey.account)
        let change = try #require(told.first { $0["kind"] as? String == "limit_change" }?["text"] as? String)
        #expect(change.contains(locale == "en" ? "CNY 9,000.00" : "9,000.00 元") && change.contains(locale == "en" ? "CNY 5,000.00" : "5,000.00 元"))

        // The chain holds each notice's hash, never its text.
        let entries = try service.store.database.read { db in
            try String.fetchAll(db, sql: "SELECT detail FROM audit_log WHERE action = 'notice.created' AND account_id = ?",
                                arguments: [journey.account])
        }
        #expect(entries.count == 4)
        #expect(entries.allSatisfy { $0.contains("content_sha256") && !$0.contains("10,000") })
        let hash = Hashing.sha256Hex(Data(text.utf8))
        #expect(confirmation["content_sha256"] as? String == hash)
        #expect(entries.contains { $0.contains(hash) })
        await service.stop()
    }

    @Test(arguments: ["zh-CN", "en"])
    func aDeclineSaysWhyAndHowToContest(locale: String) async throws {
        let service = try TestService()
        let journey = try await prepare(service, "declined-\(locale)", locale: locale, features: LineTests.tierE)
        #expect(try await LineTests().activate(service, journey).json["outcome"] as? String == "declined")
        let notice = try #require(try await notices(service, journey.account).first)
        #expect(notice["kind"] as? String == "adverse_action")
        let text = try #require(notice["text"] as? String)
        #expect(text.contains(locale == "en" ? "- Late repayments in the last 12 months" : "- 近 12 个月有逾期还款"), "\(text)")
        #expect(text.contains(locale == "en" ? "ask for a person to review" : "申请人工复核"))
        // The decision's four main reasons, no more.
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("- ") }.count == 4)
        await service.stop()
    }

    @Test(arguments: ["zh-CN", "en"])
    func reviewsEndWithANotice(locale: String) async throws {
        let service = try TestService()
        // An activation review, approved by an operator.
        let pending = try await prepare(service, "reviewed-1", locale: locale, features: LineTests.tierD)
        let review = try #require(try await LineTests().activate(service, pending).json["review_id"] as? String)
        #expect(try await kinds(service, pending.account) == [])
        _ = try await service.call("POST", "/v1/reviews/\(review)/resolution", role: .operator,
                             body: #"{"approve":true,"note":"checked"}"#)
        let pendingKinds = try await kinds(service, pending.account)
        #expect(pendingKinds == ["review_outcome", "activation_confirmation"]
                || pendingKinds == ["activation_confirmation", "review_outcome"])
        // A review declined: the outcome and the adverse action with the decision's reasons.
        let refused = try await prepare(service, "reviewed-2", locale: locale, features: LineTests.tierD)
        let second = try #require(try await LineTests().activate(service, refused).json["review_id"] as? String)
        _ = try await service.call("POST", "/v1/reviews/\(second)/resolution", role: .operator,
                             body: #"{"approve":false,"note":"no"}"#)
        #expect(Set(try await kinds(service, refused.account)) == ["review_outcome", "adverse_action"])
        let adverse = try #require(try await notices(service, refused.account).first { $0["kind"] as? String == "adverse_action" })
        #expect((adverse["text"] as? String)?.contains("- ") == true)
        // A contest, upheld.
        let contested = try await prepare(service, "reviewed-3", locale: locale, features: LineTests.tierE)
        let contest = try await service.call("POST", "/v1/decisions/\(contested.decision)/review-requests",
                                       body: #"{"statement":"my orders are wrong"}"#)
        let contestID = try #require(contest.json["id"] as? String ?? contest.json["review_id"] as? String, "\(contest.text)")
        _ = try await service.call("POST", "/v1/reviews/\(contestID)/resolution", role: .operator,
                             body: #"{"approve":true,"note":"agreed"}"#)
        let outcome = try #require(try await notices(service, contested.account).first)
        #expect(outcome["kind"] as? String == "review_outcome")
        #expect((outcome["text"] as? String)?.contains(locale == "en" ? "agreed with you" : "认可您的意见") == true)
        await service.stop()
    }

    /// Time passes on the demo clock: a consent's end is announced 30 days ahead, a line 31 days
    /// behind gets its warning with 7 days to act, and a notice nobody delivered turns overdue.
    @Test(arguments: ["zh-CN", "en"])
    func deadlinesComeAndGo(locale: String) async throws {
        let clock = DemoClock()
        let service = try TestService(clock: clock)
        let journey = try await prepare(service, "deadline-1", locale: locale)
        #expect(try await LineTests().activate(service, journey, limit: #","requested_limit":1000000"#).status == 200)
        let confirmation = try #require(try await notices(service, journey.account).first?["id"] as? String)
        #expect(try await service.call("POST", "/v1/accounts/\(journey.account)/draws",
                                 body: #"{"amount":5000,"customer_selected":true}"#).status == 201)

        _ = try await service.call("POST", "/v1/demo/clock", role: .operator, body: #"{"advance_days":2}"#)
        var told = try await notices(service, journey.account)
        #expect(told.first?["status"] as? String == "overdue")
        let overdue = try await service.call("GET", "/v1/notices?status=overdue", role: .operator)
        #expect((overdue.json["items"] as? [[String: Any]])?.contains { $0["id"] as? String == confirmation } == true)
        let metrics = try await service.call("GET", "/metrics", role: nil).text
        #expect(metrics.contains("creditline_notices_overdue 1"), "\(metrics.split(separator: "\n").filter { $0.contains("notices") })")

        // Delivered late is still delivered; the first report stands.
        let now = clock.now().rfc3339
        let delivered = try await service.call("POST", "/v1/notices/\(confirmation)/delivery",
                                         body: #"{"channel":"app","delivered_at":"\#(now)"}"#)
        #expect(delivered.status == 200, "\(delivered.text)")
        #expect(delivered.json["status"] as? String == "delivered")
        let again = try await service.call("POST", "/v1/notices/\(confirmation)/delivery",
                                     body: #"{"channel":"app","delivered_at":"\#(now)"}"#)
        #expect(again.status == 409)
        #expect(again.json["code"] as? String == "notice-already-delivered")
        #expect(try await service.call("POST", "/v1/notices/\(confirmation)/delivery",
                                 body: #"{"channel":"pigeon","delivered_at":"\#(now)"}"#).status == 422)

        // 30 interest-free days, then 31 behind: the warning, due in 7 days.
        _ = try await service.call("POST", "/v1/demo/clock", role: .operator, body: #"{"advance_days":60}"#)
        told = try await notices(service, journey.account)
        let warning = try #require(told.first { $0["kind"] as? String == "pre_report_warning" })
        let created = try #require(Timestamp(rfc3339: warning["created_at"] as? String ?? ""))
        #expect(warning["due_by"] as? String == created.adding(days: 7).rfc3339)
        #expect((warning["text"] as? String)?.contains(locale == "en" ? "negative information may be reported" : "报送不良信息") == true)

        // The consents were granted for a year: their end is announced 30 days ahead, once.
        _ = try await service.call("POST", "/v1/demo/clock", role: .operator, body: #"{"advance_days":280}"#)
        _ = try await service.call("POST", "/v1/demo/clock", role: .operator, body: #"{"advance_days":1}"#)
        let expiring = try await notices(service, journey.account).filter { $0["kind"] as? String == "consent_expiring" }
        #expect(expiring.allSatisfy { $0["locale"] as? String == locale })
        let all = try await kinds(service, journey.account)
        #expect(expiring.count == 2, "\(all)")
        let consent = try await service.call("GET", "/v1/consents/\(journey.lineConsent)").json
        #expect(expiring.contains { $0["due_by"] as? String == consent["expires_at"] as? String })
        await service.stop()
    }

    /// A notice is never written in a language the customer did not choose: an account whose
    /// locale does not read (planted past SQLite's CHECK) fails the write that owes it a notice,
    /// whole, instead of falling back to another language.
    @Test(.sqliteFile) func anUnreadableLocaleFailsTheWriteThatOwesANotice() async throws {
        let service = try TestService()
        let journey = try await LineTests().prepare(service, "locale-unreadable")
        try service.store.database.write { db in
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            try db.execute(sql: "UPDATE accounts SET locale = 'xx' WHERE id = ?", arguments: [journey.account])
            try db.execute(sql: "PRAGMA ignore_check_constraints = OFF")
        }
        #expect(try await LineTests().activate(service, journey).status == 500)
        // Readable again, the account shows that nothing of the activation was kept.
        try service.store.database.write { db in
            try db.execute(sql: "UPDATE accounts SET locale = 'en' WHERE id = ?", arguments: [journey.account])
        }
        let account = try await service.call("GET", "/v1/accounts/\(journey.account)")
        #expect(account.status == 200)
        #expect(account.json["status"] as? String == "prospect")
        #expect(try await notices(service, journey.account).isEmpty)
        await service.stop()
    }

    @Test func deliveryReportsAreChecked() async throws {
        let service = try TestService()
        let journey = try await prepare(service, "report-1", locale: "zh-CN")
        _ = try await LineTests().activate(service, journey)
        let notice = try #require(try await notices(service, journey.account).first)
        let id = try #require(notice["id"] as? String)
        let created = try #require(Timestamp(rfc3339: notice["created_at"] as? String ?? ""))
        for (at, field) in [(created.adding(days: -1).rfc3339, "delivered_at"), (created.adding(days: 1).rfc3339, "delivered_at"),
                            ("yesterday", "delivered_at")]
        {
            let reply = try await service.call("POST", "/v1/notices/\(id)/delivery", body: #"{"channel":"sms","delivered_at":"\#(at)"}"#)
            #expect(reply.status == 422, "\(at)")
            #expect(reply.json["field"] as? String == field)
        }
        #expect(try await service.call("POST", "/v1/notices/ntc_none/delivery",
                                 body: #"{"channel":"sms","delivered_at":"\#(created.rfc3339)"}"#).status == 404)
        let other = try service.store.createKey(role: .service, name: "other", tenant: "other").token
        #expect(try await service.call("POST", "/v1/notices/\(id)/delivery", role: nil, token: other,
                                 body: #"{"channel":"sms","delivered_at":"\#(created.rfc3339)"}"#).status == 404)
        let ok = try await service.call("POST", "/v1/notices/\(id)/delivery", body: #"{"channel":"sms","delivered_at":"\#(created.rfc3339)"}"#)
        #expect(ok.status == 200)
        #expect(ok.json["channel"] as? String == "sms")
        let entry = try service.store.database.read { db in
            try String.fetchOne(db, sql: "SELECT detail FROM audit_log WHERE action = 'notice.delivered'")
        }
        #expect(entry?.contains(notice["content_sha256"] as? String ?? "?") == true)
        await service.stop()
    }
}
