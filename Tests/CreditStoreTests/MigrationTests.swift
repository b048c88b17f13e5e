import Foundation
import GRDB
import Testing
@testable import CreditStore

@Suite(.sqliteFile) struct MigrationTests {
    /// A copy of the repository's migrations in a folder the test may edit.
    func migrationsCopy() throws -> String {
        let folder = NSTemporaryDirectory() + "creditline-migrations-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for file in try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/migrations/sqlite") {
            try FileManager.default.copyItem(atPath: repositoryRoot + "/migrations/sqlite/" + file, toPath: folder + "/" + file)
        }
        return folder
    }

    func open(_ path: String, migrations: String) throws -> Store {
        var options = StoreOptions()
        options.migrationsDirectory = migrations
        return try Store.open(path: path, options: options)
    }

    @Test func freshDatabaseGetsEveryMigrationRecordedWithItsHash() throws {
        let (store, location) = try temporaryStore()
        let path = try #require(location.sqlitePath)
        try store.close()
        let queue = try DatabaseQueue(path: path)
        let rows = try queue.read { db in try Row.fetchAll(db, sql: "SELECT version, name, sha256 FROM schema_migrations") }
        let loaded = try Migrations.load(directory: repositoryRoot + "/migrations/sqlite").migrations
        #expect(rows.count == loaded.count)
        for (row, migration) in zip(rows, loaded) {
            #expect(row["version"] == migration.version)
            #expect(row["sha256"] == migration.sha256)
            #expect((row["sha256"] as String).count == 64)
        }
        #expect(try queue.read { db in try db.tableExists("accounts") && db.tableExists("audit_log") })
    }

    @Test func reopeningAppliesNothingAgain() throws {
        let (store, location) = try temporaryStore()
        let path = try #require(location.sqlitePath)
        try store.close()
        let again = try Migrations.load(directory: repositoryRoot + "/migrations/sqlite").apply(to: DatabaseQueue(path: path))
        #expect(again.isEmpty)
    }

    @Test func changedAppliedFileStopsStartUpNamingIt() throws {
        let migrations = try migrationsCopy()
        let path = migrations + "/db.sqlite"
        try open(path, migrations: migrations).close()
        let file = migrations + "/0002_accounts.sql"
        try (String(contentsOfFile: file, encoding: .utf8) + "\n-- edited\n").write(toFile: file, atomically: true, encoding: .utf8)
        #expect {
            try open(path, migrations: migrations)
        } throws: { error in
            guard case StoreError.migrationChanged(let name, _, _) = error else { return false }
            return name == "0002_accounts.sql" && "\(error)".contains("0002_accounts.sql")
        }
    }

    @Test func gapInNumberingStopsStartUp() throws {
        let migrations = try migrationsCopy()
        let latest = try Migrations.load(directory: migrations).latestVersion
        try "SELECT 1;".write(toFile: migrations + "/0099_later.sql", atomically: true, encoding: .utf8)
        #expect(throws: StoreError.migrationGap(expected: latest + 1, found: "0099_later.sql")) {
            try Migrations.load(directory: migrations)
        }
    }

    @Test func badlyNamedFileStopsStartUp() throws {
        let migrations = try migrationsCopy()
        try "SELECT 1;".write(toFile: migrations + "/3_thing.sql", atomically: true, encoding: .utf8)
        #expect(throws: StoreError.badMigrationName("3_thing.sql")) { try Migrations.load(directory: migrations) }
    }

    @Test func appliedMigrationWhoseFileVanishedStopsStartUp() throws {
        let migrations = try migrationsCopy()
        let path = migrations + "/db.sqlite"
        try open(path, migrations: migrations).close()
        let last = try #require(try Migrations.load(directory: migrations).migrations.last)
        try FileManager.default.removeItem(atPath: migrations + "/" + last.fileName)
        #expect(throws: StoreError.migrationFileMissing(version: last.version, name: last.name)) {
            try open(path, migrations: migrations)
        }
    }

    @Test func failingMigrationRollsBackAndNamesTheFile() throws {
        let migrations = try migrationsCopy()
        let next = String(format: "%04d", try Migrations.load(directory: migrations).latestVersion + 1)
        try "CREATE TABLE half (x); SELECT nonsense FROM nowhere;".write(
            toFile: migrations + "/\(next)_broken.sql", atomically: true, encoding: .utf8)
        let path = migrations + "/db.sqlite"
        #expect(throws: StoreError.self) { try open(path, migrations: migrations) }
        let queue = try DatabaseQueue(path: path)
        // Its transaction rolled back: no half-made table, no record.
        #expect(try queue.read { db in try !db.tableExists("half") })
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT MAX(version) FROM schema_migrations") } == Int(next)! - 1)
    }

    @Test(arguments: [(StoreOptions.Synchronous.full, "full"), (.normal, "normal")])
    func durabilitySettingsAreReadBack(synchronous: StoreOptions.Synchronous, expected: String) throws {
        let (store, _) = try temporaryStore(synchronous: synchronous)
        let settings = try store.durabilitySettings()
        #expect(settings.journalMode == "wal")
        #expect(settings.synchronous == expected)
    }

    /// 0010 rebuilds accounts: every row and its consents survive, a line opened before it starts
    /// its cooling-off when the audit log says it opened, and `charged_off` becomes a status.
    @Test func theLedgerMigrationKeepsEveryAccountAndDatesOpenedLines() throws {
        let migrations = try migrationsCopy()
        let later = try FileManager.default.contentsOfDirectory(atPath: migrations).filter { $0 >= "0010" }
        let held = migrations + "/held"
        try FileManager.default.createDirectory(atPath: held, withIntermediateDirectories: true)
        for file in later { try FileManager.default.moveItem(atPath: migrations + "/" + file, toPath: held + "/" + file) }
        let path = migrations + "/db.sqlite"
        try open(path, migrations: migrations).close()
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO accounts (id, tenant, customer_ref, status, credit_limit, created_at, updated_at)
                VALUES ('acc_old', 'default', 'c-old', 'active', 50000, '2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z'),
                       ('acc_new', 'default', 'c-new', 'prospect', 0, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
                INSERT INTO audit_log (seq, at, actor, role, action, account_id, subject_id, detail, request_id, prev_hash, hash)
                VALUES (1, '2026-01-02T00:00:00.000Z', 'k', 'service', 'account.activated', 'acc_old', 'acc_old', '{}', 'r', 'x', 'y');
                INSERT INTO consents (id, account_id, purpose, notice_version, notice_sha256, channel, method, granted_at,
                                      expires_at, status)
                VALUES ('con_old', 'acc_old', 'credit_line', '2026-11', '\(String(repeating: "0", count: 64))', 'app', 'explicit_opt_in',
                        '2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', 'active');
                """)
        }
        try queue.close()
        for file in later { try FileManager.default.moveItem(atPath: held + "/" + file, toPath: migrations + "/" + file) }
        try open(path, migrations: migrations).close()
        let rows = try DatabaseQueue(path: path).read { db in
            try Row.fetchAll(db, sql: "SELECT id, status, credit_limit, activated_at, balance, delinquency FROM accounts ORDER BY id")
        }
        #expect(rows.map { $0["id"] as String } == ["acc_new", "acc_old"])
        #expect(rows[1]["activated_at"] as String? == "2026-01-02T00:00:00.000Z")
        #expect(rows[0]["activated_at"] as String? == nil)
        #expect(rows[1]["credit_limit"] as Int == 50_000 && rows[1]["balance"] as Int == 0)
        #expect(rows[1]["delinquency"] as String == "current")
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "UPDATE accounts SET status = 'charged_off' WHERE id = 'acc_old'")
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM consents WHERE account_id = 'acc_old'") == 1)
            #expect(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").isEmpty)
        }
    }
}

/// Migration 0028: the CHECKs of accounts and decisions written as comparisons, which compile to a
/// few opcodes where a list of three or more constants filled a temporary b-tree per row.
@Suite(.sqliteFile) struct CheckListTests {
    static let enumerated: [(table: String, column: String, valid: [String], invalid: String)] = [
        ("accounts", "status", ["prospect", "pending_review", "active", "frozen", "declined", "closed", "charged_off"], "dormant"),
        ("accounts", "delinquency", ["current", "dpd_1_30", "dpd_31_60", "dpd_61_90", "dpd_90_plus"], "dpd_9"),
        ("accounts", "delinquency_cap", ["current", "dpd_1_30", "dpd_31_60", "dpd_61_90", "dpd_90_plus"], "late"),
        ("decisions", "tier", ["A", "B", "C", "D", "E"], "F"),
        ("decisions", "outcome", ["approve", "review", "decline"], "maybe"),
        ("decisions", "challenger_tier", ["A", "B", "C", "D", "E"], "a"),
        ("decisions", "challenger_outcome", ["approve", "review", "decline"], "Approve"),
    ]

    @Test func theRebuiltChecksAcceptAndRefuseWhatTheListsDid() async throws {
        let (store, accountID) = try await TypedRowTests().populated()
        let writer = try #require(store.sqliteWriter)
        let decisionID = try await writer.read { db in try String.fetchOne(db, sql: "SELECT id FROM decisions LIMIT 1") }
        for (table, column, valid, invalid) in Self.enumerated {
            let id = try #require(table == "accounts" ? accountID : decisionID)
            try await store.database.write { db in
                for value in valid {
                    try db.execute(sql: "UPDATE \(table) SET \(column) = ? WHERE id = ?", arguments: [value, id])
                }
                #expect(throws: DatabaseError.self, "\(table).\(column) = \(invalid)") {
                    try db.execute(sql: "UPDATE \(table) SET \(column) = ? WHERE id = ?", arguments: [invalid, id])
                }
            }
        }
    }

    @Test func writingAnAccountOrADecisionBuildsNoTemporaryTable() async throws {
        let (store, _) = try await TypedRowTests().populated()
        let statements = [
            "INSERT INTO decisions (id, account_id, score, tier, outcome, recommended_limit, reasons, explanation, model_version, "
                + "inputs, inputs_sha256, scored_at, expires_at, challenger_model_version, challenger_score, challenger_tier, "
                + "challenger_outcome, portfolio_review_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            "UPDATE accounts SET status = ?, delinquency = ?, delinquency_cap = ?, balance = ? WHERE id = ?",
        ]
        for sql in statements {
            let opcodes = try await #require(store.sqliteWriter).read { db in
                let unbound = StatementArguments([DatabaseValue](repeating: .null, count: sql.filter { $0 == "?" }.count))
                return try Row.fetchAll(db, sql: "EXPLAIN " + sql, arguments: unbound).map { $0["opcode"] as String? ?? "" }
            }
            #expect(!opcodes.isEmpty && !opcodes.contains("OpenEphemeral"), "\(sql)")
        }
    }
}
