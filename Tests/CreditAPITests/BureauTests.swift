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

    func dispute(_ service: TestService, _ account: String, item: String = "overdue") async throws -> RawClient.Reply {
        try await service.call("POST", "/v1/accounts/\(account)/bureau-disputes",
                               body: #"{"item":"\#(item)","statement":"I paid this instalment in cash at the shop."}"#)
    }

    /// The issue's journey: a customer who never answers is reminded within the caps, warned,
    /// reported after the notice period; disputes, and while the dispute is open nothing more is
    /// reported and no reminder written; upheld, the report is corrected and nothing more of the
    /// episode is reported.
    @Test func aDisputeHoldsEverythingAndUpheldCorrectsTheReport() async throws {
        let service = try TestService(clock: DemoClock(base: ReminderTests.MorningInShanghai()))
        let journey = try await hardship.behind(service, "bureau-3", days: 0)
        let warning = try await untilWarned(service, journey)
        try await deliver(service, warning)
        try await hardship.advance(service, 7)
        let reported = try await reports(service, journey.account)
        #expect(reported.count == 1, "\(reported)")
        let reminders = try await ReminderTests().reminders(service, journey.account).count
        #expect(reminders >= 5, "reminded within the caps before: \(reminders)")

        #expect(try await dispute(service, journey.account, item: "charge_off").json["code"] as? String == "nothing-to-dispute")
        let opened = try await dispute(service, journey.account)
        #expect(opened.status == 201, "\(opened.text)")
        let id = try #require(opened.json["id"] as? String)
        let opening = try #require(Timestamp(rfc3339: opened.json["opened_at"] as? String ?? ""))
        #expect(opened.json["due_by"] as? String == opening.adding(days: 20).rfc3339)
        #expect(try await dispute(service, journey.account).json["code"] as? String == "dispute-open")
        let queue = try await service.call("GET", "/v1/bureau-disputes?status=open", role: .operator).json
        #expect((queue["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
        // Twenty-five days on, past 60 days behind: nothing reported, nothing reminded.
        for _ in 0..<19 { try await hardship.advance(service, 1) }
        #expect(try await reports(service, journey.account).count == 1)
        #expect(try await ReminderTests().reminders(service, journey.account).count == reminders)
        // Past its deadline unanswered: the compliance report names it.
        try await hardship.advance(service, 2)
        let compliance = try await service.call("GET", "/v1/compliance/report", role: .auditor).json
        let check = (compliance["checks"] as? [[String: Any]])?.first { $0["number"] as? String == "11" }
        #expect(check?["holds"] as? Bool == false && (check?["ids"] as? [String])?.contains(id) == true, "\(check ?? [:])")
        // Upheld: the next run corrects what stands, and nothing more of this episode is reported.
        let answered = try await service.call("POST", "/v1/bureau-disputes/\(id)/resolution", role: .operator,
                                              body: #"{"upheld":true,"reason_code":"dispute_upheld_error","note":"cash receipt seen"}"#)
        #expect(answered.status == 200 && answered.json["status"] as? String == "upheld", "\(answered.text)")
        try await hardship.advance(service, 1)
        let after = try await reports(service, journey.account)
        #expect(after.count == 2 && after.last?["reason"] as? String == "dispute_upheld", "\(after)")
        try await hardship.advance(service, 5)
        #expect(try await reports(service, journey.account).count == 2)
        let kinds = try await NoticeTests().notices(service, journey.account).compactMap { $0["kind"] as? String }
        #expect(kinds.filter { $0 == "bureau_dispute" }.count == 2, "\(kinds)")
        let events = try await service.call("GET", "/v1/events?limit=1000").text
        #expect(events.contains("bureau_dispute.opened") && events.contains("bureau_dispute.resolved"))
        #expect(!events.contains("cash"), "neither the statement nor the note reaches an event")
        await service.stop()
    }

    @Test func theConsoleQueueShowsDisputesWithTheirDeadline() async throws {
        let service = try TestService(clock: DemoClock())
        let journey = try await hardship.behind(service, "bureau-4", days: 40)
        let id = try #require(try await dispute(service, journey.account).json["id"] as? String)
        let (_, signed) = try await ConsoleTests().signIn(service, token: service.keys[.operator]!)
        let session = try #require(signed)
        let queue = try await service.call("GET", "/console/reviews", role: nil, headers: ["Cookie": session.cookie])
        #expect(queue.text.contains(#"id="\#(id)""#) && queue.text.contains("答复期限"), "\(queue.text)")
        let answered = try await ConsoleTests().post(service, "/console/bureau-disputes/\(id)/resolution", session,
                                                     "upheld=false&reason_code=dispute_rejected_accurate&note=")
        #expect(answered.status == 303, "\(answered.text)")
        #expect(try await service.call("GET", "/v1/bureau-disputes/\(id)").json["status"] as? String == "rejected")
        await service.stop()
    }
}
