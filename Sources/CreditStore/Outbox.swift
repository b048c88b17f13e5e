import CreditLine
import Foundation
import GRDB
import Synchronization

/// What the store needs to write notices in words: the templates of each locale and the policy
/// values they quote. A store is opened with it (`StoreOptions.notices`); one opened without it
/// refuses a write that owes a notice.
public struct NoticeComposer: Sendable {
    public var templates: [NoticeLocale: NoticeTemplates]
    public var settings: NoticeRules.Settings

    public init(templates: [NoticeLocale: NoticeTemplates], settings: NoticeRules.Settings) {
        (self.templates, self.settings) = (templates, settings)
    }
}

/// A notice as stored.
public struct NoticeRecord: Sendable, Equatable {
    public var id: String
    public var accountID: String
    public var kind: NoticeKind
    public var locale: NoticeLocale
    public var text: String
    public var contentSHA256: String
    public var templateVersion: String
    public var createdAt: Timestamp
    public var dueBy: Timestamp
    public var deliveredAt: Timestamp?
    public var channel: String?
    /// The channels it may be delivered by (a reminder: the customer's choice); nil for any.
    public var channels: [String]? = nil

    public func status(at now: Timestamp) -> NoticeStatus { NoticeStatus.of(deliveredAt: deliveredAt, dueBy: dueBy, now: now) }
}

/// An event as stored and as pushed: `{id, seq, type, account_id, occurred_at, data}`.
public struct EventRecord: Sendable, Equatable {
    public var seq: Int
    public var id: String
    /// The entry's action: only those that are events (`AuditAction.isEvent`).
    public var type: AuditAction
    public var tenant: String
    public var accountID: String?
    public var occurredAt: Timestamp
    /// Canonical JSON of ids, codes and amounts.
    public var data: String
    /// Its place for a reader of `GET /v1/events`: its entry's chain and seq there.
    public var chain = 0
    public var chainSeq = 0

    /// The event's JSON, the body every endpoint receives (keys in a fixed order, so the bytes a
    /// receiver verifies are the bytes sent).
    public var json: String {
        func text(_ value: String?) -> String { value.map { JSONValue.string($0).canonicalJSON } ?? "null" }
        // Canonical order (keys sorted), with the stored data, already canonical, spliced in.
        return "{\"account_id\":\(text(accountID)),\"data\":\(data),\"id\":\(text(id)),"
            + "\"occurred_at\":\(text(occurredAt.rfc3339)),\"seq\":\(seq),\"type\":\(text(type.rawValue))}"
    }
}

/// The transactional outbox (README "Events and notices"): in the transaction of every business
/// write, the notices its audit entries make due, and an event for every customer-affecting
/// entry with a delivery row for each webhook endpoint that wants it.
enum Outbox {
    /// The notices `records` make due, written, with their `notice.created` audit entries.
    static func notices(for records: [AuditRecord], composer: NoticeComposer?, db: SQLConnection, now: Timestamp) throws
        -> [AuditRecord]
    {
        var created: [AuditRecord] = []
        for record in records {
            guard let accountID = record.accountID else { continue }
            // Which notices are owed does not depend on the templates; writing them does, and a
            // store without them refuses the write instead of skipping the notice.
            let settings = composer?.settings ?? NoticeRules.Settings(coolingOffDays: 0, declineCoolOffDays: 0)
            let drafts = try record.typedEvent().notices(now: now, settings: settings)
            guard !drafts.isEmpty else { continue }
            guard let composer else { throw StoreError.noNoticeTemplates(record.action) }
            for draft in drafts {
                created.append(try insert(draft, accountID: accountID, composer: composer, db: db, now: now).1)
            }
        }
        return created
    }

