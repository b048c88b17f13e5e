import CreditLine
import Crypto
import Foundation
import GRDB

/// Where a reader of the log stands: the last `seq` it has of each chain (docs/audit-chain.md,
/// "Reading the log"). Written `0:12,3:40` (chain:seq pairs); a chain not named is read from its
/// start. Each chain's entries commit in the order of their `seq` (an append holds its chain's
/// head until the commit), so a reader that moves its position chain by chain never skips one.
public struct AuditPosition: Sendable, Equatable {
    public var after: [Int: Int]

    /// One entry's place: its chain and its seq there.
    public struct Entry: Sendable, Equatable {
        public var chain: Int
        public var seq: Int
    }

    public init(_ after: [Int: Int] = [:]) { self.after = after }

    /// The most chains a position may name.
    public static let maxChains = 4096

    public init?(text: String) {
        var after: [Int: Int] = [:]
        for pair in text.split(separator: ",", omittingEmptySubsequences: false) where !text.isEmpty {
            let parts = pair.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let chain = Int(parts[0]), let seq = Int(parts[1]), chain >= 0, seq >= 0,
                  after[chain] == nil, after.count < Self.maxChains
            else { return nil }
            after[chain] = seq
        }
        self.after = after
    }

    public var text: String { after.keys.sorted().map { "\($0):\(after[$0]!)" }.joined(separator: ",") }

    public func seq(of chain: Int) -> Int { after[chain] ?? 0 }
}

/// A page of the audit log, chain by chain, each chain oldest first.
public struct AuditPage: Sendable {
    public var entries: [AuditEntry]
    /// Where the next page starts: the position after every entry of this one, also when it is
    /// the last page, so that a reader polls on from it.
    public var next: AuditPosition
    /// Whether more entries were there when this page was read.
    public var hasMore: Bool
}

/// A root checkpoint signed by the service: every chain's head at one moment
/// (docs/audit-chain.md, "Checkpoints").
public struct SignedRoot: Sendable, Equatable {
    public var at: String
    /// Chain 0 first, each chain once.
    public var heads: [AuditChainHead]
    /// Base64 Ed25519 signature over `message`.
    public var signature: String

    /// The signed bytes: a first line naming the format, the time, then a line `chain seq hash`
    /// for each chain in the order of their numbers.
    public static func message(at: String, heads: [AuditChainHead]) -> Data {
        var text = "creditline audit root v1\n\(at)\n"
        for head in heads.sorted(by: { $0.chain < $1.chain }) { text += "\(head.chain) \(head.seq) \(head.hash)\n" }
        return Data(text.utf8)
    }

    /// The root's own hash: SHA-256 of the signed bytes, in lower-case hex.
    public static func root(at: String, heads: [AuditChainHead]) -> String {
        SHA256.hash(data: message(at: at, heads: heads)).map { String(format: "%02x", $0) }.joined()
    }

    /// Checks a root against a public key, as an auditor would with their own tools.
    public static func isValid(at: String, heads: [AuditChainHead], signature: String, publicKey: Data) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey),
            let signatureBytes = Data(base64Encoded: signature)
        else { return false }
        return key.isValidSignature(signatureBytes, for: message(at: at, heads: heads))
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

    public func sign(heads: [AuditChainHead], at: String) throws -> SignedRoot {
        let heads = heads.sorted { $0.chain < $1.chain }
        let signature = try key.signature(for: SignedRoot.message(at: at, heads: heads))
        return SignedRoot(at: at, heads: heads, signature: signature.base64EncodedString())
    }
}

extension Store {
    public static let maxAuditPage = 1000

    /// Entries after `position`, optionally of one account and one action, at most `limit`,
    /// chain by chain (each chain read through its primary key from where the position has it).
    /// A tenant's auditor sees the entries of that tenant's accounts only.
    public func auditPage(accountID: String?, action: String?, requestID: String? = nil, after position: AuditPosition,
                          limit: Int, scope: TenantScope = .all) async throws -> AuditPage
    {
        try await read { db in
            try Self.auditPage(db, accountID: accountID, action: action, requestID: requestID, after: position,
                               limit: limit, scope: scope)
        }
    }

