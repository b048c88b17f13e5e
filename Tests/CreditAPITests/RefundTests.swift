import CreditLine
import Foundation
import Testing
@testable import CreditAPI
@testable import CreditStore

/// Refunds of returned purchases through the API (README "Refunds and the credit balance").
@Suite struct RefundTests {
    let line = LineInUseTests()

    func refund(_ service: TestService, _ account: String, _ draw: String, _ amount: Int, _ ref: String,
                headers: [String: String] = [:]) async throws -> RawClient.Reply
    {
        try await service.call("POST", "/v1/accounts/\(account)/draws/\(draw)/refunds",
                               body: #"{"amount":\#(amount),"merchant_ref":"\#(ref)"}"#, headers: headers)
    }

    func drawID(_ service: TestService, _ account: String, _ body: String) async throws -> String {
        let drawn = try await line.draw(service, account, body)
        #expect(drawn.status == 201, "\(drawn.text)")
        return try #require(drawn.json["id"] as? String)
    }

    /// The issue's example: a 60,000 fen draw; 20,000 refunded leaves 40,000 owed; a further
    /// 50,000 leaves nothing owed and a credit balance of 10,000, which never adds to what can be drawn.
    @Test func theSixtyThousandExample() async throws {
        let service = try TestService(clock: DemoClock())
        let account = try await line.openLine(service, "refund-1")
        let draw = try await drawID(service, account, #"{"amount":60000,"customer_selected":true}"#)
        let key = ["Idempotency-Key": "refund-1-first"]
        let first = try await refund(service, account, draw, 20_000, "rma-1", headers: key)
        #expect(first.status == 201, "\(first.text)")
        #expect(first.json["balance"] as? Int == 40_000 && first.json["principal_reduced"] as? Int == 20_000)
        #expect(first.json["credit_balance"] as? Int == 0 && first.json["merchant_ref"] as? String == "rma-1")
        // The same request again is the same answer; the same return under a new key is refused.
        let replay = try await refund(service, account, draw, 20_000, "rma-1", headers: key)
        #expect(replay.status == 201 && replay.json["id"] as? String == first.json["id"] as? String)
        let duplicate = try await refund(service, account, draw, 20_000, "rma-1")
        #expect(duplicate.status == 409 && duplicate.json["code"] as? String == "duplicate-refund", "\(duplicate.text)")

        let second = try await refund(service, account, draw, 50_000, "rma-2")
        #expect(second.status == 201, "\(second.text)")
        #expect(second.json["balance"] as? Int == 0 && second.json["principal_reduced"] as? Int == 40_000)
        #expect(second.json["to_credit_balance"] as? Int == 10_000 && second.json["credit_balance"] as? Int == 10_000)
        let after = try await line.account(service, account)
        #expect(after["credit_balance"] as? Int == 10_000 && after["balance"] as? Int == 0)
        #expect(after["available_credit"] as? Int == after["credit_limit"] as? Int, "a credit balance is not credit to draw")
        // Repayments are still refused above what is owed; the credit balance is not paid out.
        let repaid = try await line.repay(service, account, 1)
        #expect(repaid.status == 422 && repaid.json["code"] as? String == "overpayment")

        let statement = try await service.call("GET", "/v1/accounts/\(account)/statement").json
        #expect(statement["credit_balance"] as? Int == 10_000)
        #expect((statement["refunds"] as? [[String: Any]])?.compactMap { $0["amount"] as? Int } == [20_000, 50_000])
        let notices = try await NoticeTests().notices(service, account).filter { $0["kind"] as? String == "refund" }
        #expect(notices.count == 2)
        #expect((notices.last?["text"] as? String)?.contains("100.00") == true, "\(notices)")
        let events = try await service.call("GET", "/v1/events?limit=200").text
        #expect(events.contains("draw.refunded") && !events.contains("rma-1"), "the merchant's reference stays out of events")
        let chain = try await line.actions(service, account)
        #expect(chain.filter { $0 == "draw.refunded" }.count == 2)
        await service.stop()
    }

    @Test func refusalsNameTheField() async throws {
        let service = try TestService(clock: DemoClock())
        let account = try await line.openLine(service, "refund-2")
        let other = try await line.openLine(service, "refund-3")
        let draw = try await drawID(service, account, #"{"amount":10000,"customer_selected":true}"#)
        let tooMuch = try await refund(service, account, draw, 10_001, "r-1")
        #expect(tooMuch.status == 422 && tooMuch.json["field"] as? String == "amount", "\(tooMuch.text)")
        let elsewhere = try await refund(service, other, draw, 100, "r-1")
        #expect(elsewhere.status == 404, "a draw of another account is not found")
        let pii = try await refund(service, account, draw, 100, "13800138000")
        #expect(pii.status == 422 && pii.json["code"] as? String == "pii-not-allowed")
        let missing = try await service.call("POST", "/v1/accounts/\(account)/draws/\(draw)/refunds", body: #"{"amount":100}"#)
        #expect(missing.status == 422 && missing.json["field"] as? String == "merchant_ref", "\(missing.text)")
        await service.stop()
    }

    /// The journey on the demo clock: a customer repays half of a purchase on six months, returns
    /// most of it, and the credit balance left pays the next purchase's first instalment when it
    /// falls due without the customer paying anything.
    @Test func aReturnLeavesACreditBalanceThatPaysTheNextInstalment() async throws {
        let service = try TestService(clock: DemoClock())
        let account = try await line.openLine(service, "refund-4")
        // Tier A, six months at 45 bps a month: 10,000 principal and 270 fee an instalment.
        let draw = try await drawID(service, account, #"{"amount":60000,"plan_months":6,"customer_selected":true}"#)
        #expect(try await line.repay(service, account, 30_000).status == 201)
        let returned = try await refund(service, account, draw, 50_000, "rma-9")
        #expect(returned.status == 201, "\(returned.text)")
        // Five sixths returned: each fee falls from 270 to 45; the three paid credit 225 each, the
        // three unpaid lose 225 each; the unpaid 30,810 principal goes and 19,190 is left over;
        // the credit balance then pays the 135 of fees still owed.
        #expect(returned.json["principal_reduced"] as? Int == 30_810)
        #expect(returned.json["fees_cancelled"] as? Int == 675 && returned.json["fees_credited"] as? Int == 675)
        #expect(returned.json["credit_applied"] as? Int == 135)
        #expect(returned.json["balance"] as? Int == 0 && returned.json["fees_outstanding"] as? Int == 0)
        #expect(returned.json["credit_balance"] as? Int == 19_730)

        let next = try await line.draw(service, account, #"{"amount":60000,"plan_months":6,"customer_selected":true}"#)
        #expect(next.status == 201, "\(next.text)")
        let instalments = try #require(next.json["instalments"] as? [[String: Any]])
        #expect(instalments.first?["paid"] as? Bool == true, "\(instalments)")
        let after = try await line.account(service, account)
        #expect(after["credit_balance"] as? Int == 0 && after["balance"] as? Int == 60_000 - 19_190)
        #expect(try await line.actions(service, account).contains("credit_balance.applied"))
        // The first instalment falls due and passes without a payment: the line stays current.
        _ = try await service.call("POST", "/v1/demo/clock", role: .operator, body: #"{"advance_days":32}"#)
        let due = try await line.account(service, account)
        #expect(due["days_past_due"] as? Int == 0 && due["delinquency"] as? String == "current", "\(due)")
        await service.stop()
    }
}
