import CreditLine
import Foundation
import Testing

/// Payment reminders' rules (README "Payment reminders"), each at its boundary.
@Suite struct ReminderRulesTests {
    @Test(arguments: [
        (0, nil), (1, 1), (2, 1), (3, 3), (6, 3), (7, 7), (13, 7), (14, 14), (20, 14), (21, 21), (29, 21), (30, 30),
        (43, 30), (44, 44), (57, 44), (58, 58), (72, 72), (400, 394),
    ] as [(Int, Int?)])
    func theSchedule(_ days: Int, _ milestone: Int?) {
        #expect(ReminderRules.milestone(daysPastDue: days) == milestone)
    }

    @Test(arguments: [
        (ReminderRules.Facts(daysPastDue: 0, localHour: 10), ReminderRules.Verdict.hold("not_due")),
        (.init(daysPastDue: 1, localHour: 10), .send(milestone: 1)),
        (.init(daysPastDue: 2, reminded: [1], localHour: 10), .hold("already_reminded")),
        (.init(daysPastDue: 9, reminded: [1], localHour: 10), .send(milestone: 7)),  // a backlog is one reminder
        (.init(daysPastDue: 1, localHour: 7), .hold("outside_hours")),
        (.init(daysPastDue: 1, localHour: 8), .send(milestone: 1)),
        (.init(daysPastDue: 1, localHour: 20), .send(milestone: 1)),
        (.init(daysPastDue: 1, localHour: 21), .hold("outside_hours")),
        (.init(daysPastDue: 7, inLastSevenDays: 3, localHour: 10), .hold("weekly_cap")),
        (.init(daysPastDue: 7, inLastSevenDays: 2, localHour: 10), .send(milestone: 7)),
        (.init(daysPastDue: 7, inLastSevenDays: 1, localHour: 10, perSevenDays: 1), .hold("weekly_cap")),
        (.init(daysPastDue: 7, localHour: 10, perSevenDays: 0), .hold("weekly_cap")),
        (.init(daysPastDue: 7, localHour: 10, hardshipPlanInForce: true), .hold("hardship_plan")),
        (.init(daysPastDue: 7, localHour: 10, disputeOpen: true), .hold("dispute_open")),
    ])
    func theCaps(_ facts: ReminderRules.Facts, _ verdict: ReminderRules.Verdict) {
        #expect(ReminderRules.decide(facts) == verdict)
    }

    @Test(arguments: [
        ("2026-01-15T00:30:00Z", "Asia/Shanghai", 8), ("2026-01-15T12:59:59Z", "Asia/Shanghai", 20),
        ("2026-01-15T13:00:00Z", "Asia/Shanghai", 21), ("2026-01-15T20:00:00Z", "Asia/Shanghai", 4),
        ("2026-01-15T08:00:00Z", "Europe/London", 8), ("2026-07-15T08:00:00Z", "Europe/London", 9),  // summer time
        ("2026-01-15T02:00:00Z", "America/New_York", 21), ("2026-01-15T02:00:00Z", "UTC", 2),
    ])
    func theCustomersHour(_ moment: String, _ zone: String, _ hour: Int) throws {
        let now = try #require(Timestamp(rfc3339: moment))
        #expect(ReminderRules.localHour(at: now, in: try ReminderRules.timeZone(zone)) == hour)
    }

    @Test(arguments: ["Mars/Olympus", "", "GMT+8", String(repeating: "A/", count: 40), "asia/shanghai"])
    func aTimeZoneNotKnownIsRefusedNamingIt(_ zone: String) {
        do {
            _ = try ReminderRules.timeZone(zone)
            Issue.record("\(zone) was taken")
        } catch {
            #expect(error.field == "time_zone")
        }
    }

    @Test func channelsAreAClosedSetInOneOrder() throws {
        #expect(try ReminderRules.channels(["sms", "app", "sms"]) == ["app", "sms"])
        for bad in [[], ["pigeon"], ["app", "fax"]] as [[String]] {
            #expect(throws: DomainError.self) { try ReminderRules.channels(bad) }
        }
    }

    @Test func aDeliveryOnAChannelTheCustomerDidNotAllowIsRefused() throws {
        let now = Fixtures.now
        func check(_ channel: String, _ allowed: [String]?) -> String {
            do {
                try NoticeDelivery.check(createdAt: now.adding(days: -1), deliveredAt: nil, reported: now, now: now,
                                         channel: channel, allowed: allowed)
                return "ok"
            } catch { return error.field ?? error.code.rawValue }
        }
        #expect(check("sms", ["sms"]) == "ok")
        #expect(check("app", ["sms"]) == "channel")
        #expect(check("app", nil) == "ok")
    }
}
