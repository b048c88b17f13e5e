import CreditLine
import Foundation
import Testing
@testable import CreditAPI
@testable import CreditStore

/// Payment reminders on the demo clock (README "Payment reminders"): 60 days behind, every
/// reminder inside the caps.
@Suite struct ReminderTests {
    /// The real clock moved so that the test starts at 02:00 UTC tomorrow (10:00 in Shanghai,
    /// 21:00 or 22:00 in New York) whatever the hour it runs at.
    struct MorningInShanghai: TimeSource {
        let shift: Int64
        init() {
            let now = SystemTimeSource().now().milliseconds
            shift = (now / 86_400_000 + 1) * 86_400_000 + 2 * 3_600_000 - now
        }
        func now() -> Timestamp { Timestamp(milliseconds: SystemTimeSource().now().milliseconds + shift) }
    }

    let hardship = HardshipTests()

    func reminders(_ service: TestService, _ account: String) async throws -> [[String: Any]] {
        try await NoticeTests().notices(service, account).filter { $0["kind"] as? String == "payment_reminder" }
    }

    func createdAt(_ notice: [String: Any]) -> Timestamp { Timestamp(rfc3339: notice["created_at"] as? String ?? "")! }

    @Test func sixtyDaysBehindEveryReminderInsideTheCaps() async throws {
        let service = try TestService(clock: DemoClock(base: MorningInShanghai()))
        let journey = try await hardship.behind(service, "remind-1", days: 0)
        let night = try await hardship.behind(service, "remind-2", days: 0)
        #expect(try await service.call("PUT", "/v1/accounts/\(night.account)/preferences",
                                       body: #"{"time_zone":"America/New_York"}"#).status == 200)
        let sms = try await service.call("PUT", "/v1/accounts/\(journey.account)/preferences",
                                         body: #"{"reminder_channels":["sms"]}"#)
        #expect(sms.status == 200 && sms.json["reminder_channels"] as? [String] == ["sms"], "\(sms.text)")
        // The first instalment falls due a month on; then 60 days of the customer not answering.
        try await hardship.advance(service, 31)
        var days: [Int] = []
        for _ in 0..<60 {
            try await hardship.advance(service, 1)
            let account = try await hardship.account(service, journey)
            days.append(account["days_past_due"] as? Int ?? -1)
        }
        #expect(days.last ?? 0 >= 60, "\(days)")
        let sent = try await reminders(service, journey.account)
        // Days 1, 3, 7, 14, 21, 30, then every 14 days: 44 and 58 within 60 days.
        #expect(sent.count == 8, "\(sent.map { $0["text"] ?? "" })")
        let zone = try ReminderRules.timeZone("Asia/Shanghai")
        for (index, notice) in sent.enumerated() {
            let at = createdAt(notice)
            #expect(ReminderRules.hours.contains(ReminderRules.localHour(at: at, in: zone)))
            let week = sent.filter { at.milliseconds - createdAt($0).milliseconds < 7 * 86_400_000 && createdAt($0) <= at }
            #expect(week.count <= ReminderRules.defaultPerSevenDays, "reminder \(index)")
            #expect(notice["channels"] as? [String] == ["sms"])
        }
        #expect((sent.first?["text"] as? String)?.contains("1 天") == true, "\(sent.first ?? [:])")
        // A report on a channel the customer did not allow is refused; on theirs it is taken.
        let id = try #require(sent.first?["id"] as? String)
        let at = try #require(sent.first?["created_at"] as? String)
        let app = try await service.call("POST", "/v1/notices/\(id)/delivery", body: #"{"channel":"app","delivered_at":"\#(at)"}"#)
        #expect(app.status == 422 && app.json["field"] as? String == "channel", "\(app.text)")
        #expect(try await service.call("POST", "/v1/notices/\(id)/delivery",
                                       body: #"{"channel":"sms","delivered_at":"\#(at)"}"#).status == 200)
        // At 21:00 or later in New York nothing is written, however far behind.
        #expect(try await reminders(service, night.account).isEmpty)
        await service.stop()
    }

    @Test func theWeeklyCapDefersAndAPlanSilences() async throws {
        let service = try TestService(clock: DemoClock(base: MorningInShanghai())) { $0.remindersPerSevenDays = 1 }
        let capped = try await hardship.behind(service, "remind-3", days: 0)
        let planned = try await hardship.behind(service, "remind-4", days: 0)
        try await hardship.advance(service, 31)
        for _ in 0..<3 { try await hardship.advance(service, 1) }
        // The customer under a plan: a payment holiday granted while behind.
        let asked = try await service.call("POST", "/v1/accounts/\(planned.account)/hardship-requests", body: HardshipTests.ask)
        let request = try #require(asked.json["id"] as? String)
        let granted = try await service.call("POST", "/v1/hardship-requests/\(request)/resolution", role: .operator,
                                             body: #"{"approve":true,"reason_code":"hardship_income_loss"}"#)
        #expect(granted.status == 200, "\(granted.text)")
        let before = try await reminders(service, planned.account).count
        for _ in 0..<80 { try await hardship.advance(service, 1) }
        let sent = try await reminders(service, capped.account).map(createdAt)
        #expect(sent.count >= 5, "\(sent)")
        for (earlier, later) in zip(sent, sent.dropFirst()) {
            #expect(later.milliseconds - earlier.milliseconds >= 7 * 86_400_000, "one a week at most")
        }
        // The holiday's instalments fell due two months on and have gone unpaid for three weeks
        // or so (not yet the 30 days that break the plan), but while it is in force nothing is written.
        let planState = try await service.call("GET", "/v1/hardship-requests/\(request)").json
        let account = try await hardship.account(service, planned)
        #expect(planState["status"] as? String == "approved" && account["days_past_due"] as? Int ?? 0 > 7, "\(account)")
        #expect(try await reminders(service, planned.account).count == before, "a plan in force silences reminders")
        await service.stop()
    }
}
