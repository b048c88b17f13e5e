import CreditLine
import Crypto
import Foundation
import GRDB

/// A page of the audit log, oldest first.
public struct AuditPage: Sendable {
    public var entries: [AuditEntry]
    /// The cursor for the next page; nil at the end.
    public var nextAfterSeq: Int?
}

/// A checkpoint signed by the service: what it claimed its log's head was, at a time.
public struct SignedHead: Sendable, Equatable {
    public var seq: Int
    public var hash: String
    public var at: String
    /// Base64 Ed25519 signature over `message`.
    public var signature: String

    /// The signed bytes: `seq`, `hash` and `at` joined by newlines.
    public static func message(seq: Int, hash: String, at: String) -> Data { Data("\(seq)\n\(hash)\n\(at)".utf8) }

    /// Checks a checkpoint against a public key, as an auditor would with their own tools.
    public static func isValid(seq: Int, hash: String, at: String, signature: String, publicKey: Data) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey),
            let signatureBytes = Data(base64Encoded: signature)
        else { return false }
        return key.isValidSignature(signatureBytes, for: message(seq: seq, hash: hash, at: at))
    }
}

/// The service's Ed25519 key for signing checkpoints, generated on first start beside the
/// database (`<db>.audit-key`, owner-only) and never sent anywhere; its public half is published.
public struct AuditSigner: Sendable {
    /// The raw 32-byte private key; the CryptoKit-style key type is rebuilt per use.
    let rawKey: Data
    var key: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: rawKey) }

    /// `path` nil: beside the database, `<db>.audit-key`. A key file others can read is made
    /// owner-only again: whoever holds it can sign checkpoints in the service's name.
    public static func loadOrCreate(path explicitPath: String? = nil, databasePath: String) throws -> AuditSigner {
        let path = explicitPath ?? databasePath + ".audit-key"
        if let data = FileManager.default.contents(atPath: path) {
            _ = try Curve25519.Signing.PrivateKey(rawRepresentation: data)  // refuse a corrupt file at start-up
            _ = chmod(path, 0o600)
            return AuditSigner(rawKey: data)
        }
        let key = Curve25519.Signing.PrivateKey()
        // Its folder is made as the database's is (on PostgreSQL the default data/ may not exist
        // yet), for the owner only: it holds the signing key.
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                     attributes: [.posixPermissions: 0o700])
        }
        guard OwnerOnlyFile.create(path, contents: Array(key.rawRepresentation)) else {
            throw StoreError.signingKeyUnwritable(path)
        }
        return AuditSigner(rawKey: key.rawRepresentation)
    }

    public var publicKey: Data { key.publicKey.rawRepresentation }

    public func sign(seq: Int, hash: String, at: String) throws -> SignedHead {
        let signature = try key.signature(for: SignedHead.message(seq: seq, hash: hash, at: at))
        return SignedHead(seq: seq, hash: hash, at: at, signature: signature.base64EncodedString())
    }
}

extension Store {
    public static let maxAuditPage = 1000

    /// Entries after `afterSeq`, optionally of one account and one action, at most `limit`. A
    /// tenant's auditor sees the entries of that tenant's accounts only.
    public func auditPage(accountID: String?, action: String?, afterSeq: Int, limit: Int,
                          scope: TenantScope = .all) async throws -> AuditPage
    {
        try await read { db in
            let entries = try Self.auditEntries(db, accountID: accountID, action: action, afterSeq: afterSeq,
                                                limit: limit + 1, scope: scope)
            let page = Array(entries.prefix(limit))
            return AuditPage(entries: page, nextAfterSeq: entries.count > limit ? page.last?.seq : nil)
        }
    }

    static func auditEntries(_ db: SQLConnection, accountID: String?, action: String?, afterSeq: Int, limit: Int,
                             scope: TenantScope) throws -> [AuditEntry]
    {
        // Two constant statements, so that one account's entries are read through its index
        // (audit_log_account) and everything else in seq order; an absent filter is a NULL.
        let rows: [StoreRow]
        if let accountID {
            rows = try StoreRow.fetchAll(db, cached: """
                SELECT \(AuditEntry.columns.list) FROM audit_log
                WHERE account_id = ?1 AND seq > ?2
                  AND (CAST(?3 AS TEXT) IS NULL OR account_id IN (SELECT id FROM accounts WHERE tenant = ?3))
                  AND (CAST(?4 AS TEXT) IS NULL OR action = ?4)
                ORDER BY seq LIMIT ?5
                """, arguments: [accountID, afterSeq, scope.tenant, action, limit])
        } else {
            rows = try StoreRow.fetchAll(db, cached: """
                SELECT \(AuditEntry.columns.list) FROM audit_log
                WHERE seq > ?1
                  AND (CAST(?2 AS TEXT) IS NULL OR account_id IN (SELECT id FROM accounts WHERE tenant = ?2))
                  AND (CAST(?3 AS TEXT) IS NULL OR action = ?3)
                ORDER BY seq LIMIT ?4
                """, arguments: [afterSeq, scope.tenant, action, limit])
        }
        return try rows.map(AuditEntry.init(row:))
    }

    public func verifyAuditChain(from checkpoint: AuditHead?) async throws -> AuditChain.Verification {
        try await engineRead { db in try AuditChain.verify(db, from: checkpoint) }
    }

    /// Visits every matching entry in order, a page at a time, so an export of any length holds
    /// one page in memory.
    public func forEachAuditEntry(accountID: String?, after start: Int = 0, pageSize: Int = 1000,
                                  scope: TenantScope = .all, _ body: ([AuditEntry]) async throws -> Void) async throws
    {
        var after = start
        while true {
            let from = after
            let page = try await read { db in
                try Self.auditEntries(db, accountID: accountID, action: nil, afterSeq: from, limit: pageSize, scope: scope)
            }
            if page.isEmpty { return }
            try await body(page)
            after = page.last!.seq
        }
    }
}

/// Offline access for `creditline audit verify` and `export`: read-only, no migrations, safe
/// while the service runs (WAL readers never block the writer).
public struct AuditFile: Sendable {
    let queue: DatabaseQueue

    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError.databaseMissing(path)
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        queue = try DatabaseQueue(path: path, configuration: configuration)
    }

    public func verify(from checkpoint: AuditHead?) throws -> AuditChain.Verification {
        try queue.read { db in try AuditChain.verify(SQLConnection(db), from: checkpoint) }
    }

    public func export(accountID: String?, _ line: (AuditEntry) throws -> Void) throws {
        try queue.read { db in
            let db = SQLConnection(db)
            // The rows the verifier walks: the chain starts at 1.
            let cursor = try accountID.map {
                try StoreRow.fetchCursor(db, cached: "SELECT \(AuditEntry.columns.list) FROM audit_log WHERE seq >= 1 AND account_id = ? ORDER BY seq",
                                    arguments: [$0])
            } ?? StoreRow.fetchCursor(db, cached: "SELECT \(AuditEntry.columns.list) FROM audit_log WHERE seq >= 1 ORDER BY seq")
            while let row = try cursor.next() { try line(AuditEntry(row: row)) }
        }
    }
}
