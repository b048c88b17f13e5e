import CreditLine

/// What an operator watches (README "Operations", "What to watch"), read at each scrape of
/// `/metrics`: every figure is zero when nothing is wrong, so an alert is a threshold on it.
public struct OperatingSignals: Sendable, Equatable {
    /// Notices not delivered by their deadline.
    public var overdueNotices: Int
    /// Age of the oldest webhook delivery still owed after a failed attempt, from its first try.
    public var oldestFailingWebhookSeconds: Int
    /// Deliveries given up after `webhook_retry_hours` of failures whose last attempt was in the
    /// last 24 hours, not redelivered since, to endpoints not deleted. Giving up takes a delivery
    /// out of `oldestFailingWebhookSeconds`; this keeps it in sight for a day.
    public var webhookDeliveriesGivenUp: Int
    /// Age of the oldest review (a contest or an activation) waiting for a person.
    public var oldestOpenReviewSeconds: Int
}

extension OperatingSignals {
    /// All zero: nothing wrong, or nothing read.
    public init() {
        self.init(overdueNotices: 0, oldestFailingWebhookSeconds: 0, webhookDeliveriesGivenUp: 0, oldestOpenReviewSeconds: 0)
    }

    /// How far back a given-up delivery counts in `webhookDeliveriesGivenUp`.
    public static let givenUpWindowMilliseconds: Int64 = 24 * 3_600_000
}

extension Store {
    public func operatingSignals(at now: Timestamp) async throws -> OperatingSignals {
        try await read { db in
            // Each through an index: notices by due date, pending deliveries, failed deliveries by
            // their last attempt, reviews by status.
            let overdue = try Int.fetchOne(db, cached: "SELECT count(*) FROM notices WHERE delivered_at IS NULL AND due_by < ?",
                                           arguments: [now.rfc3339]) ?? 0
            let failing = try String.fetchOne(db, cached: """
                SELECT min(window_start) FROM webhook_deliveries WHERE status = 'pending' AND attempts > 0
                """)
            // A delivery failed because its endpoint was deleted is an operator's choice, not a
            // receiver's failure.
            let givenUp = try Int.fetchOne(db, cached: """
                SELECT count(*) FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
                WHERE d.status = 'failed' AND d.last_attempt_at >= ? AND w.deleted_at IS NULL
                """, arguments: [Timestamp(milliseconds: now.milliseconds - OperatingSignals.givenUpWindowMilliseconds).rfc3339]) ?? 0
            let review = try String.fetchOne(db, cached: "SELECT min(created_at) FROM reviews WHERE status = 'open'")
            func age(_ text: String?) -> Int {
                guard let text, let since = Timestamp(rfc3339: text) else { return 0 }
                return Int(max(0, (now.milliseconds - since.milliseconds) / 1000))
            }
            return OperatingSignals(overdueNotices: overdue, oldestFailingWebhookSeconds: age(failing),
                                    webhookDeliveriesGivenUp: givenUp, oldestOpenReviewSeconds: age(review))
        }
    }

    /// The fullest writer lane's waiting writes, and the most one may hold (`write_queue_max`):
    /// past it, writes are refused 503.
    public var writeQueue: (depth: Int, limit: Int) {
        (lanes.map(\.depth).max() ?? 0, lanes.first?.limit ?? 0)
    }
}