    static func auditPage(_ db: SQLConnection, accountID: String?, action: String?, requestID: String? = nil,
                          after position: AuditPosition, limit: Int, scope: TenantScope) throws -> AuditPage
    {
        // Three constant statements, so that one request's entries are read through their index
        // (audit_log_request), one account's through its own (audit_log_account) and everything
        // else through the chain's primary key; an absent filter is a NULL.
        let page = try pageByChain(db, after: position, limit: limit, seq: \.seq) { chain, after, count in
            let rows = if let requestID {
                try StoreRow.fetchAll(db, cached: """
                    SELECT \(AuditEntry.columns.list) FROM audit_log
                    WHERE request_id = ?3 AND chain = ?1 AND seq > ?2
                      AND (CAST(?4 AS TEXT) IS NULL OR account_id IN (SELECT id FROM accounts WHERE tenant = ?4))
                      AND (CAST(?5 AS TEXT) IS NULL OR action = ?5)
                      AND (CAST(?6 AS TEXT) IS NULL OR account_id = ?6)
                    ORDER BY seq LIMIT ?7
                    """, arguments: [chain, after, requestID, scope.tenant, action, accountID, count])
            } else if let accountID {
                try StoreRow.fetchAll(db, cached: """
                    SELECT \(AuditEntry.columns.list) FROM audit_log
                    WHERE account_id = ?3 AND seq > ?2 AND chain = ?1
                      AND (CAST(?4 AS TEXT) IS NULL OR account_id IN (SELECT id FROM accounts WHERE tenant = ?4))
                      AND (CAST(?5 AS TEXT) IS NULL OR action = ?5)
                    ORDER BY seq LIMIT ?6
                    """, arguments: [chain, after, accountID, scope.tenant, action, count])
            } else {
                try StoreRow.fetchAll(db, cached: """
                    SELECT \(AuditEntry.columns.list) FROM audit_log
                    WHERE chain = ?1 AND seq > ?2
                      AND (CAST(?3 AS TEXT) IS NULL OR account_id IN (SELECT id FROM accounts WHERE tenant = ?3))
                      AND (CAST(?4 AS TEXT) IS NULL OR action = ?4)
                    ORDER BY seq LIMIT ?5
                    """, arguments: [chain, after, scope.tenant, action, count])
            }
            return try rows.map(AuditEntry.init(row:))
        }
        return AuditPage(entries: page.items, next: page.next, hasMore: page.hasMore)
    }

    /// A page read chain by chain from `position`: `read(chain, after, count)` answers up to
    /// `count` items of that chain after `after`, in order; `seq` is an item's place in its chain.
    /// Every chain there is is read (chain 0 and the account chains); a chain the position names
    /// beyond them is kept in the next position as it was, never read (there is none to read, and
    /// a position of thousands of made-up chains must not cost a query each).
    static func pageByChain<Item>(_ db: SQLConnection, after position: AuditPosition, limit: Int, seq: (Item) -> Int,
                                  read: (_ chain: Int, _ after: Int, _ count: Int) throws -> [Item]) throws
        -> (items: [Item], next: AuditPosition, hasMore: Bool)
    {
        var items: [Item] = []
        var next = position
        for chain in 0...(try AuditChain.accountChains(db)) {
            let wanted = limit - items.count
            // One more than wanted tells whether the chain has more.
            let found = try read(chain, position.seq(of: chain), max(wanted, 0) + 1)
            if wanted <= 0 { return (items, next, !found.isEmpty) }
            items += found.prefix(wanted)
            if let last = found.prefix(wanted).last { next.after[chain] = seq(last) }
            if found.count > wanted { return (items, next, true) }
        }
        return (items, next, false)
    }

    public func verifyAuditChain(from root: [AuditChainHead]) async throws -> AuditChain.Verification {
        try await engineRead { db in try AuditChain.verify(db, from: root) }
    }

    /// Visits every matching entry, chain by chain, a page at a time, so an export of any length
    /// holds one page in memory.
    public func forEachAuditEntry(accountID: String?, requestID: String? = nil, after start: AuditPosition = AuditPosition(),
                                  pageSize: Int = 1000, scope: TenantScope = .all,
                                  _ body: ([AuditEntry]) async throws -> Void) async throws
    {
        var position = start
        while true {
            let from = position
            let page = try await read { db in
                try Self.auditPage(db, accountID: accountID, action: nil, requestID: requestID, after: from, limit: pageSize,
                                   scope: scope)
            }
            if !page.entries.isEmpty { try await body(page.entries) }
            if !page.hasMore { return }
            position = page.next
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

    public func verify(from root: [AuditChainHead] = []) throws -> AuditChain.Verification {
        try queue.read { db in try AuditChain.verify(SQLConnection(db), from: root) }
    }

    /// How many entries `export` writes.
    public func count(accountID: String?) throws -> Int {
        try queue.read { db in
            try Int.fetchOne(SQLConnection(db), cached: """
                SELECT count(*) FROM audit_log WHERE seq >= 1 AND (CAST(? AS TEXT) IS NULL OR account_id = ?)
                """, arguments: [accountID, accountID]) ?? 0
        }
    }

    public func export(accountID: String?, _ line: (AuditEntry) throws -> Void) throws {
        try queue.read { db in
            let db = SQLConnection(db)
            // The rows the verifier walks, chain by chain: each chain starts at 1.
            let cursor = try accountID.map {
                try StoreRow.fetchCursor(db, cached: "SELECT \(AuditEntry.columns.list) FROM audit_log WHERE seq >= 1 AND account_id = ? ORDER BY chain, seq",
                                    arguments: [$0])
            } ?? StoreRow.fetchCursor(db, cached: "SELECT \(AuditEntry.columns.list) FROM audit_log WHERE seq >= 1 ORDER BY chain, seq")
            while let row = try cursor.next() { try line(AuditEntry(row: row)) }
        }
    }
}
