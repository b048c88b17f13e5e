import CreditLine
import Crypto
import Foundation
import GRDB

/// An API key as stored: never the secret, only its hash.
public struct APIKey: Sendable, Equatable {
    public var id: String
    public var name: String
    public var role: Role
    public var createdAt: String
    public var revokedAt: String?
    /// The tenant the key acts for; nil for an operator or auditor key that acts for all.
    public var tenant: String? = nil
    /// The person behind the key, when one was named.
    public var person: String? = nil

    /// Which accounts the key sees.
    public var scope: TenantScope { tenant.map(TenantScope.one) ?? .all }

    /// Who approves, for four eyes: the named person, or the key itself when none was named.
    public var approver: String { person.map { "person:" + $0 } ?? "key:" + id }
}

/// A freshly created key with its secret token, shown once.
public struct IssuedKey: Sendable {
    public var key: APIKey
    /// `clk_<id>_<secret>`: the id finds the row, the secret is checked against its hash.
    public var token: String
}

/// Well-known keys for `serve --demo`, so the README's curl lines work as printed. They are
/// public: a database that holds them must never serve real customers.
public enum DemoKeys {
    public static let tokens: [(role: Role, token: String)] = [
        (.service, "clk_demo-service_not-a-secret"),
        (.operator, "clk_demo-operator_not-a-secret"),
        (.auditor, "clk_demo-auditor_not-a-secret"),
        (.risk, "clk_demo-risk_not-a-secret"),
    ]
    /// The demo keys' ids (a token's part before its secret).
    static let ids = tokens.compactMap { KeyToken.parse($0.token)?.id }
}

public enum KeyToken {
    static let prefix = "clk_"

    /// Splits `clk_<id>_<secret>`; nil for anything else.
    static func parse(_ token: String) -> (id: String, secret: String)? {
        guard token.hasPrefix(prefix), token.utf8.count <= 200 else { return nil }
        let rest = token.dropFirst(prefix.count)
        guard let separator = rest.firstIndex(of: "_") else { return nil }
        let id = rest[..<separator]
        let secret = rest[rest.index(after: separator)...]
        guard !id.isEmpty, !secret.isEmpty else { return nil }
        return (String(id), String(secret))
    }

    static func hash(_ secret: String) -> Data { Data(SHA256.hash(data: Data(secret.utf8))) }

    /// Compares two digests in time independent of where they differ.
    public static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    /// 256 random bits, base64url without padding.
    public static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

struct CreateKey: BusinessWrite {
    var id: String
    var name: String
    var role: Role
    var secret: String
    var tenant: String?
    var person: String?

