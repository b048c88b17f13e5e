import Foundation

/// Humane reminders (README "Payment reminders"): a customer who is behind is reminded on a
/// schedule the service owns, at civil hours in their own time zone, a few times a week at most,
/// and not at all while a hardship plan or a dispute covers the debt.
public enum ReminderRules {
    /// Days past due a reminder is owed at; after the last, one every `repeatDays`.
    public static let milestones = [1, 3, 7, 14, 21, 30]
    public static let repeatDays = 14
    /// Reminders are written (and so pushed) only from 08:00 to before 21:00, the customer's time.
    public static let hours = 8..<21
    public static let defaultPerSevenDays = 3
    public static let defaultTimeZone = "Asia/Shanghai"

    /// The latest milestone reached at `daysPastDue`: nil before the first day past due. A sweep
    /// that finds several passed at once (a service that was down, the demo clock's jump) owes
    /// only the latest: a backlog of reminders is never sent.
    public static func milestone(daysPastDue: Int) -> Int? {
        guard let last = milestones.last, daysPastDue >= 1 else { return nil }
        guard daysPastDue > last else { return milestones.last { $0 <= daysPastDue } }
        return last + (daysPastDue - last) / repeatDays * repeatDays
    }

    public struct Facts: Sendable, Equatable {
        public var daysPastDue: Int
        /// Milestones already reminded in this episode of arrears (since the oldest unpaid due date).
        public var reminded: Set<Int>
        /// Reminders written to this account in the 7 days before now.
        public var inLastSevenDays: Int
        /// The hour of day where the customer lives (0–23).
        public var localHour: Int
        public var hardshipPlanInForce: Bool
        public var disputeOpen: Bool
        public var perSevenDays: Int

        public init(daysPastDue: Int, reminded: Set<Int> = [], inLastSevenDays: Int = 0, localHour: Int, hardshipPlanInForce: Bool = false,
                    disputeOpen: Bool = false, perSevenDays: Int = ReminderRules.defaultPerSevenDays)
        {
            (self.daysPastDue, self.reminded, self.inLastSevenDays, self.localHour) = (daysPastDue, reminded, inLastSevenDays, localHour)
            (self.hardshipPlanInForce, self.disputeOpen, self.perSevenDays) = (hardshipPlanInForce, disputeOpen, perSevenDays)
        }
    }

    public enum Verdict: Sendable, Equatable {
        case send(milestone: Int)
        /// Nothing now; the reason, for tests and logs.
        case hold(String)
    }

    /// Whether a reminder is written now, first reason to hold first.
    public static func decide(_ facts: Facts) -> Verdict {
        guard let milestone = milestone(daysPastDue: facts.daysPastDue) else { return .hold("not_due") }
        if facts.hardshipPlanInForce { return .hold("hardship_plan") }
        if facts.disputeOpen { return .hold("dispute_open") }
        if facts.reminded.contains(milestone) { return .hold("already_reminded") }
        if !hours.contains(facts.localHour) { return .hold("outside_hours") }
        if facts.inLastSevenDays >= facts.perSevenDays { return .hold("weekly_cap") }
        return .send(milestone: milestone)
    }

    /// The reminder itself: how long and how much is overdue, and where to ask for help. Due to
    /// be shown within a day, as the notices of a change are.
    public static func notice(daysPastDue: Int, overdue: Int, now: Timestamp) -> NoticeDraft {
        NoticeDraft(kind: .paymentReminder, values: ["days_past_due": .number(daysPastDue), "overdue": .amount(overdue)],
                    dueBy: now.adding(days: NoticeRules.defaultDays))
    }

    /// The hour of day at `now` in `timeZone` (an IANA name the preferences accepted).
    public static func localHour(at now: Timestamp, in timeZone: TimeZone) -> Int {
        let seconds = now.milliseconds.floorDiv(1_000)
        let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
        let local = seconds + offset
        return Int((local - local.floorDiv(86_400) * 86_400) / 3_600)
    }

    /// A time zone preference: an IANA name this machine knows (422 naming `time_zone`).
    public static func timeZone(_ name: String) throws(DomainError) -> TimeZone {
        guard name.utf8.count <= 64, name.contains("/") || name == "UTC", let zone = TimeZone(identifier: name) else {
            throw .invalidField("time_zone", "time_zone must be an IANA time zone name, such as Asia/Shanghai.")
        }
        return zone
    }

    /// The channels a customer allows reminders on: a non-empty set of notice channels, in the
    /// list's order without repeats (422 naming `reminder_channels`).
    public static func channels(_ names: [String]) throws(DomainError) -> [String] {
        guard !names.isEmpty, names.allSatisfy(NoticeDelivery.channels.contains) else {
            throw .invalidField("reminder_channels",
                                "reminder_channels must list one or more of \(NoticeDelivery.channels.joined(separator: ", ")).")
        }
        return NoticeDelivery.channels.filter(names.contains)
    }
}
