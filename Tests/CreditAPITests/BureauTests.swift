import CreditLine
import Foundation
import Testing
@testable import CreditAPI
@testable import CreditStore

/// Credit reporting on the demo clock (README "Credit reporting"): warned first, reported after
/// the warning reached the customer, corrected when settled; never under a hardship plan.
@Suite struct BureauTests {
    let hardship = HardshipTests()

    func reports(_ service: TestService, _ account: String, role: Role = .service) async throws -> [[String: Any]] {
        try await service.call("GET", "/v1/accounts/\(account)/bureau-reports", role: role).json["items"] as? [[String: Any]] ?? []
    }

    /// Days until the line enters 31 days past due, when the warning is written.
    func untilWarned(_ service: TestService, _ journey: LineTests.Journey) async throws -> [String: Any] {
        try await hardship.advance(service, 31)
        for _ in 0..<40 {
            if let warning = try await NoticeTests().notices(service, journey.account)
                .first(where: { $0["kind"] as? String == "pre_report_warning" })
            {
                return warning
            }
            try await hardship.advance(service, 1)
        }
        Issue.record("no warning")
        return [:]
    }

    func deliver(_ service: TestService, _ notice: [String: Any]) async throws {
        let id = try #require(notice["id"] as? String)
        let at = try #require(notice["created_at"] as? String)
        let reply = try await service.call("POST", "/v1/notices/\(id)/delivery", body: #"{"channel":"app","delivered_at":"\#(at)"}"#)
        #expect(reply.status == 200, "\(reply.text)")
    }

    @Test func reportedOnlyAfterTheWarningReachedTheCustomerAndCorrectedWhenSettled() async throws {
        let service = try TestService(clock: DemoClock())
        let journey = try await hardship.behind(service, "bureau-1", days: 0)
        let warning = try await untilWarned(service, journey)
        // Days pass with the warning undelivered: nothing is reported, however far behind.
        try await hardship.advance(service, 10)
        #expect(try await reports(service, journey.account).isEmpty)
        // The calling app reports it delivered now; six days on, still nothing; on the seventh, the report.
        try await deliver(service, warning)
        try await hardship.advance(service, 6)
        #expect(try await reports(service, journey.account).isEmpty)
        try await hardship.advance(service, 1)
        let reported = try await reports(service, journey.account, role: .auditor)
        #expect(reported.count == 1, "\(reported)")
        #expect(reported.first?["record_type"] as? String == "negative")
        #expect(reported.first?["status_code"] as? String == "overdue_30_59" || reported.first?["status_code"] as? String == "overdue_60_89")
        #expect(reported.first?["amount_overdue"] as? Int ?? 0 > 0)
        // The day's file holds the same line.
        let date = try #require(reported.first?["report_date"] as? String)
        let file = try String(contentsOfFile: service.folder + "/bureau/creditline-bureau-\(date).jsonl", encoding: .utf8)
        #expect(file.contains(#""record_type":"negative""#) && file.contains(journey.account))
        // Settled: the next day's run corrects it.
        let account = try await hardship.account(service, journey)
        let owed = (account["balance"] as? Int ?? 0) + (account["fees_outstanding"] as? Int ?? 0)
        #expect(try await service.call("POST", "/v1/accounts/\(journey.account)/repayments", body: #"{"amount":\#(owed)}"#).status == 201)
        try await hardship.advance(service, 1)
        let after = try await reports(service, journey.account, role: .operator)
        #expect(after.count == 2 && after.last?["record_type"] as? String == "correction", "\(after)")
        #expect(after.last?["reason"] as? String == "settled" && after.last?["corrects"] as? String == reported.first?["id"] as? String)
        let events = try await service.call("GET", "/v1/events?limit=1000").text
        #expect(events.contains("bureau.reported") && events.contains("bureau.corrected"))
        #expect(!events.contains("bureau-1"), "the customer's reference stays out of events")
        await service.stop()
    }

    @Test func aCustomerUnderAHardshipPlanIsNotReported() async throws {
        let service = try TestService(clock: DemoClock())
        let journey = try await hardship.behind(service, "bureau-2", days: 0)
        let warning = try await untilWarned(service, journey)
        try await deliver(service, warning)
        let asked = try await service.call("POST", "/v1/accounts/\(journey.account)/hardship-requests", body: HardshipTests.ask)
        let request = try #require(asked.json["id"] as? String)
        #expect(try await service.call("POST", "/v1/hardship-requests/\(request)/resolution", role: .operator,
                                       body: #"{"approve":true,"reason_code":"hardship_income_loss"}"#).status == 200)
        for _ in 0..<20 { try await hardship.advance(service, 1) }
        #expect(try await reports(service, journey.account).isEmpty)
        #expect(try await service.call("GET", "/v1/hardship-requests/\(request)").json["status"] as? String == "approved")
        await service.stop()
    }
}