    /// Writes one notice in the account's language; its audit entry holds the id, kind, template
    /// version and the text's SHA-256, never the text.
    static func insert(_ draft: NoticeDraft, accountID: String, composer: NoticeComposer, db: SQLConnection,
                       now: Timestamp, channels: [String]? = nil) throws -> (NoticeRecord, AuditRecord)
    {
        let stored = try String.fetchOne(db, cached: "SELECT locale FROM accounts WHERE id = ?", arguments: [accountID])
        // A locale that does not read, or has no templates, fails the write: a notice is never
        // sent in a language the customer did not choose.
        guard let locale = stored.flatMap(NoticeLocale.init(rawValue:)), let templates = composer.templates[locale] else {
            throw StoreError.unreadableRow(table: "accounts", column: "locale", id: accountID)
        }
        let text = templates.render(draft)
        let notice = NoticeRecord(
            id: Identifier.make("ntc"), accountID: accountID, kind: draft.kind, locale: templates.locale, text: text,
            contentSHA256: Hashing.sha256Hex(Data(text.utf8)), templateVersion: templates.version, createdAt: now,
            dueBy: draft.dueBy, channels: channels)
        try db.execute(
            cached: """
                INSERT INTO notices (id, account_id, kind, locale, text, content_sha256, template_version, created_at, due_by,
                                     channels)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [notice.id, accountID, draft.kind.rawValue, notice.locale.rawValue, text, notice.contentSHA256,
                        notice.templateVersion, now.rfc3339, draft.dueBy.rfc3339, try channels.map(StoredJSON.text)])
        return (notice, AuditRecord(.fact(.noticeCreated(
            kind: draft.kind, locale: notice.locale, templateVersion: notice.templateVersion,
            contentSHA256: notice.contentSHA256, dueBy: draft.dueBy)), accountID: accountID, subjectID: notice.id))
    }

    /// An event for every customer-affecting entry, and a pending delivery for each endpoint of
    /// the account's tenant that subscribes to its type.
    /// Each event's position is its entry's (chain, seq) (docs/audit-chain.md, "Reading the log").
    static func events(for records: [AuditRecord], at positions: [AuditPosition.Entry], db: SQLConnection, now: Timestamp) throws {
        for (record, position) in zip(records, positions) where record.action.isEvent {
            guard let accountID = record.accountID else { continue }
            let id = Identifier.make("evt")
            let data = JSONValue.object(AuditAction.eventData(record.detail)).canonicalJSON
            // An event no endpoint wants, of an account whose tenant this transaction has read,
            // needs no answer from its insert: held, and sent with the next statement.
            if let tenant = db.accountTenants[accountID],
               try !endpoints(of: tenant, db: db).contains(where: { $0.types.contains(record.action.rawValue) })
            {
                try db.enqueue(
                    cached: insertEventSQL,
                    arguments: [id, record.action.rawValue, tenant, accountID, now.rfc3339, data, position.chain, position.seq],
                    numbered: accountID)
                continue
            }
            guard let (seq, tenant) = try insertEvent(id: id, record: record, accountID: accountID, data: data, position: position,
                                                      db: db, now: now)
            else { continue }
            for endpoint in try endpoints(of: tenant, db: db) where endpoint.types.contains(record.action.rawValue) {
                try db.enqueue(
                    cached: """
                        INSERT INTO webhook_deliveries (id, endpoint_id, event_seq, account_id, status, window_start,
                                                        next_attempt_at, traceparent)
                        VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)
                        """,
                    arguments: [Identifier.make("whd"), endpoint.id, seq, accountID, now.rfc3339, now.rfc3339,
                                Traces.traceparent()])
            }
        }
    }

    private static let insertEventSQL = """
        INSERT INTO events (id, type, tenant, account_id, occurred_at, data, chain, chain_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// The event row, its tenant the account's; nil when there is no such account. On PostgreSQL
    /// the tenant comes back from the insert itself (one round trip, not two); SQLite reads it
    /// first and takes the sequence number from its last rowid.
    private static func insertEvent(id: String, record: AuditRecord, accountID: String, data: String,
                                    position: AuditPosition.Entry, db: SQLConnection, now: Timestamp) throws -> (seq: Int, tenant: String)?
    {
        switch db.dialect {
        case .postgres:
            guard let row = try StoreRow.fetchOne(db, cached: """
                INSERT INTO events (id, type, tenant, account_id, occurred_at, data, chain, chain_seq)
                SELECT ?, ?, a.tenant, a.id, ?, ?, ?, ? FROM accounts a WHERE a.id = ?
                RETURNING seq, tenant
                """, arguments: [id, record.action.rawValue, now.rfc3339, data, position.chain, position.seq, accountID])
            else { return nil }
            return (try row["seq"], try row["tenant"])
        case .sqlite:
            guard let tenant = try String.fetchOne(db, cached: "SELECT tenant FROM accounts WHERE id = ?",
                                                   arguments: [accountID]) else { return nil }
            let seq = try db.insert(
                cached: insertEventSQL, returning: "seq",
                arguments: [id, record.action.rawValue, tenant, accountID, now.rfc3339, data, position.chain, position.seq])
            return (seq, tenant)
        }
    }

    /// A tenant's endpoints and what each subscribes to, read once a transaction (a batch shares
    /// them; creating or deleting an endpoint forgets them, `SQLConnection.webhookEndpoints`).
    private static func endpoints(of tenant: String, db: SQLConnection) throws -> [SQLConnection.Endpoint] {
        if let known = db.webhookEndpoints[tenant] { return known }
        let found = try db.rowsBesideHeld(
            "SELECT id, event_types FROM webhook_endpoints WHERE tenant = ? AND deleted_at IS NULL", [tenant]
        ).map { row in SQLConnection.Endpoint(id: try row["id"], types: try StoredJSON.value([String].self, from: row["event_types"] as String)) }
        db.webhookEndpoints[tenant] = found
        return found
    }
}
