import CreditLine

/// What an operator watches (README "Operations", "What to watch"), read at each scrape of
/// `/metrics`: every figure is zero when nothing is wrong, so an alert is a threshold on it.
public struct OperatingSignals: Sendable, Equatable {
    /// Notices not delivered by their deadline.
    public var overdueNotices: Int
    /// Age of the oldest webhook delivery still owed after a failed attempt, from its first try.
    public var oldestFailingWebhookSeconds: Int
    /// Age of the oldest review (a contest or an activation) waiting for a person.
    public var oldestOpenReviewSeconds: Int
}

extension OperatingSignals {
    /// All zero: nothing wrong, or nothing read.
    public init() { self.init(overdueNotices: 0, oldestFailingWebhookSeconds: 0, oldestOpenReviewSeconds: 0) }
}

extension Store {
    public func operatingSignals(at now: Timestamp) async throws -> OperatingSignals {
        try await read { db in
            // Each through an index: notices by due date, pending deliveries, reviews by status.
            let overdue = try Int.fetchOne(db, cached: "SELECT count(*) FROM notices WHERE delivered_at IS NULL AND due_by < ?",
                                           arguments: [now.rfc3339]) ?? 0
            let failing = try String.fetchOne(db, cached: """
                SELECT min(window_start) FROM webhook_deliveries WHERE status = 'pending' AND attempts > 0
                """)
            let review = try String.fetchOne(db, cached: "SELECT min(created_at) FROM reviews WHERE status = 'open'")
            func age(_ text: String?) -> Int {
                guard let text, let since = Timestamp(rfc3339: text) else { return 0 }
                return Int(max(0, (now.milliseconds - since.milliseconds) / 1000))
            }
            return OperatingSignals(overdueNotices: overdue, oldestFailingWebhookSeconds: age(failing),
                                    oldestOpenReviewSeconds: age(review))
        }
    }

    /// The fullest writer lane's waiting writes, and the most one may hold (`write_queue_max`):
    /// past it, writes are refused 503.
    public var writeQueue: (depth: Int, limit: Int) {
        (lanes.map(\.depth).max() ?? 0, lanes.first?.limit ?? 0)
    }
}
