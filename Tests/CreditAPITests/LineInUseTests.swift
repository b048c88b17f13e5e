import CreditLine
import Foundation
import GRDB
import Testing
@testable import CreditAPI
@testable import CreditStore

/// The line in use over real sockets: quotes, draws, repayments, delinquency on the demo clock,
/// statements, cancellation and charge-off (README "The line in use").
@Suite struct LineInUseTests {
    /// An active tier-A line (3, 6 and 12-month plans; 6 months at 45 bps a month) of `limit` fen.
    func openLine(_ service: TestService, _ ref: String, limit: Int = 1_000_000) async throws -> String {
        let journey = try await LineTests().prepare(service, ref)
        let reply = try await LineTests().activate(service, journey, limit: #","requested_limit":\#(limit)"#)
        #expect(reply.status == 200, "\(reply.text)")
        return journey.account
    }

    func draw(_ service: TestService, _ account: String, _ body: String, headers: [String: String] = [:]) async throws
        -> RawClient.Reply
    {
        try await service.call("POST", "/v1/accounts/\(account)/draws", body: body, headers: headers)
    }

    func repay(_ service: TestService, _ account: String, _ amount: Int) async throws -> RawClient.Reply {
        try await service.call("POST", "/v1/accounts/\(account)/repayments", body: #"{"amount":\#(amount)}"#)
    }

    func account(_ service: TestService, _ id: String) async throws -> [String: Any] {
        try await service.call("GET", "/v1/accounts/\(id)").json
    }

    func actions(_ service: TestService, _ account: String) async throws -> [String] {
        try await service.store.database.read { db in
            try String.fetchAll(db, sql: "SELECT action FROM audit_log WHERE account_id = ? ORDER BY seq",
                                arguments: [account])
        }
    }

    /// The README's journey: a draw on a plan, part repaid, 70 days on the demo clock put the
    /// first instalment 39–42 days behind, the next draw is refused, and repaying what is overdue
    /// brings the line back to current at once.
    @Test func theJourneyThroughDelinquencyAndBack() async throws {
        let clock = DemoClock()
        let service = try TestService(clock: clock)
        let id = try await openLine(service, "use-1")
        let opened = try await account(service, id)
        #expect(opened["balance"] as? Int == 0)
        #expect(opened["available_credit"] as? Int == 1_000_000)
        #expect(opened["delinquency"] as? String == "current")

        let quote = try await service.call("GET", "/v1/accounts/\(id)/draw-quote?amount=60000&plan_months=6")
        #expect(quote.status == 200, "\(quote.text)")
        #expect(quote.json["total_fees"] as? Int == 6 * 270)
        // 45 bps a month over 6 months: 5.4 % flat, 9.20 % a year (README "The line in use").
        #expect(quote.json["monthly_fee_bps"] as? Int == 45)
        #expect(quote.json["apr_bps"] as? Int == 920)
        #expect(quote.json["total_cost"] as? Int == 60_000 + 6 * 270)
        #expect((quote.json["instalments"] as? [[String: Any]])?.count == 6)
        #expect(try await service.call("GET", "/v1/accounts/\(id)").json["balance"] as? Int == 0)  // a quote writes nothing

        let drawn = try await draw(service, id, #"{"amount":60000,"plan_months":6,"merchant_ref":"order-1","customer_selected":true}"#)
        #expect(drawn.status == 201, "\(drawn.text)")
        let instalments = try #require(drawn.json["instalments"] as? [[String: Any]])
        #expect(instalments.map { $0["principal"] as? Int } == Array(repeating: 10_000, count: 6))
        #expect(instalments.map { $0["fee"] as? Int } == Array(repeating: 270, count: 6))
        #expect(instalments.map { $0["due"] as? String } == (1...6).map {
            CivilDate(clock.now()).adding(months: $0).description
        })
        #expect(drawn.json["balance"] as? Int == 60_000)
        #expect(drawn.json["available_credit"] as? Int == 940_000)
        #expect(drawn.json["apr_bps"] as? Int == 920)

        let part = try await repay(service, id, 5_000)
        #expect(part.status == 201, "\(part.text)")
        let applied = try #require(part.json["applied"] as? [[String: Any]])
        #expect(applied.count == 1)
        #expect(applied.first?["fee"] as? Int == 270)
        #expect(applied.first?["principal"] as? Int == 4_730)
        #expect(part.json["balance"] as? Int == 55_270)
        #expect(part.json["fees_outstanding"] as? Int == 5 * 270)

        let moved = try await service.call("POST", "/v1/demo/clock", role: .operator, body: #"{"advance_days":70}"#)
        #expect(moved.status == 200)
        let behind = try await account(service, id)
        #expect(behind["delinquency"] as? String == "dpd_31_60")
        let days = try #require(behind["days_past_due"] as? Int)
        #expect((39...42).contains(days))
        let changed = try await service.store.database.read { db in
            try String.fetchOne(db, sql: """
                SELECT detail FROM audit_log WHERE account_id = ? AND action = 'account.delinquency_changed'
                ORDER BY seq DESC LIMIT 1
                """, arguments: [id])
        }
        let detail = try #require(try JSONSerialization.jsonObject(with: Data((changed ?? "").utf8)) as? [String: Any])
        #expect(detail["from"] as? String == "current")
        #expect(detail["to"] as? String == "dpd_31_60")
        #expect(detail["notice_due"] as? Bool == true)

        let refused = try await draw(service, id, #"{"amount":100,"customer_selected":true}"#)
        #expect(refused.status == 409)
        #expect(refused.json["code"] as? String == "line-delinquent")

        // Instalment 1 (5,270 left) and instalment 2 (10,270) are both past due.
        let statement = try await service.call("GET", "/v1/accounts/\(id)/statement")
        #expect(statement.status == 200, "\(statement.text)")
        let overdue = try #require(statement.json["instalments"] as? [[String: Any]]).filter { $0["overdue"] as? Bool == true }
        #expect(overdue.map { $0["outstanding"] as? Int } == [5_270, 10_270])
        let back = try await repay(service, id, 15_540)
        #expect(back.status == 201, "\(back.text)")
        #expect(back.json["delinquency"] as? String == "current")
        #expect(back.json["days_past_due"] as? Int == 0)
        #expect(try await account(service, id)["delinquency"] as? String == "current")
        #expect(try await draw(service, id, #"{"amount":100,"customer_selected":true}"#).status == 201)

        let log = try await actions(service, id)
        #expect(log.filter { $0 == "account.delinquency_changed" }.count == 2)
        #expect(log.filter { $0 == "draw.created" }.count == 2)
        #expect(log.filter { $0 == "repayment.received" }.count == 2)
        // merchant_ref never reaches the chain.
        let leaked = try await service.store.database.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_log WHERE detail LIKE '%order-1%'")
        }
        #expect(leaked == 0)
        #expect(try service.store.verifyAudit() == .intact(checked: try await service.store.auditLength(),
                                                           heads: try await service.store.auditHeads()))
        await service.stop()
    }

