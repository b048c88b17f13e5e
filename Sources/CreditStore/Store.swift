import CreditLine
import Foundation
import GRDB
import Synchronization

/// How the database is opened. Defaults favour durability: a credit decision acknowledged to a
/// caller must survive a power cut.
public struct StoreOptions: Sendable {
    public enum Synchronous: String, Sendable, CaseIterable {
        /// fsync the WAL at every commit: survives power loss (SQLite's documentation of
        /// `PRAGMA synchronous`; README "Storage").
        case full
        /// Survives a crash of the process, may lose the last commits on power loss.
        case normal
    }

    public var synchronous: Synchronous = .full
    /// Waiting for the write lock instead of failing at once (GRDB's default is immediate failure).
    public var busyTimeout: Duration = .seconds(5)
    public var migrationsDirectory: String = "migrations"
    public var readerCount: Int = 4
    /// Business writes waiting for the writer at most; one more is refused at once (503) instead
    /// of queueing without bound. A batch of this size still commits in well under a second.
    public var writeQueueMax: Int = 4096
    /// The templates the customers' notices are written in. Without them a write that owes a
    /// notice is refused (`StoreError.noNoticeTemplates`), never committed without it: the
    /// service always gives them; a tool or a test that writes nothing a customer is told of may
    /// leave them out.
    public var notices: NoticeComposer?
    /// The account chains of the audit log (docs/audit-chain.md, "Chains") wanted at least: the
    /// database's count is raised to it at open, never lowered (`StoreError.auditChainsLowered`);
    /// 0 keeps the database's.
    public var auditChains = 0

    public init() {}
}

/// The one way into the database: a `Sendable` facade that migrates on open and offers reads and
/// business writes named for intent, never raw SQL to its callers. It runs over any GRDB writer:
/// a `DatabasePool` on a file in production, a `DatabaseQueue` in memory where a test gains
/// nothing from a file.
public struct Store: Sendable {
    let database: StoreEngine
    let health: StorageHealth
    /// The writers (docs/architecture.md, "Chains and their locks"): one on SQLite; on
    /// PostgreSQL one a lane, a chain's writes always in the same lane, so that writes to chains
    /// of different lanes run side by side. The first lane also takes the writes of no one account.
    let lanes: [GroupCommit]
    var groupCommit: GroupCommit { lanes[0] }
    /// Accounts' chains as this process has learned them, and the count of account chains.
    let chains = ChainDirectory()
    /// The store's own read-only connections for one-statement reads (a file's store only).
    let readers: RawReaders?
    /// The file, or `:memory:`.
    public let path: String
    public let time: any TimeSource
    public let migrations: Migrations
    /// What the customers' notices say (`StoreOptions.notices`), fixed when the store opens.
    let composer: NoticeComposer?

