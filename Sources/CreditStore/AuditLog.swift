import CreditLine
import Crypto
import Foundation
import GRDB
import GRDBSQLite

/// What a business write asks to have recorded; the store adds sequence, time, actor and hashes.
public struct AuditRecord: Sendable, Equatable {
    public var action: AuditAction
    public var accountID: String?
    public var subjectID: String?
    /// Ids, codes, amounts, versions: never personal data or scoring inputs.
    public var detail: [String: JSONValue]
    /// The typed event the detail was derived from, when the record was made from one: the
    /// notices it owes are its own, not read back from the detail just written.
    public let event: DomainEvent?

    public init(_ action: AuditAction, accountID: String? = nil, subjectID: String? = nil,
                detail: [String: JSONValue] = [:])
    {
        (self.action, self.accountID, self.subjectID, self.detail, event) = (action, accountID, subjectID, detail, nil)
    }

    /// An entry whose action and detail are the typed event's (README "Development").
    public init(_ event: DomainEvent, accountID: String? = nil, subjectID: String? = nil) {
        (action, self.accountID, self.subjectID, detail) = (event.action, accountID, subjectID, event.auditDetail)
        self.event = event
    }

    /// The typed event the record holds: its own, or its detail read back.
    func typedEvent() throws -> DomainEvent {
        if let event { return event }
        return try DomainEvent.decode(action, auditDetail: detail)
    }
}

/// Who is acting: the API key (never the key itself), its role, and the request.
/// Who acts, as the audit entry's `role` records it: a key's role, or the service itself (its
/// sweeps, reviews and command-line tools).
public enum ActorRole: Sendable, Equatable {
    case key(Role)
    case system
    /// The customer on their own page (README "The customer's own pages"): the actor is the
    /// link's id, never its token.
    case customer

    /// The text the chain holds: the role's name, `system` or `customer`.
    public var rawValue: String {
        switch self {
        case .key(let role): role.rawValue
        case .system: "system"
        case .customer: "customer"
        }
    }
}

public struct Actor: Sendable, Equatable {
    public var keyID: String
    public var role: ActorRole
    public var requestID: String

    public init(keyID: String, role: ActorRole, requestID: String) {
        self.keyID = keyID
        self.role = role
        self.requestID = requestID
    }

    /// The command-line tools act as themselves.
    public static func cli(_ command: String) -> Actor {
        Actor(keyID: "cli", role: .system, requestID: command)
    }

    /// The service's own scheduled work (expiry sweeps, periodic reviews).
    public static func system(_ job: String) -> Actor {
        Actor(keyID: "system", role: .system, requestID: job)
    }
}

/// A stored audit entry. Its position is (`chain`, `seq`): each chain is numbered from 1 and
/// linked on its own (docs/audit-chain.md, "Chains").
public struct AuditEntry: Sendable, Equatable, Codable {
    public var chain: Int
    public var seq: Int
    public var at: String
    public var actor: String
    public var role: String
    public var action: String
    public var accountID: String?
    public var subjectID: String?
    /// Canonical JSON text.
    public var detail: String
    public var requestID: String
    public var prevHash: String
    public var hash: String

    enum CodingKeys: String, CodingKey {
        case chain, seq, at, actor, role, action
        case accountID = "account_id"
        case subjectID = "subject_id"
        case detail
        case requestID = "request_id"
        case prevHash = "prev_hash"
        case hash
    }

    /// The bytes that are hashed: every field but the two hashes, as canonical JSON (keys in
    /// sorted order, no whitespace), with `detail` embedded as the JSON text it is stored as.
    /// An entry of chain 0 (the installation's chain, and every entry from before there were
    /// chains) has no `chain` key, so that its hash is the one it was written with.
    public var canonicalJSON: String { String(decoding: canonicalBytes, as: UTF8.self) }

    var canonicalBytes: [UInt8] {
        var out = JSONBytes(capacity: 256 + detail.utf8.count)
        out.beginObject()
        out.key("account_id"); out.string(accountID)
        out.key("action"); out.string(action)
        out.key("actor"); out.string(actor)
        out.key("at"); out.string(at)
        if chain > 0 { out.key("chain"); out.int(chain) }
        out.key("detail"); out.json(detail)
        out.key("request_id"); out.string(requestID)
        out.key("role"); out.string(role)
        out.key("seq"); out.int(seq)
        out.key("subject_id"); out.string(subjectID)
        out.endObject()
        return out.bytes
    }