    @Test(arguments: [
        (#"{"amount":100}"#, 422, "draw-not-selected"),
        (#"{"amount":100,"customer_selected":false}"#, 422, "draw-not-selected"),
        (#"{"amount":100,"customer_selected":"true"}"#, 422, "draw-not-selected"),
        (#"{"amount":0,"customer_selected":true}"#, 422, "invalid-amount"),
        (#"{"amount":1.5,"customer_selected":true}"#, 422, "invalid-amount"),
        (#"{"amount":"100","customer_selected":true}"#, 422, "invalid-amount"),
        (#"{"amount":100,"plan_months":5,"customer_selected":true}"#, 422, "invalid-plan"),
        (#"{"amount":100,"plan_months":"6","customer_selected":true}"#, 422, "invalid-plan"),
        (#"{"amount":100001,"customer_selected":true}"#, 422, "insufficient-credit"),
        (#"{"amount":100,"merchant_ref":"a b","customer_selected":true}"#, 422, "invalid-field"),
        (#"{"amount":100,"merchant_ref":"13800138000","customer_selected":true}"#, 422, "pii-not-allowed"),
        (#"{"amount":100,"customer_selected":true,"status":"active"}"#, 422, "invalid-field"),
    ])
    func drawRefusals(_ body: String, _ status: Int, _ code: String) async throws {
        let service = try TestService()
        let id = try await openLine(service, "use-refusals", limit: 100_000)
        let reply = try await draw(service, id, body)
        #expect(reply.status == status, "\(reply.text)")
        #expect(reply.json["code"] as? String == code, "\(reply.text)")
        #expect(try await account(service, id)["balance"] as? Int == 0)
        await service.stop()
    }

    @Test func refusalsFollowTheLinesState() async throws {
        let service = try TestService()
        let prospect = try #require(try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"use-p"}"#)
            .json["id"] as? String)
        let notOpen = try await draw(service, prospect, #"{"amount":100,"customer_selected":true}"#)
        #expect(notOpen.status == 409)
        #expect(notOpen.json["code"] as? String == "invalid-transition")
        // Not selected comes first, whatever the account.
        #expect(try await draw(service, prospect, #"{"amount":100}"#).json["code"] as? String == "draw-not-selected")
        #expect(try await repay(service, prospect, 100).json["code"] as? String == "invalid-transition")
        #expect(try await service.call("GET", "/v1/accounts/\(prospect)/draw-quote?amount=100").status == 409)

        let id = try await openLine(service, "use-consent")
        let consents = try await service.call("GET", "/v1/accounts/\(id)/consents").json["items"] as? [[String: Any]] ?? []
        let line = try #require(consents.first { $0["purpose"] as? String == "credit_line" }?["id"] as? String)
        let repaidNothing = try await repay(service, id, 1)
        #expect(repaidNothing.json["code"] as? String == "overpayment", "\(repaidNothing.text)")
        #expect(try await service.call("POST", "/v1/consents/\(line)/withdrawal", body: #"{"channel":"app"}"#).status == 200)
        // Withdrawal froze the line: a frozen line takes no draws, and still takes nothing to repay.
        let frozen = try await draw(service, id, #"{"amount":100,"customer_selected":true}"#)
        #expect(frozen.json["code"] as? String == "invalid-transition")
        let over = try await repay(service, id, 1)
        #expect(over.status == 422)
        #expect(over.json["code"] as? String == "overpayment")
        await service.stop()
    }

    /// 64 draws at once that together ask for more than the line has: exactly the ones that fit
    /// succeed, and the balance is their sum.
    @Test func sixtyFourConcurrentDrawsNeverOverdraw() async throws {
        let service = try TestService()
        let id = try await openLine(service, "use-race", limit: 100_000)
        let token = try #require(service.keys[.service])
        let body = #"{"amount":3000,"customer_selected":true}"#
        let replies = try concurrently(service, (0..<64).map { _ in rawPost("/v1/accounts/\(id)/draws", token: token, body: body) })
        #expect(replies.filter { $0.status == 201 }.count == 33)
        #expect(replies.filter { $0.status == 422 && $0.json["code"] as? String == "insufficient-credit" }.count == 31)
        let line = try await account(service, id)
        #expect(line["balance"] as? Int == 99_000)
        #expect(line["available_credit"] as? Int == 1_000)
        let drawn = try await service.store.database.read { db in
            try Int.fetchOne(db, sql: "SELECT SUM(amount) FROM draws WHERE account_id = ?", arguments: [id])
        }
        #expect(drawn == 99_000)
        await service.stop()
    }

    @Test func aRetriedDrawIsAppliedOnce() async throws {
        let service = try TestService()
        let id = try await openLine(service, "use-retry")
        let headers = ["Idempotency-Key": "draw-once"]
        let first = try await draw(service, id, #"{"amount":2500,"customer_selected":true}"#, headers: headers)
        let again = try await draw(service, id, #"{"amount":2500,"customer_selected":true}"#, headers: headers)
        #expect(first.status == 201)
        #expect(again.status == 201)
        #expect(again.header("Idempotent-Replayed") == "true")
        #expect(again.body == first.body)
        #expect(try await account(service, id)["balance"] as? Int == 2_500)
        #expect(try await actions(service, id).filter { $0 == "draw.created" }.count == 1)
        // The same key with another body is a different request, refused.
        let other = try await draw(service, id, #"{"amount":9999,"customer_selected":true}"#, headers: headers)
        #expect(other.status == 422 || other.status == 409)
        #expect(try await account(service, id)["balance"] as? Int == 2_500)
        await service.stop()
    }

    @Test func overpaymentIsRefusedAndClosureKeepsRepaymentsGoing() async throws {
        let service = try TestService()
        let id = try await openLine(service, "use-close")
        #expect(try await draw(service, id, #"{"amount":9000,"plan_months":3,"customer_selected":true}"#).status == 201)
        let over = try await repay(service, id, 9_001)
        #expect(over.status == 422)
        #expect(over.json["code"] as? String == "overpayment")
        let closed = try await service.call("POST", "/v1/accounts/\(id)/closure", role: .operator, body: #"{"reason_code":"other","note":"customer asked"}"#)
        #expect(closed.json["status"] as? String == "closed")
        #expect(try await draw(service, id, #"{"amount":100,"customer_selected":true}"#).json["code"] as? String == "invalid-transition")
        let paid = try await repay(service, id, 9_000)
        #expect(paid.status == 201, "\(paid.text)")
        #expect(paid.json["balance"] as? Int == 0)
        #expect((paid.json["applied"] as? [[String: Any]])?.count == 3)
        await service.stop()
    }

    @Test func coolingOffWaivesFeesAndKeepsThePrincipal() async throws {
        let clock = DemoClock()
        let service = try TestService(clock: clock)
        let id = try await openLine(service, "use-cool")
        #expect(try await draw(service, id, #"{"amount":60000,"plan_months":6,"customer_selected":true}"#).status == 201)
        #expect(try await account(service, id)["fees_outstanding"] as? Int == 1_620)
        #expect(try await service.call("POST", "/v1/accounts/\(id)/cancellation", body: #"{"channel":"fax"}"#).status == 422)
        let cancelled = try await service.call("POST", "/v1/accounts/\(id)/cancellation", body: #"{"channel":"app","customer_confirmation":{"channel":"app","method":"explicit_opt_in","notice_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}"#)
        #expect(cancelled.status == 200, "\(cancelled.text)")
        #expect(cancelled.json["status"] as? String == "closed")
        #expect(cancelled.json["fees_outstanding"] as? Int == 0)
        #expect(cancelled.json["balance"] as? Int == 60_000)
        #expect(try await draw(service, id, #"{"amount":100,"customer_selected":true}"#).status == 409)
        #expect(try await service.call("POST", "/v1/accounts/\(id)/cancellation", body: #"{"channel":"app","customer_confirmation":{"channel":"app","method":"explicit_opt_in","notice_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}"#)
            .json["code"] as? String == "invalid-transition")
        #expect(try await repay(service, id, 60_000).json["balance"] as? Int == 0)

        let late = try await openLine(service, "use-cool-late")
        _ = try await service.call("POST", "/v1/demo/clock", role: .operator, body: #"{"advance_days":14}"#)
        let over = try await service.call("POST", "/v1/accounts/\(late)/cancellation", body: #"{"channel":"web","customer_confirmation":{"channel":"app","method":"explicit_opt_in","notice_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}"#)
        #expect(over.status == 409)
        #expect(over.json["code"] as? String == "cooling-off-over")
        await service.stop()
    }

    @Test func chargeOffTakesTwoPeopleAndNinetyDays() async throws {
        let clock = DemoClock()
        let service = try TestService(clock: clock)
        let id = try await openLine(service, "use-charge")
        #expect(try await draw(service, id, #"{"amount":5000,"customer_selected":true}"#).status == 201)
        let body = #"{"reason_code":"prolonged_non_payment"}"#
        let early = try await service.call("POST", "/v1/accounts/\(id)/charge-off", role: .operator, body: body)
        #expect(early.status == 409)
        #expect(early.json["code"] as? String == "not-charge-off-eligible")
        #expect(try await service.call("POST", "/v1/accounts/\(id)/charge-off", role: .operator, body: #"{"reason_code":"bored"}"#)
            .status == 422)
        #expect(try await service.call("POST", "/v1/accounts/\(id)/charge-off", role: .service, body: body).status == 403)

        // 30 interest-free days, then more than 90 past due.
        _ = try await service.call("POST", "/v1/demo/clock", role: .operator, body: #"{"advance_days":125}"#)
        #expect(try await account(service, id)["delinquency"] as? String == "dpd_90_plus")
        let first = try await service.call("POST", "/v1/accounts/\(id)/charge-off", role: .operator, body: body)
        #expect(first.status == 202, "\(first.text)")
        #expect(first.json["awaiting_second_approval"] as? Bool == true)
        let same = try await service.call("POST", "/v1/accounts/\(id)/charge-off", role: .operator, body: body)
        #expect(same.status == 409)
        #expect(same.json["code"] as? String == "four-eyes-required")
        let second = try service.store.createKey(role: .operator, name: "second operator", tenant: nil).token
        let other = try await service.call("POST", "/v1/accounts/\(id)/charge-off", role: nil, token: second,
                                     body: #"{"reason_code":"fraud"}"#)
        #expect(other.json["code"] as? String == "four-eyes-required")
        let done = try await service.call("POST", "/v1/accounts/\(id)/charge-off", role: nil, token: second, body: body)
        #expect(done.status == 200, "\(done.text)")
        #expect(done.json["status"] as? String == "charged_off")
        #expect(done.json["balance"] as? Int == 5_000)
        // Final, and repayments go on.
        #expect(try await service.call("POST", "/v1/accounts/\(id)/unfreeze", role: .operator, body: #"{"reason_code":"other","note":"x"}"#)
            .json["code"] as? String == "invalid-transition")
        #expect(try await repay(service, id, 5_000).status == 201)
        let log = try await actions(service, id)
        #expect(log.contains("charge_off.first_approval"))
        #expect(log.last(where: { $0.hasPrefix("account.") }) == "account.delinquency_changed")
        #expect(log.contains("account.charged_off"))
        await service.stop()
    }

    /// A first approval belongs to the arrears it was given for: approved at 95 days past due,
    /// then the customer paid everything (before any sweep recorded the bucket), drew again and
    /// fell 95 days behind again; one operator's request is then a first approval, not a
    /// charge-off. Also, an approval a month old has lapsed.
    @Test func aChargeOffApprovalLapsesWithItsArrears() async throws {
        let clock = DemoClock()
        let service = try TestService(clock: clock)
        let id = try await openLine(service, "use-charge-episode")
        let body = #"{"reason_code":"prolonged_non_payment"}"#
        let second = try service.store.createKey(role: .operator, name: "second operator", tenant: nil).token
        // The clock moves without the sweep (the demo route would run it): the recorded bucket lags
        // the live one, as it does between two sweeps.
        func advance(_ days: Int) throws { clock.advance(days: days) }
        #expect(try await draw(service, id, #"{"amount":5000,"customer_selected":true}"#).status == 201)
        try advance(125)
        #expect(try await service.call("POST", "/v1/accounts/\(id)/charge-off", role: .operator, body: body).status == 202)
        let owed = try await account(service, id)
        let total = (owed["balance"] as? Int ?? 0) + (owed["fees_outstanding"] as? Int ?? 0)
        #expect(try await repay(service, id, total).status == 201)
        #expect(try await account(service, id)["delinquency"] as? String == "current")
        #expect(try await draw(service, id, #"{"amount":5000,"customer_selected":true}"#).status == 201)
        try advance(125)
        #expect(try await account(service, id)["delinquency"] as? String == "dpd_90_plus")
        let lone = try await service.call("POST", "/v1/accounts/\(id)/charge-off", role: nil, token: second, body: body)
        #expect(lone.status == 202, "one person charged the line off on another episode's approval: \(lone.text)")
        #expect(lone.json["awaiting_second_approval"] as? Bool == true)
        // That approval lapses after 30 days: a second person then only approves first again.
        try advance(30)
        let late = try await service.call("POST", "/v1/accounts/\(id)/charge-off", role: .operator, body: body)
        #expect(late.status == 202, "a month-old approval charged the line off: \(late.text)")
        let done = try await service.call("POST", "/v1/accounts/\(id)/charge-off", role: nil, token: second, body: body)
        #expect(done.status == 200 && done.json["status"] as? String == "charged_off", "\(done.text)")
        await service.stop()
    }

    @Test func aLimitCutBelowTheBalanceRecallsNothing() async throws {
        let service = try TestService()
        let id = try await openLine(service, "use-cut")
        #expect(try await draw(service, id, #"{"amount":400000,"customer_selected":true}"#).status == 201)
        let cut = try await service.call("POST", "/v1/accounts/\(id)/limit-adjustments", role: .operator,
                                   body: #"{"new_limit":100000,"reason_code":"risk_deterioration","note":"risk","initiated_by":"operator"}"#)
        #expect(cut.status == 201, "\(cut.text)")
        let line = try await account(service, id)
        #expect(line["balance"] as? Int == 400_000)
        #expect(line["available_credit"] as? Int == 0)
        #expect(try await draw(service, id, #"{"amount":1,"customer_selected":true}"#).json["code"] as? String == "insufficient-credit")
        await service.stop()
    }

    @Test(arguments: [
        ("?from=2026-13-01", 422), ("?from=2026-11-30&to=2026-11-01", 422), ("?from=2024-01-01&to=2026-01-01", 422),
        ("?to=yesterday", 422), ("?from=2026-01-01&to=2026-12-31", 200),
    ])
    func statementPeriods(_ query: String, _ status: Int) async throws {
        let service = try TestService()
        let id = try await openLine(service, "use-period")
        let reply = try await service.call("GET", "/v1/accounts/\(id)/statement\(query)", role: .operator)
        #expect(reply.status == status, "\(reply.text)")
        if status == 422 { #expect(reply.json["field"] as? String != nil) }
        await service.stop()
    }
}
