import CreditLine
import Crypto
import Foundation
import GRDB

/// A webhook endpoint as stored; the secret is shown to the operator once, when it is created.
public struct WebhookEndpoint: Sendable, Equatable {
    public var id: String
    public var tenant: String
    public var url: String
    public var eventTypes: [String]
    public var secret: String
    public var createdAt: Timestamp
    public var deletedAt: Timestamp?
}

/// One event owed to one endpoint, and how its pushes went.
public struct WebhookDelivery: Sendable, Equatable {
    public enum Status: String, Sendable { case pending, delivered, failed }
    public var id: String
    public var endpointID: String
    public var eventSeq: Int
    public var eventID: String
    public var eventType: AuditAction
    public var accountID: String?
    public var status: Status
    public var attempts: Int
    public var windowStart: Timestamp
    public var nextAttemptAt: Timestamp
    public var lastAttemptAt: Timestamp?
    public var lastStatus: Int?
    public var lastError: String?
    public var deliveredAt: Timestamp?
}

/// A delivery ready to be pushed: what to send, where, and with which secret.
public struct DueDelivery: Sendable, Equatable {
    public var id: String
    public var endpointID: String
    public var url: String
    public var secret: String
    public var body: String
    public var eventID: String
    public var attempts: Int
    public var windowStart: Timestamp
    /// The trace of the request whose write owed the push (nil while tracing is off).
    public var traceparent: String? = nil
}

extension Hashing {
    /// Lower-case hex HMAC-SHA256 (RFC 2104), the webhook signature.
    public static func hmacSHA256Hex(key: String, message: [UInt8]) -> String {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(key.utf8)))).hex
    }
}

/// An operator's endpoint for one tenant's events; the secret is made here, shown once.
public struct CreateWebhookEndpoint: BusinessWrite {
    public var tenant: String
    public var url: String
    public var host: String
    public var eventTypes: [AuditAction]

