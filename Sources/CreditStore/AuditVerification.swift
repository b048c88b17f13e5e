import CreditLine
import Crypto
import Foundation
import GRDB
import GRDBSQLite

/// Checking the chains (docs/audit-chain.md, "Verification" and "Checkpoints").
extension AuditChain {
    /// The outcome of checking the chains.
    public enum Verification: Sendable, Equatable {
        /// Every chain linked from its first entry; `heads` each chain's last entry.
        case intact(checked: Int, heads: [AuditChainHead])
        case broken(chain: Int, firstBrokenSeq: Int, reason: String)
    }

    /// Walks every chain from its start, recomputing every hash. Needs nothing but the rows: this
    /// is what an auditor runs against a copy of the file. With a root (heads saved earlier, from
    /// a signed root checkpoint), each chain it names must pass through its head there: the hash
    /// the walk computes for that entry must be the saved one, so that the log still extends what
    /// was saved; a chain it names that has ended before its head, or is gone, was cut short.
    /// Every entry before a head is recomputed too, never taken on trust (docs/audit-chain.md).
    public static func verify(_ db: SQLConnection, from root: [AuditChainHead] = []) throws -> Verification {
        // Each chain is numbered from 1; a row below that is outside it, however it got there, and
        // would be exported and read by someone as part of the log.
        if let stray = try StoreRow.fetchOne(db, cached: "SELECT chain, seq FROM audit_log WHERE seq < 1 ORDER BY chain, seq LIMIT 1") {
            return .broken(chain: try stray["chain"], firstBrokenSeq: try stray["seq"],
                           reason: "an entry numbered below 1 is outside the chain")
        }
        let saved = Dictionary(root.filter { $0.seq > 0 }.map { ($0.chain, $0.head) }, uniquingKeysWith: { first, _ in first })
        // Every chain there is (as `heads` names them, an empty one at seq 0), any row's, and any
        // the root names.
        var chains = Set(try Int.fetchAll(db, cached: "SELECT DISTINCT chain FROM audit_log"))
        chains.formUnion(saved.keys)
        chains.formUnion(0...(try accountChains(db)))
        var checked = 0
        var heads: [AuditChainHead] = []
        for chain in chains.sorted() {
            let checkpoint = saved[chain]
            let outcome = if let sqlite = db.sqlite {
                try verifyBySQLite(sqlite, chain: chain, checkpoint: checkpoint)
            } else {
                try verifyByRows(db, chain: chain, checkpoint: checkpoint)
            }
            switch outcome {
            case .broken(let seq, let reason):
                return .broken(chain: chain, firstBrokenSeq: seq, reason: reason)
            case .intact(_, let head) where head.seq < checkpoint?.seq ?? 0:
                // A chain that ends before the checkpoint's entry was cut short.
                return .broken(chain: chain, firstBrokenSeq: head.seq + 1,
                               reason: "the chain ends before the checkpoint's entry (truncated log)")
            case .intact(let count, let head):
                checked += count
                heads.append(AuditChainHead(chain: chain, seq: head.seq, hash: head.hash))
            }
        }
        return .intact(checked: checked, heads: heads)
    }

    /// One chain's walk.
    enum ChainWalk {
        case intact(checked: Int, head: AuditHead)
        case broken(firstBrokenSeq: Int, reason: String)
    }

    static let checkpointMismatch = "the log no longer extends the checkpoint: this entry's hash is not the saved one"

    /// The walk through SQLite's columns, without decoding rows.
    static func verifyBySQLite(_ sqlite: Database, chain: Int, checkpoint: AuditHead?) throws -> ChainWalk {
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
            FROM audit_log WHERE chain = ? AND seq >= ? ORDER BY seq
            """)
        let cursor = try Row.fetchCursor(statement, arguments: [chain, expectedSeq])
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
            CanonicalEntry.write(raw, chain: chain, seq: seq, into: &canonical)
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
    static func verifyByRows(_ db: SQLConnection, chain: Int, checkpoint: AuditHead?) throws -> ChainWalk {
        var expectedSeq = 1
        var previous = genesisHash
        var checked = 0
        while true {
            let page = try StoreRow.fetchAll(
                db, cached: "SELECT \(AuditEntry.columns.list) FROM audit_log WHERE chain = ? AND seq >= ? ORDER BY seq LIMIT 5000",
                arguments: [chain, expectedSeq])
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
    /// 8 request_id. `chain` as `AuditEntry.canonicalBytes` writes it: only above 0.
    static func write(_ statement: OpaquePointer?, chain: Int, seq: Int, into out: inout [UInt8]) {
        out.append(contentsOf: #"{"account_id":"#.utf8)
        appendText(statement, 5, into: &out)
        out.append(contentsOf: #","action":"#.utf8)
        appendText(statement, 4, into: &out)
        out.append(contentsOf: #","actor":"#.utf8)
        appendText(statement, 2, into: &out)
        out.append(contentsOf: #","at":"#.utf8)
        appendText(statement, 1, into: &out)
        if chain > 0 {
            out.append(contentsOf: #","chain":"#.utf8)
            appendDecimal(chain, into: &out)
        }
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