    func apply(_ db: SQLConnection, now: Timestamp) throws -> (APIKey, [AuditRecord]) {
        try db.execute(
            cached: """
                INSERT INTO api_keys (id, name, role, secret_hash, created_at, tenant, person)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [id, name, role.rawValue, KeyToken.hash(secret), now.rfc3339, tenant, person])
        let key = APIKey(id: id, name: name, role: role, createdAt: now.rfc3339, revokedAt: nil, tenant: tenant,
                         person: person)
        // The tenant is an operator's name for a lender; the person is not recorded here, only
        // whether one was named.
        return (key, [AuditRecord(.service(.keyCreated(role: role, tenant: tenant, personNamed: person != nil)), subjectID: id)])
    }
}

struct RevokeKey: BusinessWrite {
    var id: String

    func apply(_ db: SQLConnection, now: Timestamp) throws -> (APIKey, [AuditRecord]) {
        var key = try Existence.require(try Store.fetchKey(db, id: id), "key")
        if key.revokedAt != nil { return (key, []) }
        try db.execute(cached: "UPDATE api_keys SET revoked_at = ? WHERE id = ?", arguments: [now.rfc3339, id])
        key.revokedAt = now.rfc3339
        return (key, [AuditRecord(.service(.keyRevoked(role: key.role)), subjectID: id)])
    }
}

extension Store {
    /// Creates a key; the token is returned once and only its hash is kept. `tenant` nil makes an
    /// operator or auditor key for every tenant (a service key always has one).
    public func createKey(role: Role, name: String, tenant: String? = Tenant.defaultName, person: String? = nil,
                          by actor: Actor = .cli("keys create")) throws -> IssuedKey
    {
        let secret = KeyToken.newSecret()
        let id = Identifier.randomToken(characters: 12)
        let key = try performNow(CreateKey(id: id, name: name, role: role, secret: secret, tenant: tenant, person: person),
                                 by: actor)
        return IssuedKey(key: key, token: KeyToken.prefix + id + "_" + secret)
    }

    public func revokeKey(id: String, by actor: Actor = .cli("keys revoke")) throws -> APIKey {
        try performNow(RevokeKey(id: id), by: actor)
    }

    public func listKeys() throws -> [APIKey] {
        try database.read { db in
            try StoreRow.fetchAll(db, cached: "SELECT \(Store.keyColumns.list) FROM api_keys ORDER BY created_at, id")
                .map(Self.key(from:))
        }
    }

    public func activeKeyCount() throws -> Int {
        try database.read { db in try Int.fetchOne(db, cached: "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL") ?? 0 }
    }

    /// Installs the public demo keys (once); returns them for printing.
    public func ensureDemoKeys() throws -> [IssuedKey] {
        var issued: [IssuedKey] = []
        for (role, token) in DemoKeys.tokens {
            guard let (id, secret) = KeyToken.parse(token) else { continue }
            let existing = try database.read { db in try Self.fetchKey(db, id: id) }
            let key = try existing
                ?? performNow(CreateKey(id: id, name: "demo \(role.rawValue)", role: role, secret: secret,
                                        tenant: role == .service ? Tenant.defaultName : nil, person: nil),
                                by: .cli("serve --demo"))
            issued.append(IssuedKey(key: key, token: token))
        }
        return issued
    }

    /// Whether `serve --demo` may use this database (README "Try it"): one holding no key but the
    /// public demo keys (a new one, or a demo database), never one with a key of its own. Marks
    /// the database a demo database when it may; a reason when it may not.
    public func acceptForDemo() throws -> String? {
        let ids = DemoKeys.ids
        return try database.write { db -> String? in
            let all = try String.fetchAll(db, cached: "SELECT id FROM api_keys")
            let own = all.filter { !ids.contains($0) }.count
            guard own == 0 else {
                return "it holds \(own) key\(own == 1 ? "" : "s") of its own: it is not a demo database. Name a new file with --db, or start without --demo."
            }
            try db.execute(cached: "INSERT INTO database_marks (name, set_at) VALUES ('demo', ?) ON CONFLICT (name) DO NOTHING",
                           arguments: [time.now().rfc3339])
            return nil
        }
    }

    /// Whether `serve --demo` marked this database, or it holds an active demo key: a normal
    /// start refuses it unless told `--allow-demo-keys`.
    public func isDemoDatabase() throws -> Bool {
        let marked = try database.read { db in
            try Int.fetchOne(db, cached: "SELECT COUNT(*) FROM database_marks WHERE name = 'demo'") ?? 0
        }
        return try marked > 0 || hasActiveDemoKeys()
    }

    /// True if any demo key is active in this database (a production database must have none).
    public func hasActiveDemoKeys() throws -> Bool {
        let ids = DemoKeys.ids
        return try database.read { db in
            try ids.contains { id in try Self.fetchKey(db, id: id).map { $0.revokedAt == nil } ?? false }
        }
    }

    /// The key a bearer token belongs to, if it is valid and not revoked.
    public func authenticate(token: String) async throws -> APIKey? {
        guard let (id, secret) = KeyToken.parse(token) else { return nil }
        let presented = KeyToken.hash(secret)
        return try await readStatement { db -> APIKey? in
            guard let row = try StoreRow.fetchOne(db, cached: Self.authenticateSQL, arguments: [id])
            else { return nil }
            let stored: Data = try row["secret_hash"]
            guard KeyToken.constantTimeEqual(stored, presented) else { return nil }
            let key = try Self.key(from: row)
            return key.revokedAt == nil ? key : nil
        }
    }

    static func fetchKey(_ db: SQLConnection, id: String) throws -> APIKey? {
        try StoreRow.fetchOne(db, cached: "SELECT \(Store.keyColumns.list) FROM api_keys WHERE id = ?",
                         arguments: [id]).map(key(from:))
    }

    static func key(from row: StoreRow) throws -> APIKey {
        var read = ColumnReader(row, table: "api_keys")
        return APIKey(id: try read("id"), name: try read("name"), role: try read.value("role"), createdAt: try read("created_at"),
                      revokedAt: try read("revoked_at"), tenant: try read("tenant"), person: try read("person"))
    }

    static let keyColumns = TableColumns("api_keys", "id, name, role, created_at, revoked_at, tenant, person")
    private static let authenticateSQL = "SELECT \(keyColumns.list), secret_hash FROM api_keys WHERE id = ?"
}
