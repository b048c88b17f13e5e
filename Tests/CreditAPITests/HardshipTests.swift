import CreditLine
import Foundation
@testable import CreditStore
import GRDB
import Testing
@testable import CreditAPI

/// Hardship plans through the API on the demo clock (README "Hardship plans").
@Suite struct HardshipTests {
    static let ask = #"{"kind":"payment_holiday","months":2,\#(GovernanceTests.confirmation)}"#

    /// An open line with a 60,000 fen draw on six months, `days` on.
    func behind(_ service: TestService, _ ref: String, days: Int) async throws -> LineTests.Journey {
        let journey = try await LineTests().prepare(service, ref)
        #expect(try await LineTests().activate(service, journey).status == 200)
        let drawn = try await service.call("POST", "/v1/accounts/\(journey.account)/draws",
                                           body: #"{"amount":60000,"plan_months":6,"customer_selected":true}"#)
        #expect(drawn.status == 201, "\(drawn.text)")
        if days > 0 { try await advance(service, days) }
        return journey
    }

    func advance(_ service: TestService, _ days: Int) async throws {
        #expect(try await service.call("POST", "/v1/demo/clock", role: .operator, body: #"{"advance_days":\#(days)}"#).status == 200)
    }

    func account(_ service: TestService, _ journey: LineTests.Journey) async throws -> [String: Any] {
        try await service.call("GET", "/v1/accounts/\(journey.account)").json
    }

    @Test func aCustomerBehindGetsAHolidayAndRepaysOnTheNewDates() async throws {
        let service = try TestService(clock: DemoClock())
        let journey = try await behind(service, "hardship-1", days: 40)
        #expect(try await account(service, journey)["delinquency"] as? String == "dpd_1_30")
        // The customer asks, with their confirmation; nothing changes until a person decides.
        let unconfirmed = try await service.call("POST", "/v1/accounts/\(journey.account)/hardship-requests",
                                                 body: #"{"kind":"payment_holiday","months":2}"#)
        #expect(unconfirmed.status == 422 && unconfirmed.json["code"] as? String == "confirmation-required")
        let asked = try await service.call("POST", "/v1/accounts/\(journey.account)/hardship-requests", body: Self.ask)
        #expect(asked.status == 201 && asked.json["status"] as? String == "pending", "\(asked.text)")
        let id = try #require(asked.json["id"] as? String)
        let again = try await service.call("POST", "/v1/accounts/\(journey.account)/hardship-requests", body: Self.ask)
        #expect(again.status == 409 && again.json["code"] as? String == "hardship-pending")
        let queue = try await service.call("GET", "/v1/hardship-requests?status=pending", role: .operator).json
        #expect((queue["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
        #expect(try await service.call("GET", "/v1/hardship-requests/\(id)").json["status"] as? String == "pending")

        // An operator grants it: every unpaid instalment two months later, no fee, the line current.
        let before = try await account(service, journey)
        let granted = try await service.call("POST", "/v1/hardship-requests/\(id)/resolution", role: .operator,
                                             body: #"{"approve":true,"reason_code":"hardship_income_loss","note":"lost a job"}"#)
        #expect(granted.status == 200 && granted.json["status"] as? String == "approved", "\(granted.text)")
        #expect(granted.json["delinquency_at_approval"] as? String == "dpd_1_30")
        let after = try await account(service, journey)
        #expect(after["delinquency"] as? String == "current" && after["days_past_due"] as? Int == 0)
        #expect(after["balance"] as? Int == before["balance"] as? Int && after["fees_outstanding"] as? Int == before["fees_outstanding"] as? Int,
                "a holiday costs nothing")
        #expect(try await service.call("GET", "/v1/hardship-requests?status=pending", role: .operator).json["items"]
                .flatMap { ($0 as? [Any])?.isEmpty } == true)

        // The customer repays on the new dates; with nothing left owed the plan is complete.
        try await advance(service, 25)
        #expect(try await account(service, journey)["delinquency"] as? String == "current")
        let owed = (after["balance"] as? Int ?? 0) + (after["fees_outstanding"] as? Int ?? 0)
        #expect(try await service.call("POST", "/v1/accounts/\(journey.account)/repayments", body: #"{"amount":\#(owed)}"#).status == 201)
        try await advance(service, 1)
        let ended = try await service.call("GET", "/v1/hardship-requests/\(id)").json
        #expect(ended["status"] as? String == "ended" && ended["end_reason"] as? String == "completed", "\(ended)")
        // Every step told, and every step an event.
        let kinds = try await NoticeTests().notices(service, journey.account).compactMap { $0["kind"] as? String }
        #expect(kinds.filter { $0 == "hardship_plan" }.count == 3, "\(kinds)")
        let events = try await service.call("GET", "/v1/events?limit=200").text
        for name in ["hardship.requested", "hardship.resolved", "hardship.ended"] { #expect(events.contains(name), "\(name)") }
        // One plan in 12 months.
        _ = try await service.call("POST", "/v1/accounts/\(journey.account)/draws", body: #"{"amount":1000,"customer_selected":true}"#)
        let soon = try await service.call("POST", "/v1/accounts/\(journey.account)/hardship-requests", body: Self.ask)
        #expect(soon.status == 409 && soon.json["code"] as? String == "hardship-too-soon", "\(soon.text)")
        await service.stop()
    }

    @Test func aPlanThirtyDaysLateEndsAndTheLineIsBehindAgain() async throws {
        let service = try TestService(clock: DemoClock())
        let journey = try await behind(service, "hardship-2", days: 35)
        let id = try #require(try await service.call("POST", "/v1/accounts/\(journey.account)/hardship-requests",
                                                     body: #"{"kind":"payment_holiday","months":1,\#(GovernanceTests.confirmation)}"#).json["id"] as? String)
        #expect(try await service.call("POST", "/v1/hardship-requests/\(id)/resolution", role: .operator,
                                       body: #"{"approve":true,"reason_code":"hardship_expenses"}"#).status == 200)
        // The holiday puts the line back on time...
        try await advance(service, 10)
        #expect(try await account(service, journey)["delinquency"] as? String == "current")
        // ...a late instalment of the plan does not make it look worse than it was when approved...
        try await advance(service, 40)
        #expect(try await account(service, journey)["delinquency"] as? String == "dpd_1_30")
        // ...and 30 days late the plan ends, with its notice, and the line is behind again.
        try await advance(service, 20)
        let ended = try await service.call("GET", "/v1/hardship-requests/\(id)").json
        #expect(ended["status"] as? String == "ended" && ended["end_reason"] as? String == "broken", "\(ended)")
        let texts = try await NoticeTests().notices(service, journey.account).compactMap { $0["text"] as? String }
        #expect(texts.contains { $0.contains("30 天") && $0.contains("已终止") }, "\(texts)")
        #expect(try await account(service, journey)["delinquency"] as? String == "dpd_31_60")
        await service.stop()
    }

    @Test func aRestructureSpreadsWhatIsOwedAndADeclineChangesNothing() async throws {
        let service = try TestService(clock: DemoClock())
        let journey = try await behind(service, "hardship-3", days: 40)
        let before = try await account(service, journey)
        let declined = try #require(try await service.call("POST", "/v1/accounts/\(journey.account)/hardship-requests",
                                                           body: #"{"kind":"restructure","months":12,\#(GovernanceTests.confirmation)}"#).json["id"] as? String)
        let no = try await service.call("POST", "/v1/hardship-requests/\(declined)/resolution", role: .operator,
                                        body: #"{"approve":false,"reason_code":"hardship_not_needed"}"#)
        #expect(no.json["status"] as? String == "declined")
        let unchanged = try await account(service, journey)
        #expect(unchanged["balance"] as? Int == before["balance"] as? Int && unchanged["delinquency"] as? String == "dpd_1_30")
        let twice = try await service.call("POST", "/v1/hardship-requests/\(declined)/resolution", role: .operator,
                                           body: #"{"approve":true,"reason_code":"hardship_income_loss"}"#)
        #expect(twice.status == 409)

        let id = try #require(try await service.call("POST", "/v1/accounts/\(journey.account)/hardship-requests",
                                                     body: #"{"kind":"restructure","months":12,\#(GovernanceTests.confirmation)}"#).json["id"] as? String)
        #expect(try await service.call("POST", "/v1/hardship-requests/\(id)/resolution", role: .operator,
                                       body: #"{"approve":true,"reason_code":"hardship_income_loss"}"#).status == 200)
        let after = try await account(service, journey)
        #expect(after["balance"] as? Int == before["balance"] as? Int, "every fen of principal, spread")
        #expect(after["delinquency"] as? String == "current")
        // Tier A's cheapest plan is free (3 months at 0 %): the restructure adds no fee at all.
        #expect(after["fees_outstanding"] as? Int == before["fees_outstanding"] as? Int)
        let instalments = try service.store.database.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM instalments WHERE account_id = ? AND principal > principal_paid",
                             arguments: [journey.account])
        }
        #expect(instalments == 12)
        await service.stop()
    }

    @Test(arguments: [
        (#"{"kind":"payment_holiday","months":4,\#(GovernanceTests.confirmation)}"#, "months"),
        (#"{"kind":"restructure","months":2,\#(GovernanceTests.confirmation)}"#, "months"),
        (#"{"kind":"forgiveness","months":2,\#(GovernanceTests.confirmation)}"#, "kind"),
    ])
    func aBadRequestNamesItsField(_ body: String, _ field: String) async throws {
        let service = try TestService()
        let journey = try await behind(service, "hardship-bad", days: 0)
        let reply = try await service.call("POST", "/v1/accounts/\(journey.account)/hardship-requests", body: body)
        #expect(reply.status == 422 && reply.json["field"] as? String == field, "\(reply.text)")
        #expect(try await service.call("GET", "/v1/hardship-requests?status=approved", role: .operator).status == 422)
        await service.stop()
    }

    /// The console's queue shows hardship requests, and decides them through the same write.
    @Test func theConsoleQueueDecidesHardshipRequests() async throws {
        let service = try TestService()
        let journey = try await behind(service, "hardship-console", days: 0)
        let id = try #require(try await service.call("POST", "/v1/accounts/\(journey.account)/hardship-requests",
                                                     body: Self.ask).json["id"] as? String)
        let (_, signed) = try await ConsoleTests().signIn(service, token: service.keys[.operator]!)
        let session = try #require(signed)
        let queue = try await service.call("GET", "/console/reviews", role: nil, headers: ["Cookie": session.cookie])
        #expect(queue.text.contains(#"id="\#(id)""#) && queue.text.contains("还款暂缓 · 2 个月"), "\(queue.text)")
        let decided = try await ConsoleTests().post(service, "/console/hardship-requests/\(id)/resolution", session,
                                                    "approve=true&reason_code=hardship_income_loss&note=")
        #expect(decided.status == 303, "\(decided.text)")
        #expect(try await service.call("GET", "/v1/hardship-requests/\(id)").json["status"] as? String == "approved")
        let forged = try await ConsoleTests().post(service, "/console/hardship-requests/\(id)/resolution", session,
                                                   "approve=false&reason_code=hardship_not_needed", csrf: "forged")
        #expect(forged.status == 403)
        await service.stop()
    }

    /// The cost cap (README "The cost cap"): terms above it stop start-up; a line's accepted plan
    /// above it (terms from before a lower cap) is never charged, in a quote or a draw.
    @Test func theCostCapHoldsAtStartAndAtEveryCharge() async throws {
        #expect(throws: (any Error).self) { _ = try TestService { $0.aprCapBps = 1_000 } }  // tier A's 12 months: 10.90 %
        let service = try TestService()
        let journey = try await behind(service, "cost-cap", days: 0)
        try service.store.database.write { db in
            try db.execute(sql: #"UPDATE accounts SET terms = '{"interest_free_days":30,"instalment_plans":[{"months":12,"monthly_fee_bps":300}]}' WHERE id = ?"#,
                           arguments: [journey.account])
        }
        let quote = try await service.call("GET", "/v1/accounts/\(journey.account)/draw-quote?amount=1000&plan_months=12")
        #expect(quote.status == 422 && quote.json["code"] as? String == "above-apr-cap" && quote.json["field"] as? String == "plan_months")
        let draw = try await service.call("POST", "/v1/accounts/\(journey.account)/draws",
                                          body: #"{"amount":1000,"plan_months":12,"customer_selected":true}"#)
        #expect(draw.status == 422 && draw.json["code"] as? String == "above-apr-cap", "\(draw.text)")
        await service.stop()
    }
}
