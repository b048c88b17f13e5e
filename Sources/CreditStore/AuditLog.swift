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

/// A stored audit entry.
public struct AuditEntry: Sendable, Equatable, Codable {
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
        case seq, at, actor, role, action
        case accountID = "account_id"
        case subjectID = "subject_id"
        case detail
        case requestID = "request_id"
        case prevHash = "prev_hash"
        case hash
    }

    /// The bytes that are hashed: every field but the two hashes, as canonical JSON (keys in
    /// sorted order, no whitespace), with `detail` embedded as the JSON text it is stored as.
    public var canonicalJSON: String { String(decoding: canonicalBytes, as: UTF8.self) }

    var canonicalBytes: [UInt8] {
        var out = JSONBytes(capacity: 256 + detail.utf8.count)
        out.beginObject()
        out.key("account_id"); out.string(accountID)
        out.key("action"); out.string(action)
        out.key("actor"); out.string(actor)
        out.key("at"); out.string(at)
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
    }

    static let columns = TableColumns("audit_log", """
        seq, at, actor, role, action, account_id, subject_id, detail, request_id, prev_hash, hash
        """)

    init(seq: Int, at: String, actor: String, role: String, action: String, accountID: String?, subjectID: String?,
         detail: String, requestID: String, prevHash: String)
    {
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

/// The chain's head: a checkpoint an auditor can keep elsewhere.
public struct AuditHead: Sendable, Equatable, Codable {
    public var seq: Int
    public var hash: String

    public init(seq: Int, hash: String) {
        self.seq = seq
        self.hash = hash
    }
}

/// Appending to and checking the hash chain.
public enum AuditChain {
    /// The `prev_hash` of the first entry.
    public static let genesisHash = String(repeating: "0", count: 64)

    static func head(_ db: SQLConnection) throws -> AuditHead {
        if let row = try StoreRow.fetchOne(db, cached: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1") {
            return AuditHead(seq: try row["seq"], hash: try row["hash"])
        }
        return AuditHead(seq: 0, hash: genesisHash)
    }

    /// Appends inside the caller's transaction, so entries commit with the change they record.
    static func append(_ records: [AuditRecord], by actor: Actor, at time: Timestamp, in db: SQLConnection) throws {
        guard !records.isEmpty else { return }
        var head = try db.auditHead ?? head(db)
        // The head moves with each entry, for the next append of the same transaction.
        defer { if db.auditHead != nil { db.auditHead = head } }
        for record in records {
            let entry = AuditEntry(
                seq: head.seq + 1, at: time.rfc3339, actor: actor.keyID, role: actor.role.rawValue, action: record.action.rawValue,
                accountID: record.accountID, subjectID: record.subjectID,
                detail: JSONValue.object(record.detail).canonicalJSON, requestID: actor.requestID, prevHash: head.hash)
            try db.enqueue(
                cached: """
                    INSERT INTO audit_log (seq, at, actor, role, action, account_id, subject_id, detail, request_id,
                                           prev_hash, hash)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [entry.seq, entry.at, entry.actor, entry.role, entry.action, entry.accountID, entry.subjectID,
                            entry.detail, entry.requestID, entry.prevHash, entry.hash])
            head = AuditHead(seq: entry.seq, hash: entry.hash)
        }
    }

    /// The outcome of checking the chain.
    public enum Verification: Sendable, Equatable {
        case intact(checked: Int, head: AuditHead)
        case broken(firstBrokenSeq: Int, reason: String)
    }

    /// Walks the whole chain from its start, recomputing every hash. Needs nothing but the rows:
    /// this is what an auditor runs against a copy of the file. With a checkpoint (a head saved
    /// earlier), the walk must also pass through it: the hash it computes for entry `seq` must be
    /// the checkpoint's, so that the log still extends what was saved. Every entry before the
    /// checkpoint is recomputed too, never taken on trust (docs/audit-chain.md).
    public static func verify(_ db: SQLConnection, from checkpoint: AuditHead? = nil) throws -> Verification {
        // The chain is numbered from 1; a row below that is outside it, however it got there, and
        // would be exported and read by someone as part of the log.
        if let stray = try Int.fetchOne(db, cached: "SELECT MIN(seq) FROM audit_log WHERE seq < 1") {
            return .broken(firstBrokenSeq: stray, reason: "an entry numbered below 1 is outside the chain")
        }
        let checkpoint = checkpoint.flatMap { $0.seq > 0 ? $0 : nil }
        let outcome: Verification
        if let sqlite = db.sqlite {
            outcome = try verifyBySQLite(sqlite, checkpoint: checkpoint)
        } else {
            outcome = try verifyByRows(db, checkpoint: checkpoint)
        }
        // A log that ends before the checkpoint was cut short.
        if case .intact(_, let head) = outcome, let checkpoint, head.seq < checkpoint.seq {
            return .broken(firstBrokenSeq: head.seq + 1, reason: "the log ends before the checkpoint's entry (truncated log)")
        }
        return outcome
    }

    static let checkpointMismatch = "the log no longer extends the checkpoint: this entry's hash is not the saved one"

    /// The walk through SQLite's columns, without decoding rows.
    static func verifyBySQLite(_ sqlite: Database, checkpoint: AuditHead?) throws -> Verification {
        var expectedSeq = 1
        let checkpointHash = checkpoint.map { Array($0.hash.utf8) }
        var checked = 0
        var previous = Array(genesisHash.utf8)
        var canonical: [UInt8] = []
        canonical.reserveCapacity(1024)
        var computed = [UInt8](repeating: 0, count: 64)
        // Columns by position, read straight from SQLite without copies: this loop runs once per
        // entry of the log, and an auditor's laptop should check millions in seconds.
        let statement = try sqlite.makeStatement(sql: """
            SELECT seq, at, actor, role, action, account_id, subject_id, detail, request_id, prev_hash, hash
            FROM audit_log WHERE seq >= ? ORDER BY seq
            """)
        let cursor = try Row.fetchCursor(statement, arguments: [expectedSeq])
        let raw = statement.sqliteStatement
        while try cursor.next() != nil {
            let seq = Int(sqlite3_column_int64(raw, 0))
            if seq != expectedSeq {
                return .broken(firstBrokenSeq: expectedSeq, reason: "entry \(expectedSeq) is missing")
            }
            if !CanonicalEntry.column(raw, 9, equals: previous) {
                return .broken(firstBrokenSeq: seq, reason: "prev_hash does not match the previous entry")
            }
            canonical.removeAll(keepingCapacity: true)
            CanonicalEntry.write(raw, seq: seq, into: &canonical)
            var hasher = SHA256()
            hasher.update(data: previous)
            hasher.update(data: canonical)
            CanonicalEntry.hex(hasher.finalize(), into: &computed)
            if !CanonicalEntry.column(raw, 10, equals: computed) {
                return .broken(firstBrokenSeq: seq, reason: "hash does not match the entry's content")
            }
            if seq == checkpoint?.seq, computed != checkpointHash {
                return .broken(firstBrokenSeq: seq, reason: checkpointMismatch)
            }
            swap(&previous, &computed)
            expectedSeq += 1
            checked += 1
        }
        let head = AuditHead(seq: expectedSeq - 1, hash: String(decoding: previous, as: UTF8.self))
        return .intact(checked: checked, head: head)
    }
}

extension AuditChain {
    /// The same walk over decoded rows, a page at a time, for an engine without SQLite's
    /// column-level access (PostgreSQL).
    static func verifyByRows(_ db: SQLConnection, checkpoint: AuditHead?) throws -> Verification {
        var expectedSeq = 1
        var previous = genesisHash
        var checked = 0
        while true {
            let page = try StoreRow.fetchAll(db, cached: "SELECT \(AuditEntry.columns.list) FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT 5000",
                                        arguments: [expectedSeq])
            for row in page {
                let entry = try AuditEntry(row: row)
                if entry.seq != expectedSeq {
                    return .broken(firstBrokenSeq: expectedSeq, reason: "entry \(expectedSeq) is missing")
                }
                if entry.prevHash != previous {
                    return .broken(firstBrokenSeq: entry.seq, reason: "prev_hash does not match the previous entry")
                }
                if entry.expectedHash != entry.hash {
                    return .broken(firstBrokenSeq: entry.seq, reason: "hash does not match the entry's content")
                }
                if entry.seq == checkpoint?.seq, entry.hash != checkpoint?.hash {
                    return .broken(firstBrokenSeq: entry.seq, reason: checkpointMismatch)
                }
                previous = entry.hash
                expectedSeq += 1
                checked += 1
            }
            if page.count < 5000 { break }
        }
        return .intact(checked: checked, head: AuditHead(seq: expectedSeq - 1, hash: previous))
    }
}

/// The canonical JSON of an entry written straight from its columns (the same bytes as
/// `AuditEntry.canonicalJSON`), for the verifier's inner loop.
enum CanonicalEntry {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Columns: 0 seq, 1 at, 2 actor, 3 role, 4 action, 5 account_id, 6 subject_id, 7 detail,
    /// 8 request_id.
    static func write(_ statement: OpaquePointer?, seq: Int, into out: inout [UInt8]) {
        out.append(contentsOf: #"{"account_id":"#.utf8)
        appendText(statement, 5, into: &out)
        out.append(contentsOf: #","action":"#.utf8)
        appendText(statement, 4, into: &out)
        out.append(contentsOf: #","actor":"#.utf8)
        appendText(statement, 2, into: &out)
        out.append(contentsOf: #","at":"#.utf8)
        appendText(statement, 1, into: &out)
        out.append(contentsOf: #","detail":"#.utf8)
        out.append(contentsOf: bytes(statement, 7))
        out.append(contentsOf: #","request_id":"#.utf8)
        appendText(statement, 8, into: &out)
        out.append(contentsOf: #","role":"#.utf8)
        appendText(statement, 3, into: &out)
        out.append(contentsOf: #","seq":"#.utf8)
        appendDecimal(seq, into: &out)
        out.append(contentsOf: #","subject_id":"#.utf8)
        appendText(statement, 6, into: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// A column's bytes, valid until the statement moves on.
    private static func bytes(_ statement: OpaquePointer?, _ column: Int32) -> UnsafeRawBufferPointer {
        guard let text = sqlite3_column_text(statement, column) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: text, count: Int(sqlite3_column_bytes(statement, column)))
    }

    static func column(_ statement: OpaquePointer?, _ column: Int32, equals expected: [UInt8]) -> Bool {
        guard sqlite3_column_type(statement, column) != SQLITE_NULL else { return false }
        let value = bytes(statement, column)
        return value.count == expected.count && expected.withUnsafeBytes { value.elementsEqual($0) }
    }

    private static func appendText(_ statement: OpaquePointer?, _ column: Int32, into out: inout [UInt8]) {
        guard sqlite3_column_type(statement, column) != SQLITE_NULL else {
            out.append(contentsOf: "null".utf8)
            return
        }
        appendString(bytes(statement, column), into: &out)
    }

    private static func appendDecimal(_ value: Int, into out: inout [UInt8]) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var remaining = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(48 + remaining % 10)
                remaining /= 10
                count += 1
            } while remaining > 0
            for index in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[index]) }
        }
    }

    /// A JSON string with the escapes of `JSONValue.canonicalJSON`. Most values need none and
    /// are copied whole.
    static func appendString(_ raw: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        defer { out.append(UInt8(ascii: "\"")) }
        if !raw.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: raw)
            return
        }
        for byte in raw {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0x08: out.append(contentsOf: #"\b"#.utf8)
            case 0x0C: out.append(contentsOf: #"\f"#.utf8)
            case 0x0A: out.append(contentsOf: #"\n"#.utf8)
            case 0x0D: out.append(contentsOf: #"\r"#.utf8)
            case 0x09: out.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 15)])
            default: out.append(byte)
            }
        }
    }

    static func hex(_ digest: SHA256.Digest, into out: inout [UInt8]) {
        var index = 0
        digest.withUnsafeBytes { bytes in
            for byte in bytes {
                out[index] = hexDigits[Int(byte >> 4)]
                out[index + 1] = hexDigits[Int(byte & 15)]
                index += 2
            }
        }
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
            try String.fetchOne(db, sql: "SELECT at FROM audit_log ORDER BY seq DESC LIMIT 1").flatMap(Timestamp.init(rfc3339:))
        }
    }
}

extension AuditRecord {
    /// A limit change's entry, its detail derived from the typed event (README "Development").
    public init(_ event: LimitAdjusted, accountID: String, adjustmentID: String) {
        self.init(.limitAdjusted(event), accountID: accountID, subjectID: adjustmentID)
    }
}
