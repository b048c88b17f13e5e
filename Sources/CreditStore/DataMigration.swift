import CreditLine
import Foundation
import GRDB

/// `creditline migrate-data` (README "Running on PostgreSQL"): every row of one store copied into
/// another, empty one of the same schema version, in one transaction on the target; then the
/// audit chain is verified on the target and every table's rows counted on both sides.
public enum DataMigration {
    public struct Report: Sendable {
        /// Rows per table, as counted on the target after the copy.
        public var rows: [String: Int]
        public var chain: AuditChain.Verification
        /// Tables whose counts differ between source and target (empty when the copy is whole).
        public var mismatched: [String]
    }

    public enum Refusal: Error, CustomStringConvertible, Equatable {
        case targetNotEmpty(table: String)
        case schemaVersionsDiffer(source: Int, target: Int)
        case sameDatabase
        case sourceNotSQLite

        public var description: String {
            switch self {
            case .targetNotEmpty(let table):
                "the target is not empty (\(table) has rows): migrate-data copies into an empty database only"
            case .schemaVersionsDiffer(let source, let target):
                "the source is at migration \(source) and the target at \(target)"
            case .sameDatabase: "the source and the target are the same database"
            case .sourceNotSQLite: "the source must be sqlite:PATH"
            }
        }
    }

    /// Rows are written this many to a statement: far fewer round trips than one each, well
    /// under PostgreSQL's 65,535 bound values.
    static let rowsPerInsert = 200

    /// `progress` hears how many rows are copied of how many, after every insert.
    public static func copy(from source: Store, to target: Store,
                            progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> Report {
        guard source.path != target.path else { throw Refusal.sameDatabase }
        guard source.dialect == .sqlite else { throw Refusal.sourceNotSQLite }
        let sourceVersion = try source.database.read { try Migrations.appliedVersion($0) }
        let targetVersion = try target.database.read { try Migrations.appliedVersion($0) }
        guard sourceVersion == targetVersion else {
            throw Refusal.schemaVersionsDiffer(source: sourceVersion, target: targetVersion)
        }
        let tables = try source.database.read { db in try order(try db.tableNames(), db) }
            .filter { $0 != "schema_migrations" && $0 != "storage_probe" }
        // Counted only for someone who listens.
        let total = progress == nil ? 0 : try source.database.read { db in
            try tables.reduce(0) { sum, table in sum + (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \"\(table)\"") ?? 0) }
        }
        var copied = 0
        try target.database.write { into in
            // Empty: nothing the service ever wrote (every write leaves an audit entry; keys and
            // accounts are checked by name too). Rows the migrations themselves put there (the
            // chain's rules) make way for the source's own.
            for table in ["audit_log", "api_keys", "accounts"] where tables.contains(table) {
                if try Int.fetchOne(into, sql: "SELECT COUNT(*) FROM \"\(table)\"") ?? 0 > 0 {
                    throw Refusal.targetNotEmpty(table: table)
                }
            }
            for table in tables.reversed() where try Int.fetchOne(into, sql: "SELECT COUNT(*) FROM \"\(table)\"") ?? 0 > 0 {
                try into.execute(sql: "DELETE FROM \"\(table)\"")
            }
            for table in tables {
                let columns = try into.columnNames(table)
                let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
                // Instalments in SQLite's rowid order, the order they were drawn (those due the
                // same day are settled in it); PostgreSQL numbers them again in that order.
                try source.database.read { from in
                    let order = table == "instalments" ? " ORDER BY rowid" : ""
                    let cursor = try StoreRow.fetchCursor(from, sql: "SELECT \(list) FROM \"\(table)\"\(order)")
                    var batch: [StoreRow] = []
                    func flush() throws {
                        guard !batch.isEmpty else { return }
                        let placeholders = Array(repeating: "(" + Array(repeating: "?", count: columns.count)
                            .joined(separator: ", ") + ")", count: batch.count).joined(separator: ", ")
                        var values: [(any DatabaseValueConvertible)?] = []
                        values.reserveCapacity(batch.count * columns.count)
                        for row in batch { values += row.values.map { $0 } }
                        try into.execute(sql: "INSERT INTO \"\(table)\" (\(list)) VALUES \(placeholders)",
                                         arguments: SQLArguments(values))
                        copied += batch.count
                        progress?(copied, total)
                        batch.removeAll(keepingCapacity: true)
                    }
                    while let row = try cursor.next() {
                        batch.append(row)
                        if batch.count == rowsPerInsert { try flush() }
                    }
                    try flush()
                }
            }
            // An identity column given explicit values does not move its sequence.
            if into.dialect == .postgres {
                try into.execute(sql: "SELECT setval(pg_get_serial_sequence('events', 'seq'), COALESCE(MAX(seq), 0) + 1, false) FROM events")
            }
        }
        var rows: [String: Int] = [:]
        var mismatched: [String] = []
        for table in tables {
            let count = try target.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM \"\(table)\"") ?? -1 }
            let original = try source.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM \"\(table)\"") ?? -1 }
            rows[table] = count
            if count != original { mismatched.append(table) }
        }
        return Report(rows: rows, chain: try target.verifyAudit(), mismatched: mismatched)
    }

    /// Parents before children (the SQLite source's foreign key list), so every reference finds
    /// its row.
    static func order(_ tables: [String], _ db: SQLConnection) throws -> [String] {
        var parents: [String: Set<String>] = [:]
        for table in tables {
            let referenced = try String.fetchAll(db, sql: "SELECT \"table\" FROM pragma_foreign_key_list(?)",
                                                 arguments: [table])
            parents[table] = Set(referenced).subtracting([table])
        }
        var ordered: [String] = []
        var placed: Set<String> = []
        while ordered.count < tables.count {
            guard let next = tables.first(where: { !placed.contains($0) && parents[$0, default: []].isSubset(of: placed) })
            else { return ordered + tables.filter { !placed.contains($0) } }
            ordered.append(next)
            placed.insert(next)
        }
        return ordered
    }
}