    /// hash = SHA-256(prev_hash ‖ canonical JSON), both as UTF-8, in lower-case hex.
    static func chainHash(prevHash: String, canonical: [UInt8]) -> String {
        var hasher = SHA256()
        var previous = prevHash
        previous.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        canonical.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        var out = [UInt8](repeating: 0, count: 64)
        CanonicalEntry.hex(hasher.finalize(), into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public var expectedHash: String { Self.chainHash(prevHash: prevHash, canonical: canonicalBytes) }

    init(row: StoreRow) throws {
        var read = ColumnReader(row, table: "audit_log")
        seq = try read("seq")
        at = try read("at")
        actor = try read("actor")
        role = try read("role")
        action = try read("action")
        accountID = try read("account_id")
        subjectID = try read("subject_id")
        detail = try read("detail")
        requestID = try read("request_id")
        prevHash = try read("prev_hash")
        hash = try read("hash")
        // Last: the column came with the chains (migration 0030), and a row read whole (`SELECT *`)
        // has it at the end.
        chain = try read("chain")
    }

    static let columns = TableColumns("audit_log", """
        seq, at, actor, role, action, account_id, subject_id, detail, request_id, prev_hash, hash, chain
        """)

    init(chain: Int = 0, seq: Int, at: String, actor: String, role: String, action: String, accountID: String?, subjectID: String?,
         detail: String, requestID: String, prevHash: String)
    {
        self.chain = chain
        self.seq = seq
        self.at = at
        self.actor = actor
        self.role = role
        self.action = action
        self.accountID = accountID
        self.subjectID = subjectID
        self.detail = detail
        self.requestID = requestID
        self.prevHash = prevHash
        self.hash = ""
        self.hash = expectedHash
    }
}

/// A chain's head: its last entry's position in the chain and hash.
public struct AuditHead: Sendable, Equatable, Codable {
    public var seq: Int
    public var hash: String

    public init(seq: Int, hash: String) {
        self.seq = seq
        self.hash = hash
    }
}

/// One chain's head as a root names it.
public struct AuditChainHead: Sendable, Equatable, Codable {
    public var chain: Int
    public var seq: Int
    public var hash: String

    public init(chain: Int, seq: Int, hash: String) {
        (self.chain, self.seq, self.hash) = (chain, seq, hash)
    }

    public var head: AuditHead { AuditHead(seq: seq, hash: hash) }
}

/// Appending to and checking the hash chain.
public enum AuditChain {
    /// The `prev_hash` of the first entry.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// The installation's own chain (keys, model reviews, review completions, and every entry
    /// from before there were chains); accounts' chains are 1 to `account_chains`.
    public static let installationChain = 0
    /// The most account chains a database may have: a root names every chain, and stays small.
    public static let maxAccountChains = 1024

    static func head(_ db: SQLConnection, chain: Int) throws -> AuditHead {
        if let row = try StoreRow.fetchOne(db, cached: "SELECT seq, hash FROM audit_log WHERE chain = ? ORDER BY seq DESC LIMIT 1",
                                           arguments: [chain]) {
            return AuditHead(seq: try row["seq"], hash: try row["hash"])
        }
        return AuditHead(seq: 0, hash: genesisHash)
    }

    /// A chain's head for an append. On PostgreSQL a chain the transaction did not lock at its
    /// start (a write that reaches another chain than the one it named) is locked now if it is
    /// free, and its head read after; if another transaction holds it, waiting there, out of the
    /// chains' order, could deadlock, so the batch is run again with it locked first
    /// (`WriteScope.ChainsNeeded`).
    static func lockedHead(_ db: SQLConnection, chain: Int) throws -> AuditHead {
        guard db.dialect == .postgres, !db.allChainsLocked else { return try head(db, chain: chain) }
        guard let row = try StoreRow.fetchOne(db, cached: "SELECT locked, seq, hash FROM creditline_try_lock_chain(CAST(? AS INTEGER), ?)",
                                              arguments: [PostgresEngine.chainLockKey, chain]),
              try row["locked"] as Int == 1
        else { throw WriteScope.ChainsNeeded(chains: [chain]) }
        return AuditHead(seq: try row["seq"], hash: try row["hash"])
    }

    /// How many account chains there are (chains 1 to this), as the database says.
    static func accountChains(_ db: SQLConnection) throws -> Int {
        try Int.fetchOne(db, cached: "SELECT account_chains FROM audit_chains WHERE id = 1") ?? 1
    }

    /// The same, as this transaction knows it: on PostgreSQL answered with the locks at its start,
    /// elsewhere read once a transaction.
    static func accountChainCount(_ db: SQLConnection) throws -> Int {
        if let known = db.accountChainCount { return known }
        let count = try accountChains(db)
        db.accountChainCount = count
        return count
    }

    /// Every chain's head, chain 0 and the account chains, each one probe of the primary key; a
    /// chain with no entry yet is at seq 0 with the genesis hash.
    static func heads(_ db: SQLConnection) throws -> [AuditChainHead] {
        try (0...accountChains(db)).map { chain in
            let head = try head(db, chain: chain)
            return AuditChainHead(chain: chain, seq: head.seq, hash: head.hash)
        }
    }

    /// The chain an account's entries go to, fixed on the account when it was created; chain 0
    /// for an entry of no account (or of one that is not there).
    static func chain(of accountID: String?, in db: SQLConnection) throws -> Int {
        guard let accountID else { return installationChain }
        if let known = db.accountChains[accountID] { return known }
        let chain = try Int.fetchOne(db, cached: "SELECT audit_chain FROM accounts WHERE id = ?", arguments: [accountID])
            ?? installationChain
        db.accountChains[accountID] = chain
        return chain
    }

    /// Appends inside the caller's transaction, so entries commit with the change they record.
    /// Each record goes to its account's chain, after that chain's head; the answer is each
    /// record's position, in order (an event takes its entry's, `Outbox.events`).
    @discardableResult
    static func append(_ records: [AuditRecord], by actor: Actor, at time: Timestamp, in db: SQLConnection) throws
        -> [AuditPosition.Entry]
    {
        var positions: [AuditPosition.Entry] = []
        positions.reserveCapacity(records.count)
        for record in records {
            let chain = try chain(of: record.accountID, in: db)
            let head = try db.auditHeads?[chain] ?? lockedHead(db, chain: chain)
            let entry = AuditEntry(
                chain: chain, seq: head.seq + 1, at: time.rfc3339, actor: actor.keyID, role: actor.role.rawValue,
                action: record.action.rawValue, accountID: record.accountID, subjectID: record.subjectID,
                detail: JSONValue.object(record.detail).canonicalJSON, requestID: actor.requestID, prevHash: head.hash)
            try db.enqueue(
                cached: """
                    INSERT INTO audit_log (chain, seq, at, actor, role, action, account_id, subject_id, detail, request_id,
                                           prev_hash, hash)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [entry.chain, entry.seq, entry.at, entry.actor, entry.role, entry.action, entry.accountID,
                            entry.subjectID, entry.detail, entry.requestID, entry.prevHash, entry.hash])
            // The head moves with each entry, for the next append of the same transaction.
            db.auditHeads?[chain] = AuditHead(seq: entry.seq, hash: entry.hash)
            positions.append(AuditPosition.Entry(chain: chain, seq: entry.seq))
        }
        return positions
    }
}

/// The demo clock moved forward (`serve --demo` only): recorded so the chain shows why its
/// times jump.
public struct AdvanceDemoClock: BusinessWrite {
    public var days: Int
    public init(days: Int) { self.days = days }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> ((), [AuditRecord]) {
        ((), [AuditRecord(.service(.demoClockAdvanced(days: days)))])
    }
}

extension Store {
    /// When the last audit entry was written; nil for an empty log.
    public func lastAuditTime() throws -> Timestamp? {
        try database.read { db in
            // The latest of the chains' last entries, each one probe of the primary key.
            try (0...AuditChain.accountChains(db)).compactMap { chain in
                try String.fetchOne(db, cached: "SELECT at FROM audit_log WHERE chain = ? ORDER BY seq DESC LIMIT 1",
                                    arguments: [chain]).flatMap(Timestamp.init(rfc3339:))
            }.max()
        }
    }
}

extension AuditRecord {
    /// A limit change's entry, its detail derived from the typed event (README "Development").
    public init(_ event: LimitAdjusted, accountID: String, adjustmentID: String) {
        self.init(.limitAdjusted(event), accountID: accountID, subjectID: adjustmentID)
    }
}

extension Store {
    /// Raises the database's account chains to `wanted` (docs/audit-chain.md, "Chains"); a count
    /// below the database's is refused, since an account's chain is fixed and a root names every
    /// chain. 0 keeps the database's. Accounts created before keep their chain; new ones spread
    /// over the new count: this process's from its next write, another instance's from its next
    /// start (each places new accounts over the count it read first).
    func raiseAuditChains(to wanted: Int) throws {
        guard wanted > 0 else { return }
        try database.write { db in
            let stored = try AuditChain.accountChains(db)
            if wanted < stored { throw StoreError.auditChainsLowered(configured: wanted, stored: stored) }
            if wanted > stored {
                try db.execute(sql: "UPDATE audit_chains SET account_chains = ? WHERE id = 1", arguments: [wanted])
            }
        }
        chains.forgetCount()
    }
}
