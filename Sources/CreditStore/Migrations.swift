import CreditLine
import Crypto
import Foundation
import GRDB

/// One `migrations/NNNN_name.sql` file.
public struct Migration: Sendable, Equatable {
    public var version: Int
    public var name: String
    public var sql: String
    public var sha256: String

    public var fileName: String { String(format: "%04d_%@.sql", version, name) }

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.sha256 = SHA256.hash(data: Data(sql.utf8)).hex
    }
}

/// Plain SQL migrations applied in order, each in its own transaction and recorded with its
/// SHA-256, so an edited history is caught at start-up instead of silently diverging.
public struct Migrations: Sendable {
    public let migrations: [Migration]

    public init(_ migrations: [Migration]) { self.migrations = migrations }

    /// Reads a directory: every `*.sql` must be `NNNN_name.sql`, numbered 0001 upwards without gaps.
    public static func load(directory: String) throws -> Migrations {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StoreError.migrationsDirectoryMissing(directory)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".sql") }.sorted()
        var migrations: [Migration] = []
        for (index, file) in files.enumerated() {
            guard let (version, name) = parse(file) else { throw StoreError.badMigrationName(file) }
            guard version == index + 1 else { throw StoreError.migrationGap(expected: index + 1, found: file) }
            let sql = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            migrations.append(Migration(version: version, name: name, sql: sql))
        }
        return Migrations(migrations)
    }

    private static func parse(_ file: String) -> (Int, String)? {
        let base = file.dropLast(4)
        let parts = base.split(separator: "_", maxSplits: 1)
        guard parts.count == 2, parts[0].count == 4, let version = Int(parts[0]), version > 0,
            !parts[1].isEmpty,
            parts[1].allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") })
        else { return nil }
        return (version, String(parts[1]))
    }

    public var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Applies what is missing. Refuses to start when an applied file changed or vanished.
    /// - Returns: the migrations applied now.
    @discardableResult
    public func apply(to writer: any DatabaseWriter) throws -> [Migration] {
        try writer.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    INTEGER PRIMARY KEY,
                    name       TEXT NOT NULL,
                    sha256     TEXT NOT NULL,
                    applied_at TEXT NOT NULL
                ) STRICT
                """)
        }
        let applied = try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT version, name, sha256 FROM schema_migrations ORDER BY version")
                .map { StoreRow($0, columns: ["version", "name", "sha256"]) }
        }
        let pending = try pending(after: applied)
        for migration in pending {
            do {
                // SQLite's procedure for a table rebuild ("Making Other Kinds Of Table Schema
                // Changes"): foreign keys off outside the transaction, since dropping a parent
                // table with rows counts as deleting them even when the rebuilt table brings every
                // row back; then every reference is checked before the migration commits.
                try writer.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA foreign_keys = OFF")
                    defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
                    try db.inTransaction(.immediate) {
                        try db.execute(sql: migration.sql)
                        if let broken = try Row.fetchOne(db, sql: "PRAGMA foreign_key_check") {
                            // Named in the message as SQLite gave them; never read by a trapping subscript.
                            let (table, parent) = (broken["table"] as String? ?? "?", broken["parent"] as String? ?? "?")
                            throw StoreError.migrationFailed(
                                file: migration.fileName, message: "a row of \(table) refers to a missing row of \(parent)")
                        }
                        try db.execute(
                            sql: "INSERT INTO schema_migrations (version, name, sha256, applied_at) VALUES (?, ?, ?, ?)",
                            arguments: [migration.version, migration.name, migration.sha256,
                                        SystemTimeSource().now().rfc3339])
                        return .commit
                    }
                }
            } catch let error as DatabaseError {
                throw StoreError.migrationFailed(file: migration.fileName, message: error.message ?? "\(error)")
            }
        }
        return pending
    }

    /// Refuses an applied history that no longer matches the files; the rest is pending.
    private func pending(after applied: [StoreRow]) throws -> [Migration] {
        for row in applied {
            let version: Int = try row["version"]
            let name: String = try row["name"]
            let recorded: String = try row["sha256"]
            guard let migration = migrations.first(where: { $0.version == version }) else {
                throw StoreError.migrationFileMissing(version: version, name: name)
            }
            guard migration.sha256 == recorded, migration.name == name else {
                throw StoreError.migrationChanged(file: migration.fileName, recorded: recorded, current: migration.sha256)
            }
        }
        return migrations.filter { $0.version > applied.count }
    }

    /// PostgreSQL's run: under the chain's head lock, so that instances starting together
    /// migrate once (the first in; the others then find nothing pending), and in one transaction,
    /// since PostgreSQL's DDL is transactional: a failed file leaves the schema as it was.
    @discardableResult
    func apply(to engine: PostgresEngine) throws -> [Migration] {
        try engine.writeWithoutHead { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    BIGINT PRIMARY KEY,
                    name       TEXT NOT NULL,
                    sha256     TEXT NOT NULL,
                    applied_at TEXT NOT NULL
                )
                """)
            let applied = try StoreRow.fetchAll(db, sql: "SELECT version, name, sha256 FROM schema_migrations ORDER BY version")
            let pending = try pending(after: applied)
            for migration in pending {
                do {
                    try db.executeScript(migration.sql)
                } catch let error as PostgresServerError {
                    throw StoreError.migrationFailed(file: migration.fileName, message: error.message)
                }
                try db.execute(
                    sql: "INSERT INTO schema_migrations (version, name, sha256, applied_at) VALUES (?, ?, ?, ?)",
                    arguments: [migration.version, migration.name, migration.sha256, SystemTimeSource().now().rfc3339])
            }
            return pending
        }
    }

    /// The highest version recorded in the database.
    public static func appliedVersion(_ db: SQLConnection) throws -> Int {
        guard try db.tableNames().contains("schema_migrations") else { return 0 }
        return try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(version), 0) FROM schema_migrations") ?? 0
    }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hex; every hash of every audit entry goes through here, so digit by digit
    /// into one buffer rather than a string per byte.
    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension Digest {
    var hex: String { Array(self).hex }
}