    /// Opens (creating the file and its folder if needed) and applies pending migrations.
    public static func open(path: String, options: StoreOptions = StoreOptions(),
                            time: any TimeSource = SystemTimeSource()) throws -> Store
    {
        let migrations = try Migrations.load(directory: options.migrationsDirectory)
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
        // Customer records are for this process's user alone; SQLite gives the -wal and -shm
        // files the database file's mode, so creating it owner-only covers all three.
        if !FileManager.default.fileExists(atPath: path) { _ = OwnerOnlyFile.create(path, contents: []) }
        var configuration = Configuration()
        configuration.busyMode = .timeout(TimeInterval(options.busyTimeout.components.seconds)
            + TimeInterval(options.busyTimeout.components.attoseconds) / 1e18)
        configuration.maximumReaderCount = options.readerCount
        let pool = try DatabasePool(path: path, configuration: configuration)
        // DatabasePool turns on WAL and then sets synchronous=NORMAL on its single writer
        // connection; only that connection commits, so choosing on it is choosing for all writes.
        try pool.writeWithoutTransaction { db in
            switch options.synchronous {
            case .full: try db.execute(sql: "PRAGMA synchronous = FULL")
            case .normal: try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
        }
        let store = Store(database: .sqlite(pool), path: path, time: time, migrations: migrations, options: options,
                          readers: RawReaders(path: path, busyTimeout: options.busyTimeout))
        try migrations.apply(to: pool)
        try checkDurability(of: pool, expected: options.synchronous)
        try store.raiseAuditChains(to: options.auditChains)
        return store
    }

    /// A migrated database in memory, gone when the store is: for tests of rules and reads whose
    /// outcome does not depend on a file (durability, crash and migration tests keep files).
    init(database: StoreEngine, path: String, time: any TimeSource, migrations: Migrations, options: StoreOptions,
         readers: RawReaders? = nil)
    {
        self.database = database
        self.readers = readers
        self.path = path
        self.time = time
        self.migrations = migrations
        self.composer = options.notices
        self.health = StorageHealth()
        let laneCount = if case .postgres = database { Self.postgresLanes } else { 1 }
        let health = self.health
        self.lanes = (0..<laneCount).map { _ in GroupCommit(writer: database, health: health, limit: options.writeQueueMax) }
    }

    /// PostgreSQL's writer lanes: each holds a connection while it writes, so they are a handful.
    static let postgresLanes = 8

    /// Where a write goes and what it locks: a write of one account, its chain's lane and lock; a
    /// new account, the chain it is placed in; anything else, the first lane and every lock.
    /// SQLite has one writer and no locks to choose.
    func route<W: BusinessWrite>(_ write: inout W) async throws -> (GroupCommit, WriteScope) {
        guard case .postgres = database else { return (groupCommit, .installation) }
        var chain: Int?
        if let placed = write.place(accountChains: try await chains.accountChains(self)) {
            chain = placed
        } else if let accountID = write.chainAccountID {
            chain = try await chains.chain(of: accountID, self)
        }
        guard let chain else { return (groupCommit, .installation) }
        return (lanes[chain % lanes.count], .chain(chain))
    }

    public static func inMemory(migrationsDirectory: String, time: any TimeSource = SystemTimeSource(),
                                notices: NoticeComposer? = nil) throws -> Store
    {
        let migrations = try Migrations.load(directory: migrationsDirectory)
        let queue = try DatabaseQueue()
        try migrations.apply(to: queue)
        var options = StoreOptions()
        options.notices = notices
        return Store(database: .sqlite(queue), path: ":memory:", time: time, migrations: migrations, options: options)
    }

    /// Opens the database `url` names: `sqlite:PATH` (or a bare path) or `postgres://…`
    /// (README "Running on PostgreSQL"). Migrations come from the dialect's folder under
    /// `options.migrationsDirectory`.
    public static func open(url: String, options: StoreOptions = StoreOptions(),
                            time: any TimeSource = SystemTimeSource()) throws -> Store
    {
        switch try DatabaseURL(url) {
        case .sqlite(let path):
            var options = options
            options.migrationsDirectory += "/sqlite"
            return try open(path: path, options: options, time: time)
        case .postgres(let location):
            return try open(postgres: location, options: options, time: time)
        }
    }

    public static func open(postgres location: PostgresLocation, options: StoreOptions = StoreOptions(),
                            time: any TimeSource = SystemTimeSource()) throws -> Store
    {
        let migrations = try Migrations.load(directory: options.migrationsDirectory + "/postgres")
        let engine = try PostgresEngine(location: location)
        try engine.checkConnection()
        try migrations.apply(to: engine)
        let store = Store(database: .postgres(engine), path: location.description, time: time, migrations: migrations,
                          options: options)
        try store.checkPostgresDurability()
        try store.raiseAuditChains(to: options.auditChains)
        return store
    }

    var sqliteWriter: (any DatabaseWriter)? { database.sqliteWriter }

    /// The engine this store runs on.
    public var dialect: SQLDialect {
        switch database {
        case .sqlite: .sqlite
        case .postgres: .postgres
        }
    }

    /// An acknowledged write must be durable: on PostgreSQL that is `synchronous_commit` on
    /// (or stricter), never `off` or `local` left in the server's configuration by accident.
    private func checkPostgresDurability() throws {
        let setting = try database.read { db in try String.fetchOne(db, sql: "SHOW synchronous_commit") } ?? "?"
        guard ["on", "remote_apply", "remote_write"].contains(setting) else {
            throw StoreError.durabilityNotApplied("synchronous_commit=\(setting)")
        }
    }

    /// Reads back what SQLite actually uses, since a pragma can be silently ignored.
    private static func checkDurability(of writer: some DatabaseWriter, expected: StoreOptions.Synchronous) throws {
        let (journal, synchronous) = try writer.writeWithoutTransaction { db in
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
        guard case .sqlite(let writer) = database else {
            let (commit, standbys) = try database.read { db in
                (try String.fetchOne(db, sql: "SHOW synchronous_commit") ?? "?",
                 try String.fetchOne(db, sql: "SHOW synchronous_standby_names") ?? "")
            }
            return ("postgres", "synchronous_commit=\(commit) synchronous_standby_names='\(standbys)'")
        }
        return try writer.writeWithoutTransaction { db in
            let journal = try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "?"
            let level = try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
            return (journal, [0: "off", 1: "normal", 2: "full", 3: "extra"][level] ?? "\(level)")
        }
    }

    // MARK: - Health

    /// True when the database answers and every migration file is applied.
    public func isReady() async -> Bool {
        do {
            let applied = try await read { db in try Migrations.appliedVersion(db) }
            return applied == migrations.latestVersion
        } catch {
            return false
        }
    }

    /// Number of audit entries: the sum of the chains' last `seq`.
    public func auditLength() async throws -> Int {
        try await read { db in try AuditChain.heads(db).reduce(0) { $0 + $1.seq } }
    }

    /// Where the log ends now, as a reader's position: polled from it, `GET /v1/audit` answers
    /// only what comes after.
    public func auditPosition() async throws -> AuditPosition {
        AuditPosition(Dictionary(uniqueKeysWithValues: try await auditHeads().map { ($0.chain, $0.seq) }))
    }

    /// Every chain's head, chain 0 first (docs/audit-chain.md, "Chains").
    public func auditHeads() async throws -> [AuditChainHead] {
        try await read { db in try AuditChain.heads(db) }
    }

    public func verifyAudit(from root: [AuditChainHead] = []) throws -> AuditChain.Verification {
        try database.read { db in try AuditChain.verify(db, from: root) }
    }

    /// Moves the WAL's content into the main file and truncates it; done at shutdown so the file
    /// alone is a complete copy.
    public func checkpoint() throws {
        guard case .sqlite(let writer) = database else { return }
        try writer.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    }

    public func close() throws {
        readers?.close()
        switch database {
        case .sqlite(let writer): try writer.close()
        case .postgres(let engine): engine.close()
        }
    }

    // MARK: - The write path

    /// Runs a business write in one transaction: its own checks and changes, then its audit
    /// entries, chained to the current head. Either all of it commits or none of it does (a
    /// state change and its audit entry commit together: docs/architecture.md, "The write path").
    /// `now` is the request's time, read once when it arrived, so that what was validated and
    /// what is stored carry the same instant.
    public func perform<W: BusinessWrite>(_ write: W, by actor: Actor, at now: Timestamp,
                                          ifMatch: AccountVersion? = nil) async throws -> W.Output
    {
        let composer = self.composer
        var write = write
        let (lane, scope) = try await route(&write)
        return try await lane.submit(scope: scope, name: "\(W.self)") { [write] db in
            try Self.run(write, by: actor, at: now, ifMatch: ifMatch, composer: composer, db)
        }
    }

    /// Whether this store writes the notices its writes owe (README "Events and notices").
    public var writesNotices: Bool { composer != nil }

    /// The same, and the caller's answer with it: `answer` turns the write's output into what the
    /// caller returns and, for a request with an Idempotency-Key, the answer to keep. The change,
    /// its audit entries and that kept answer commit in one transaction, or none of them does:
    /// one request, one commit.
    public func perform<W: BusinessWrite, Answer: Sendable>(
        _ write: W, by actor: Actor, at now: Timestamp, ifMatch: AccountVersion? = nil,
        idempotency: IdempotencyRecord?, answer: @escaping @Sendable (W.Output) throws -> (Answer, StoredAnswer?)
    ) async throws -> Answer {
        let composer = self.composer
        var write = write
        let (lane, scope) = try await route(&write)
        return try await lane.submit(scope: scope, name: "\(W.self)") { [write] db in
            let output = try Self.run(write, by: actor, at: now, ifMatch: ifMatch, composer: composer, db)
            let (value, kept) = try answer(output)
            if let idempotency, let kept { try Self.store(kept, for: idempotency, at: now, in: db) }
            return value
        }
    }

    /// The same for a caller that is not answering a request (a sweep, a test): the time is read
    /// once, here.
    public func perform<W: BusinessWrite>(_ write: W, by actor: Actor, ifMatch: AccountVersion? = nil) async throws
        -> W.Output
    {
        try await perform(write, by: actor, at: time.now(), ifMatch: ifMatch)
    }

    /// The same, blocking; for the command-line tools.
    public func performNow<W: BusinessWrite>(_ write: W, by actor: Actor) throws -> W.Output {
        let now = time.now()
        let composer = self.composer
        return try database.write { db in try Self.run(write, by: actor, at: now, ifMatch: nil, composer: composer, db) }
    }

    /// Many writes in one transaction, each with its audit entries; for bulk loads from the
    /// command line (`seed --generate`), where one commit per write would be all fsync.
    public func performNow<W: BusinessWrite>(_ writes: [W], by actor: Actor) throws -> [W.Output] {
        let now = time.now()
        let composer = self.composer
        return try database.write { db in
            try writes.map { try Self.run($0, by: actor, at: now, ifMatch: nil, composer: composer, db) }
        }
    }

    /// The write, then the notices its entries make due, every entry in the chain, and the
    /// events and webhook deliveries they owe: all in the write's transaction (the outbox).
    private static func run<W: BusinessWrite>(_ write: W, by actor: Actor, at now: Timestamp, ifMatch: AccountVersion?,
                                              composer: NoticeComposer?, _ db: SQLConnection) throws -> W.Output
    {
        if let ifMatch {
            try ifMatch.check(current: try Int.fetchOne(db, cached: "SELECT version FROM accounts WHERE id = ?",
                                                        arguments: [ifMatch.accountID]))
        }
        let (output, changes) = try write.apply(db, now: now)
        let records = changes + (try Outbox.notices(for: changes, composer: composer, db: db, now: now))
        let positions = try AuditChain.append(records, by: actor, at: now, in: db)
        try Outbox.events(for: records, at: positions, db: db, now: now)
        return output
    }
}

/// A business write: which facts to gather, which domain rule to ask, and what to change and
/// audit once the rule has decided, as one value. It runs inside the write transaction against
/// the current rows, so rules are re-checked there and two racing requests cannot both pass
/// them. It decides nothing itself: every refusal comes from a rule in `CreditLine`.
public protocol BusinessWrite: Sendable {
    associatedtype Output: Sendable
    func apply(_ db: SQLConnection, now: Timestamp) throws -> (Output, [AuditRecord])

    /// The one account whose rows this write's rule reads and changes, so that on PostgreSQL it
    /// takes that account's chain's lock alone (docs/architecture.md, "Chains and their locks").
    /// nil, the default: the write may reach any account, or none, and takes every lock.
    var chainAccountID: String? { get }

    /// A write that creates an account places it in a chain before it runs (so that it is routed
    /// and locked there) and answers the chain; nil for every other write.
    mutating func place(accountChains: Int) -> Int?
}

extension BusinessWrite {
    public var chainAccountID: String? { nil }
    public mutating func place(accountChains: Int) -> Int? { nil }
}

/// Accounts' chains as this process has learned them (a chain never changes, so what is known
/// stays true), and the count of account chains read once at the first write.
final class ChainDirectory: Sendable {
    private let known = Mutex<[String: Int]>([:])
    private let count = Mutex<Int?>(nil)
    /// Accounts remembered at most; past that the memory starts again.
    static let limit = 100_000

    func chain(of accountID: String, _ store: Store) async throws -> Int? {
        if let chain = known.withLock({ $0[accountID] }) { return chain }
        guard let chain = try await store.read({ db in
            try Int.fetchOne(db, cached: "SELECT audit_chain FROM accounts WHERE id = ?", arguments: [accountID])
        }) else { return nil }
        known.withLock { known in
            if known.count >= Self.limit { known.removeAll() }
            known[accountID] = chain
        }
        return chain
    }

    /// The database's count when first asked: an instance places new accounts over the count it
    /// read, until it starts again (README "Configuration", `audit_chains`).
    func accountChains(_ store: Store) async throws -> Int {
        if let count = count.withLock({ $0 }) { return count }
        let read = try await store.read { db in try AuditChain.accountChains(db) }
        count.withLock { $0 = read }
        return read
    }

    /// The count is read again at the next write (this process raised it).
    func forgetCount() { count.withLock { $0 = nil } }
}
