import CreditLine
import Crypto
import Foundation
import GRDB

/// A console session as the console uses it: the key behind it and the CSRF token its forms carry.
public struct ConsoleSession: Sendable, Equatable {
    public var key: APIKey
    public var csrfToken: String
}

/// Opens a console session for a key that may sign in (README "Console"). The cookie value is
/// returned once; only its hash is stored.
public struct StartConsoleSession: BusinessWrite {
    public var key: APIKey

    public init(key: APIKey) { self.key = key }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> ((token: String, session: ConsoleSession), [AuditRecord]) {
        let token = KeyToken.newSecret()
        let csrf = KeyToken.newSecret()
        try db.execute(
            cached: """
                INSERT INTO console_sessions (id_sha256, key_id, csrf_token, created_at, last_seen_at)
                VALUES (?, ?, ?, ?, ?)
                """,
            arguments: [Hashing.sha256Hex(Data(token.utf8)), key.id, csrf, now.rfc3339, now.rfc3339])
        return ((token, ConsoleSession(key: key, csrfToken: csrf)),
                [AuditRecord(.service(.consoleSignedIn(role: key.role)))])
    }
}

/// Ends a session on the server: its cookie opens nothing after this.
public struct EndConsoleSession: BusinessWrite {
    public var token: String

    public init(token: String) { self.token = token }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (Bool, [AuditRecord]) {
        try db.execute(cached: "UPDATE console_sessions SET ended_at = ? WHERE id_sha256 = ? AND ended_at IS NULL",
                       arguments: [now.rfc3339, Hashing.sha256Hex(Data(token.utf8))])
        guard db.changesCount > 0 else { return (false, []) }
        return (true, [AuditRecord(.service(.consoleSignedOut))])
    }
}

/// A session seen again: its idle clock starts over. Nothing for the audit chain.
struct TouchConsoleSession: BusinessWrite {
    var idSHA256: String

    func apply(_ db: SQLConnection, now: Timestamp) throws -> (Bool, [AuditRecord]) {
        try db.execute(cached: "UPDATE console_sessions SET last_seen_at = ? WHERE id_sha256 = ? AND ended_at IS NULL",
                       arguments: [now.rfc3339, idSHA256])
        return (db.changesCount > 0, [])
    }
}

extension Store {
    /// The live session a cookie names, with its key (still active); its clock is moved on when
    /// it was last seen more than a minute ago, so a page view is not a write every time.
    public func consoleSession(token: String, now: Timestamp) async throws -> ConsoleSession? {
        let id = Hashing.sha256Hex(Data(token.utf8))
        let found = try await read { db -> (ConsoleSession, Timestamp)? in
            guard let row = try StoreRow.fetchOne(
                db, sql: "SELECT id_sha256, key_id, csrf_token, created_at, last_seen_at, ended_at FROM console_sessions WHERE id_sha256 = ?",
                arguments: [id])
            else { return nil }
            // A session whose times do not read is refused loudly, not taken as live or as ended.
            var read = ColumnReader(row, table: "console_sessions")
            let (_, keyID, csrf): (String, String, String) = (try read("id_sha256"), try read("key_id"), try read("csrf_token"))
            let (created, seen, ended) = (try read.timestamp("created_at"), try read.timestamp("last_seen_at"),
                                          try read.optionalTimestamp("ended_at"))
            guard ConsoleSessionRules.isLive(createdAt: created, lastSeenAt: seen, endedAt: ended, now: now),
                  let key = try Self.fetchKey(db, id: keyID), key.revokedAt == nil
            else { return nil }
            return (ConsoleSession(key: key, csrfToken: csrf), seen)
        }
        guard let (session, seen) = found else { return nil }
        if now.milliseconds - seen.milliseconds > 60_000 {
            _ = try await perform(TouchConsoleSession(idSHA256: id), by: .system("console"))
        }
        return session
    }
}

/// Everything the console shows of one account, read in one transaction: its state, consents,
/// decisions (newest first), notices and the first 1,000 entries of its audit timeline.
public struct AccountDossier: Sendable {
    public var account: Account
    public var consents: [Consent]
    public var decisions: [Decision]
    public var notices: [NoticeRecord]
    public var timeline: [AuditEntry]
}

extension Store {
    /// An account's decisions, newest first.
    static func fetchDecisions(_ db: SQLConnection, accountID: String) throws -> [Decision] {
        try StoreRow.fetchAll(db, sql: "SELECT \(Store.decisionColumns.list) FROM decisions WHERE account_id = ? ORDER BY scored_at DESC, id DESC",
                              arguments: [accountID]).map(Self.decision(from:))
    }

    /// The account page's reads, one transaction instead of five; nil when the account does not
    /// exist or `scope` does not see it.
    public func accountDossier(id: String, scope: TenantScope) async throws -> AccountDossier? {
        try await read { db in
            guard let account = try Self.fetchAccount(db, id: id), scope.sees(account.tenant) else { return nil }
            return AccountDossier(
                account: account, consents: try Self.fetchConsents(db, accountID: id),
                decisions: try Self.fetchDecisions(db, accountID: id), notices: try Self.fetchNotices(db, accountID: id),
                timeline: try Self.auditPage(db, accountID: id, action: nil, after: AuditPosition(), limit: 1000, scope: scope).entries)
        }
    }

    /// Deliveries that failed for good, or are being retried after a failure, newest first, for
    /// the endpoints a key sees.
    public func failingDeliveries(scope: TenantScope, limit: Int) async throws -> [WebhookDelivery] {
        try await read { db in
            try StoreRow.fetchAll(db, sql: """
                SELECT \(Store.deliveryColumns.list) FROM webhook_deliveries d
                JOIN events e ON e.seq = d.event_seq JOIN webhook_endpoints w ON w.id = d.endpoint_id
                WHERE (d.status = 'failed' OR (d.status = 'pending' AND d.attempts > 0)) AND (CAST(?1 AS TEXT) IS NULL OR w.tenant = ?1)
                ORDER BY d.event_seq DESC LIMIT ?2
                """, arguments: [scope.tenant, limit]).map(Self.delivery(from:))
        }
    }
}

extension Store {
    /// Sessions that can no longer be used (signed out, idle past 30 minutes, or older than 8
    /// hours) are deleted by the sweep: their sign-in and sign-out stay in the audit log, and the
    /// table holds only what a cookie could still open (README "Console").
    public func purgeConsoleSessions(at now: Timestamp) async throws -> Int {
        try await write { db in
            try db.execute(
                cached: """
                    DELETE FROM console_sessions
                    WHERE ended_at IS NOT NULL OR last_seen_at <= ? OR created_at <= ?
                    """,
                arguments: [now.adding(seconds: -ConsoleSessionRules.idleSeconds).rfc3339,
                            now.adding(seconds: -ConsoleSessionRules.maxSeconds).rfc3339])
            return db.changesCount
        }
    }
}