    public init(tenant: String, url: String, host: String, eventTypes: [AuditAction]) {
        (self.tenant, self.url, self.host, self.eventTypes) = (tenant, url, host, eventTypes)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (WebhookEndpoint, [AuditRecord]) {
        let endpoint = WebhookEndpoint(
            id: Identifier.make("whe"), tenant: tenant, url: url, eventTypes: eventTypes.map(\.rawValue),
            secret: "whsec_" + Identifier.randomToken(characters: 40), createdAt: now)
        try db.execute(
            cached: "INSERT INTO webhook_endpoints (id, tenant, url, event_types, secret, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [endpoint.id, tenant, url, try StoredJSON.text(endpoint.eventTypes), endpoint.secret, now.rfc3339])
        db.webhookEndpoints = [:]
        // The host is on the allowed list (configuration); the rest of the URL is the caller's
        // text and stays out of the chain.
        return (endpoint, [AuditRecord(.service(.webhookEndpointCreated(tenant: tenant, host: host,
                                                                         eventTypes: endpoint.eventTypes)),
                                       subjectID: endpoint.id)])
    }
}

/// Deleting an endpoint stops its pushes: what it was still owed is marked failed.
public struct DeleteWebhookEndpoint: BusinessWrite {
    public var id: String

    public init(id: String) { self.id = id }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (Bool, [AuditRecord]) {
        let endpoint = try Existence.require(try Store.fetchEndpoint(db, id: id).flatMap { $0.deletedAt == nil ? $0 : nil },
                                             "webhook endpoint")
        try db.execute(cached: "UPDATE webhook_endpoints SET deleted_at = ? WHERE id = ?", arguments: [now.rfc3339, id])
        db.webhookEndpoints = [:]
        try db.execute(
            cached: "UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint deleted' WHERE endpoint_id = ? AND status = 'pending'",
            arguments: [id])
        return (true, [AuditRecord(.service(.webhookEndpointDeleted(tenant: endpoint.tenant)), subjectID: id)])
    }
}

/// A delivery claimed for one push by one instance (README "Events and notices"): taken only if it
/// is still pending and nobody's claim on it is running; the claim lapses at `until`, so that a
/// crashed instance's deliveries are taken by another. False: someone else has it, or it settled.
public struct ClaimDelivery: BusinessWrite {
    public var deliveryID: String
    public var owner: String
    public var until: Timestamp

    public init(deliveryID: String, owner: String, until: Timestamp) {
        (self.deliveryID, self.owner, self.until) = (deliveryID, owner, until)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (Bool, [AuditRecord]) {
        try db.execute(
            cached: """
                UPDATE webhook_deliveries SET lease_owner = ?, lease_expires_at = ?
                WHERE id = ? AND status = 'pending' AND (lease_expires_at IS NULL OR lease_expires_at <= ?)
                """, arguments: [owner, until.rfc3339, deliveryID, now.rfc3339])
        return (db.changesCount == 1, [])
    }
}

/// An instance's claims given up as it stops: what it did not push is free at once for the next
/// instance (or itself after a restart) instead of when the claims would have lapsed.
public struct ReleaseDeliveryClaims: BusinessWrite {
    public var owner: String

    public init(owner: String) { self.owner = owner }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (Int, [AuditRecord]) {
        try db.execute(
            cached: "UPDATE webhook_deliveries SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = ?",
            arguments: [owner])
        return (db.changesCount, [])
    }
}

/// The outcome of one push, and when to try again.
public struct RecordDeliveryAttempt: BusinessWrite {
    public enum Outcome: Sendable, Equatable {
        case delivered(status: Int)
        case failed(status: Int?, error: String)
    }

    public var deliveryID: String
    /// The instance whose claim the push was made under; nil records without one (tools, tests).
    public var owner: String?
    public var outcome: Outcome
    public var retryHours: Int
    public var baseMilliseconds: Int
    public var jitter: Double

    public init(deliveryID: String, owner: String? = nil, outcome: Outcome, retryHours: Int, baseMilliseconds: Int,
                jitter: Double)
    {
        (self.deliveryID, self.owner, self.outcome, self.retryHours) = (deliveryID, owner, outcome, retryHours)
        (self.baseMilliseconds, self.jitter) = (baseMilliseconds, jitter)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (WebhookDelivery.Status, [AuditRecord]) {
        let row = try Existence.require(try StoreRow.fetchOne(
            db, cached: "SELECT attempts, window_start, status, lease_owner FROM webhook_deliveries WHERE id = ?",
            arguments: [deliveryID]),
            "delivery")
        // Deleted or already settled while the push was out: its result changes nothing.
        guard try row["status"] as String == "pending" else { return (.failed, []) }
        // The claim lapsed and another instance holds the delivery now: that push is the one
        // recorded (this one reached the receiver too; receivers dedupe by Creditline-Event-Id).
        if let owner, let holder = try row["lease_owner"] as String?, holder != owner {
            return (.pending, [])
        }
        let attempts = (try row["attempts"] as Int) + 1
        switch outcome {
        case .delivered(let status):
            try db.execute(
                cached: """
                    UPDATE webhook_deliveries SET status = 'delivered', attempts = ?, last_attempt_at = ?, last_status = ?,
                        last_error = NULL, delivered_at = ?, lease_owner = NULL, lease_expires_at = NULL
                    WHERE id = ?
                    """, arguments: [attempts, now.rfc3339, status, now.rfc3339, deliveryID])
            return (.delivered, [])
        case .failed(let status, let error):
            let windowStart = try TypedRow(row, table: "webhook_deliveries").timestamp("window_start")
            let exhausted = WebhookRules.isExhausted(windowStart: windowStart, now: now, retryHours: retryHours)
            let delay = WebhookRules.delayMilliseconds(afterAttempts: attempts, baseMilliseconds: baseMilliseconds,
                                                       jitter: jitter)
            try db.execute(
                cached: """
                    UPDATE webhook_deliveries SET status = ?, attempts = ?, last_attempt_at = ?, last_status = ?,
                        last_error = ?, next_attempt_at = ?, lease_owner = NULL, lease_expires_at = NULL
                    WHERE id = ?
                    """,
                arguments: [exhausted ? "failed" : "pending", attempts, now.rfc3339, status, String(error.prefix(200)),
                            Timestamp(milliseconds: now.milliseconds + Int64(delay)).rfc3339, deliveryID])
            return (exhausted ? .failed : .pending, [])
        }
    }
}

/// An operator's redelivery: the event's failed deliveries are tried again, in a new window.
public struct RedeliverEvent: BusinessWrite {
    public var eventID: String

    public init(eventID: String) { self.eventID = eventID }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (Int, [AuditRecord]) {
        let seq = try Existence.require(try Int.fetchOne(db, cached: "SELECT seq FROM events WHERE id = ?", arguments: [eventID]),
                                        "event")
        try db.execute(
            cached: """
                UPDATE webhook_deliveries SET status = 'pending', window_start = ?, next_attempt_at = ?
                WHERE event_seq = ? AND status = 'failed'
                  AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE deleted_at IS NULL)
                """, arguments: [now.rfc3339, now.rfc3339, seq])
        return (db.changesCount, [])
    }
}

/// The calling app reports that it showed or sent a notice.
public struct RecordNoticeDelivery: BusinessWrite {
    public var noticeID: String
    public var channel: String
    public var deliveredAt: Timestamp

    public init(noticeID: String, channel: String, deliveredAt: Timestamp) {
        (self.noticeID, self.channel, self.deliveredAt) = (noticeID, channel, deliveredAt)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (NoticeRecord, [AuditRecord]) {
        let found = try Store.fetchNotice(db, id: noticeID)
        try NoticeDelivery.check(createdAt: found?.createdAt, deliveredAt: found?.deliveredAt, reported: deliveredAt, now: now,
                                 channel: channel, allowed: found?.channels)
        var notice = try Existence.require(found, "notice")
        // When the report arrived is the service's own fact, beside the caller's delivered_at.
        try db.execute(cached: "UPDATE notices SET delivered_at = ?, channel = ?, received_at = ? WHERE id = ?",
                       arguments: [deliveredAt.rfc3339, channel, now.rfc3339, noticeID])
        notice.deliveredAt = deliveredAt
        notice.channel = channel
        return (notice, [AuditRecord(.fact(.noticeDelivered(
            kind: notice.kind, templateVersion: notice.templateVersion, contentSHA256: notice.contentSHA256,
            channel: channel, deliveredAt: deliveredAt)), accountID: notice.accountID, subjectID: noticeID)])
    }
}

/// The sweep's notices of consents that end within 30 days, each once.
public struct AnnounceExpiringConsents: BusinessWrite {
    /// At most this many a transaction; the sweep repeats while a full batch comes back.
    public static let batch = 500
    public var composer: NoticeComposer

    public init(composer: NoticeComposer) { self.composer = composer }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (Int, [AuditRecord]) {
        let rows = try StoreRow.fetchAll(
            db, cached: """
                SELECT id, account_id, purpose, expires_at FROM consents
                WHERE status = 'active' AND expiry_notice_id IS NULL AND expires_at > ? AND expires_at <= ?
                LIMIT ?
                """, arguments: [now.rfc3339, now.adding(days: NoticeRules.consentExpiringDays).rfc3339, Self.batch])
        var records: [AuditRecord] = []
        for row in rows {
            let typed = TypedRow(row, table: "consents")
            let draft = NoticeRules.consentExpiring(purpose: try typed.value("purpose"), expiresAt: try typed.timestamp("expires_at"))
            let (notice, record) = try Outbox.insert(draft, accountID: row["account_id"], composer: composer, db: db, now: now)
            try db.execute(cached: "UPDATE consents SET expiry_notice_id = ? WHERE id = ?", arguments: [notice.id, row["id"] as String])
            records.append(record)
        }
        return (rows.count, records)
    }
}

extension Store {
    public static let maxEventPage = 1_000

    /// Events after `position`, chain by chain, each chain in the order of its entries, of the
    /// scope's tenant (docs/audit-chain.md, "Reading the log").
    public func events(after position: AuditPosition, limit: Int, type: String?, scope: TenantScope) async throws
        -> (events: [EventRecord], next: AuditPosition, hasMore: Bool)
    {
        try await read { db in
            let page = try Self.pageByChain(db, after: position, limit: limit, seq: \.chainSeq) { chain, after, count in
                try StoreRow.fetchAll(db, cached: """
                    SELECT \(Store.eventColumns.list) FROM events
                    WHERE chain = ?1 AND chain_seq > ?2 AND (CAST(?3 AS TEXT) IS NULL OR tenant = ?3) AND (CAST(?4 AS TEXT) IS NULL OR type = ?4)
                    ORDER BY chain_seq LIMIT ?5
                    """, arguments: [chain, after, scope.tenant, type, count]).map(Self.event(from:))
            }
            return (page.items, page.next, page.hasMore)
        }
    }

    static func event(from row: StoreRow) throws -> EventRecord {
        var read = ColumnReader(row, table: "events")
        return EventRecord(seq: try read("seq"), id: try read("id"), type: try read.value("type"), tenant: try read("tenant"),
                           accountID: try read("account_id"), occurredAt: try read.timestamp("occurred_at"), data: try read("data"),
                           chain: try read("chain"), chainSeq: try read("chain_seq"))
    }

    static let eventColumns = TableColumns("events", "seq, id, type, tenant, account_id, occurred_at, data, chain, chain_seq")

    public func webhookEndpoint(id: String) async throws -> WebhookEndpoint? {
        try await read { db in try Self.fetchEndpoint(db, id: id) }
    }

    static func fetchEndpoint(_ db: SQLConnection, id: String) throws -> WebhookEndpoint? {
        try StoreRow.fetchOne(db, cached: "SELECT \(endpointColumns.list) FROM webhook_endpoints WHERE id = ?", arguments: [id])
            .map { row in
                var read = ColumnReader(row, table: "webhook_endpoints")
                return WebhookEndpoint(
                    id: try read("id"), tenant: try read("tenant"), url: try read("url"),
                    eventTypes: try read.json("event_types", as: [String].self), secret: try read("secret"),
                    createdAt: try read.timestamp("created_at"), deletedAt: try read.optionalTimestamp("deleted_at"))
            }
    }

    static let endpointColumns = TableColumns("webhook_endpoints", "id, tenant, url, event_types, secret, created_at, deleted_at")

    /// An endpoint's deliveries in event order.
    public func deliveries(endpointID: String, afterSeq: Int, limit: Int) async throws -> [WebhookDelivery] {
        try await read { db in
            try StoreRow.fetchAll(db, cached: """
                SELECT \(Store.deliveryColumns.list) FROM webhook_deliveries d
                JOIN events e ON e.seq = d.event_seq
                WHERE d.endpoint_id = ? AND d.event_seq > ? ORDER BY d.event_seq LIMIT ?
                """, arguments: [endpointID, afterSeq, limit]).map(Self.delivery(from:))
        }
    }

    static func delivery(from row: StoreRow) throws -> WebhookDelivery {
        var read = ColumnReader(row, table: "webhook_deliveries")
        return WebhookDelivery(
            id: try read("id"), endpointID: try read("endpoint_id"), eventSeq: try read("event_seq"), eventID: try read("event_id"),
            eventType: try read.value("event_type"), accountID: try read("account_id"), status: try read.value("status"),
            attempts: try read("attempts"), windowStart: try read.timestamp("window_start"),
            nextAttemptAt: try read.timestamp("next_attempt_at"),
            lastAttemptAt: try read.optionalTimestamp("last_attempt_at"), lastStatus: try read("last_status"),
            lastError: try read("last_error"), deliveredAt: try read.optionalTimestamp("delivered_at"))
    }

    /// A delivery row joined with its event's id and type (the query names the delivery `d` and
    /// the event `e`).
    static let deliveryColumns = TableColumns("webhook_deliveries", """
        d.id, d.endpoint_id, d.event_seq, e.id AS event_id, e.type AS event_type, d.account_id, d.status, d.attempts,
        d.window_start, d.next_attempt_at, d.last_attempt_at, d.last_status, d.last_error, d.delivered_at
        """)

    /// Deliveries due now and not claimed, at most `limit`, and for each (endpoint, account) only the
    /// oldest still pending: an account's events reach an endpoint in `seq` order. Of each endpoint
    /// only as many are offered as it has slots left of `perEndpoint` (claims held by any instance
    /// take slots). A tenant's place in the list is its delivery's rank among the tenant's own
    /// (oldest first) plus the pushes the tenant already has in flight (claims held by any
    /// instance), so that a slot coming free goes to the tenant holding the fewest: one tenant's
    /// backlog or slow receivers, however many slots they hold, do not keep another tenant's
    /// deliveries waiting behind them (README "Events and notices").
    public func dueDeliveries(at now: Timestamp, limit: Int, perEndpoint: Int) async throws -> [DueDelivery] {
        try await read { db in
            try StoreRow.fetchAll(db, cached: """
                SELECT fair.* FROM (
                    SELECT ranked.*, ROW_NUMBER() OVER (PARTITION BY ranked.tenant ORDER BY ranked.endpoint_rank, ranked.seq)
                               AS tenant_rank
                    FROM (
                        SELECT d.id, d.endpoint_id, d.attempts, d.window_start, d.traceparent, w.url, w.secret, e.seq,
                               e.id AS event_id,
                               e.type, e.tenant, e.account_id, e.occurred_at, e.data,
                               ROW_NUMBER() OVER (PARTITION BY d.endpoint_id ORDER BY d.event_seq) AS endpoint_rank
                        FROM webhook_deliveries d
                        JOIN webhook_endpoints w ON w.id = d.endpoint_id
                        JOIN events e ON e.seq = d.event_seq
                        WHERE d.status = 'pending' AND d.next_attempt_at <= ?1
                          AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= ?1)
                          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries earlier
                                          WHERE earlier.endpoint_id = d.endpoint_id
                                            AND earlier.account_id IS NOT DISTINCT FROM d.account_id
                                            AND earlier.status = 'pending' AND earlier.event_seq < d.event_seq)
                    ) ranked
                ) fair
                LEFT JOIN (SELECT w.tenant, COUNT(*) AS held
                           FROM webhook_deliveries h JOIN webhook_endpoints w ON w.id = h.endpoint_id
                           WHERE h.status = 'pending' AND h.lease_expires_at > ?1
                           GROUP BY w.tenant) busy ON busy.tenant = fair.tenant
                WHERE fair.endpoint_rank <= ?3 - (SELECT COUNT(*) FROM webhook_deliveries held
                                                  WHERE held.endpoint_id = fair.endpoint_id AND held.status = 'pending'
                                                    AND held.lease_expires_at > ?1)
                ORDER BY fair.tenant_rank + COALESCE(busy.held, 0), fair.seq LIMIT ?2
                """, arguments: [now.rfc3339, limit, perEndpoint]).map { row in
                let event = EventRecord(
                    seq: try row["seq"], id: try row["event_id"], type: try TypedRow(row, table: "events").value("type"), tenant: try row["tenant"],
                    accountID: try row["account_id"], occurredAt: try TypedRow(row, table: "events").timestamp("occurred_at"),
                    data: try row["data"])
                return DueDelivery(id: try row["id"], endpointID: try row["endpoint_id"], url: try row["url"], secret: try row["secret"],
                                   body: event.json, eventID: event.id, attempts: try row["attempts"],
                                   windowStart: try TypedRow(row, table: "webhook_deliveries").timestamp("window_start"),
                                   traceparent: try row["traceparent"])
            }
        }
    }

    public func notices(accountID: String) async throws -> [NoticeRecord] {
        try await read { db in try Self.fetchNotices(db, accountID: accountID) }
    }

    static func fetchNotices(_ db: SQLConnection, accountID: String) throws -> [NoticeRecord] {
        try StoreRow.fetchAll(db, cached: "SELECT \(Store.noticeColumns.list) FROM notices WHERE account_id = ? ORDER BY created_at, id",
                              arguments: [accountID]).map(Self.notice(from:))
    }

    /// Notices in a state, oldest deadline first, of the scope's tenant; at most 1,000.
    public func notices(status: NoticeStatus, now: Timestamp, scope: TenantScope) async throws -> [NoticeRecord] {
        try await read { db in
            try StoreRow.fetchAll(db, cached: """
                SELECT \(Store.noticeColumns.list(alias: "n")) FROM notices n JOIN accounts a ON a.id = n.account_id
                WHERE (CAST(?1 AS TEXT) IS NULL OR a.tenant = ?1)
                  AND CASE ?2 WHEN 'delivered' THEN n.delivered_at IS NOT NULL
                              WHEN 'overdue' THEN n.delivered_at IS NULL AND n.due_by < ?3
                              ELSE n.delivered_at IS NULL AND n.due_by >= ?3 END
                ORDER BY n.due_by, n.id LIMIT 1000
                """, arguments: [scope.tenant, status.rawValue, now.rfc3339]).map(Self.notice(from:))
        }
    }

    /// Notices past their deadline and not delivered, for the metric.
    static func fetchNotice(_ db: SQLConnection, id: String) throws -> NoticeRecord? {
        try StoreRow.fetchOne(db, cached: "SELECT \(Store.noticeColumns.list) FROM notices WHERE id = ?", arguments: [id]).map(notice(from:))
    }

    static func notice(from row: StoreRow) throws -> NoticeRecord {
        var read = ColumnReader(row, table: "notices")
        return NoticeRecord(
            id: try read("id"), accountID: try read("account_id"), kind: try read.value("kind"), locale: try read.value("locale"),
            text: try read("text"), contentSHA256: try read("content_sha256"), templateVersion: try read("template_version"),
            createdAt: try read.timestamp("created_at"), dueBy: try read.timestamp("due_by"),
            deliveredAt: try read.optionalTimestamp("delivered_at"), channel: try read("channel"),
            channels: try read.optionalJSON("channels", as: [String].self))
    }

    static let noticeColumns = TableColumns("notices", """
        id, account_id, kind, locale, text, content_sha256, template_version, created_at, due_by, delivered_at,
        channel, channels
        """)
}
