import CreditLine
import Foundation
import GRDB

/// How the database is opened. Defaults favour durability: a credit decision acknowledged to a
/// caller must survive a power cut.
public struct StoreOptions: Sendable {
    public enum Synchronous: String, Sendable, CaseIterable {
        /// fsync the WAL at every commit: survives power loss (REFERENCES "Durability").
        case full
        /// Survives a crash of the process, may lose the last commits on power loss.
        case normal
    }

    public var synchronous: Synchronous = .full
    /// Waiting for the write lock instead of failing at once (GRDB's default is immediate failure).
    public var busyTimeout: Duration = .seconds(5)
    public var migrationsDirectory: String = "migrations"
    public var readerCount: Int = 4

    public init() {}
}

/// The one way into the database: a `Sendable` facade that migrates on open and offers reads and
/// business writes named for intent, never raw SQL to its callers.
public struct Store: Sendable {
    let pool: DatabasePool
    public let path: String
    public let time: any TimeSource
    public let migrations: Migrations

    /// Opens (creating the file and its folder if needed) and applies pending migrations.
    public static func open(path: String, options: StoreOptions = StoreOptions(),
                            time: any TimeSource = SystemTimeSource()) throws -> Store
    {
        let migrations = try Migrations.load(directory: options.migrationsDirectory)
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(TimeInterval(options.busyTimeout.components.seconds)
            + TimeInterval(options.busyTimeout.components.attoseconds) / 1e18)
        configuration.maximumReaderCount = options.readerCount
        let pool = try DatabasePool(path: path, configuration: configuration)
        // DatabasePool turns on WAL and then sets synchronous=NORMAL on its single writer
        // connection; only that connection commits, so choosing on it is choosing for all writes.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = \(options.synchronous.rawValue.uppercased())")
        }
        let store = Store(pool: pool, path: path, time: time, migrations: migrations)
        try migrations.apply(to: pool)
        try store.checkDurability(expected: options.synchronous)
        return store
    }

    /// Reads back what SQLite actually uses, since a pragma can be silently ignored.
    private func checkDurability(expected: StoreOptions.Synchronous) throws {
        let (journal, synchronous) = try pool.writeWithoutTransaction { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "",
             try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1)
        }
        let wanted = expected == .full ? 2 : 1
        guard journal.lowercased() == "wal", synchronous == wanted else {
            throw StoreError.durabilityNotApplied("journal_mode=\(journal), synchronous=\(synchronous)")
        }
    }

    /// The settings in force, for start-up logs.
    public func durabilitySettings() throws -> (journalMode: String, synchronous: String) {
        try pool.writeWithoutTransaction { db in
            let journal = try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "?"
            let level = try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
            return (journal, [0: "off", 1: "normal", 2: "full", 3: "extra"][level] ?? "\(level)")
        }
    }

    // MARK: - Health

    /// True when the database answers and every migration file is applied.
    public func isReady() async -> Bool {
        do {
            let applied = try await pool.read { db in try Migrations.appliedVersion(db) }
            return applied == migrations.latestVersion
        } catch {
            return false
        }
    }

    /// Number of audit entries (its last `seq`).
    public func auditLength() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM audit_log") ?? 0 }
    }

    public func auditHead() async throws -> AuditHead {
        try await pool.read { db in try AuditChain.head(db) }
    }

    public func verifyAudit(from checkpoint: AuditHead? = nil) throws -> AuditChain.Verification {
        try pool.read { db in try AuditChain.verify(db, from: checkpoint) }
    }

    /// Moves the WAL's content into the main file and truncates it; done at shutdown so the file
    /// alone is a complete copy.
    public func checkpoint() throws {
        try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    }

    public func close() throws {
        try pool.close()
    }

    // MARK: - The write path

    /// Runs a business write in one transaction: its own checks and changes, then its audit
    /// entries, chained to the current head. Either all of it commits or none of it does
    /// (SPEC: a state change and its audit entry commit together).
    public func perform<W: BusinessWrite>(_ write: W, by actor: Actor, ifMatch: AccountVersion? = nil) async throws
        -> W.Output
    {
        let now = time.now()
        return try await pool.write { db in
            if let ifMatch { try Self.check(ifMatch, db) }
            let (output, records) = try write.apply(db, now: now)
            try AuditChain.append(records, by: actor, at: now, in: db)
            return output
        }
    }

    /// The same, blocking; for the command-line tools.
    public func performNow<W: BusinessWrite>(_ write: W, by actor: Actor) throws -> W.Output {
        let now = time.now()
        return try pool.write { db in
            let (output, records) = try write.apply(db, now: now)
            try AuditChain.append(records, by: actor, at: now, in: db)
            return output
        }
    }
}

/// An `If-Match` on an account: the version the caller last saw (RFC 9110 §13.1.1).
public struct AccountVersion: Sendable, Equatable {
    public var accountID: String
    /// nil for `If-Match: *` (any current version).
    public var version: Int?

    public init(accountID: String, version: Int?) {
        self.accountID = accountID
        self.version = version
    }
}

extension Store {
    /// Checked inside the write transaction, so nothing can change the account in between.
    static func check(_ expected: AccountVersion, _ db: Database) throws {
        guard let account = try fetchAccount(db, id: expected.accountID) else { throw DomainError.notFound("account") }
        if let version = expected.version, version != account.version {
            throw DomainError(.preconditionFailed, code: "version-mismatch",
                              "The account is at version \(account.version), not \(version); read it again.")
        }
    }
}

/// A business write: what to check, what to change and what to audit, as one value. It runs
/// inside the write transaction against the current rows, so rules are re-checked there and two
/// racing requests cannot both pass them.
public protocol BusinessWrite: Sendable {
    associatedtype Output: Sendable
    func apply(_ db: Database, now: Timestamp) throws -> (Output, [AuditRecord])
}
