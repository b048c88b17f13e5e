import Foundation
import GRDB
import GRDBSQLite

/// Which engine a store runs on (README "Running on PostgreSQL").
public enum SQLDialect: String, Sendable {
    case sqlite, postgres
}

/// The values bound to a statement's `?` placeholders, in order. The store's SQL is written once
/// for both engines (docs/architecture.md, "Two engines, one executor"): values are always bound,
/// never spliced into the text.
public struct SQLArguments: ExpressibleByArrayLiteral, Sendable {
    var values: [DatabaseValue]

    public init(arrayLiteral elements: (any DatabaseValueConvertible)?...) {
        values = elements.map { $0?.databaseValue ?? .null }
    }

    public init(_ elements: [(any DatabaseValueConvertible)?]) {
        values = elements.map { $0?.databaseValue ?? .null }
    }

    var statementArguments: StatementArguments { StatementArguments(values) }

    static func + (lhs: SQLArguments, rhs: SQLArguments) -> SQLArguments {
        var joined = lhs
        joined.values += rhs.values
        return joined
    }
}

/// One connection inside one transaction, on either engine: what every business write and read
/// is given. Rows come back as GRDB's `Row` on both, so the typed reads (`TypedRow`) are shared.
public final class SQLConnection {
    /// The connection of the engine in force: exactly one, never both or neither.
    enum Engine {
        case sqlite(Database)
        /// One of the store's own read-only connections (`RawReaders`): one-statement reads.
        case sqliteReader(RawReader)
        case postgres(PostgresSession)
    }

    let engine: Engine
    private var postgresChanges = 0
    /// The audit chains' heads as this transaction knows them: read with the write lock when the
    /// transaction began (PostgreSQL) and moved by each append, so that no append reads them
    /// again; nil where a head is read from the database (SQLite, whose reads cost no round
    /// trip). A savepoint rolled back puts them back as they were.
    var auditHeads: [Int: AuditHead]?

    /// Each account's audit chain as read in this transaction (it never changes).
    var accountChains: [String: Int] = [:]
    /// How many account chains there are, once read in this transaction.
    var accountChainCount: Int?
    /// PostgreSQL: the transaction holds the write lock exclusive, so every chain is its own; else
    /// only the chains in `auditHeads` are (a chain it reaches later is locked then).
    var allChainsLocked = false

    /// A webhook endpoint as the outbox needs it: its id and the event types it wants.
    struct Endpoint {
        var id: String
        var types: [String]
    }

    /// Each tenant's endpoints as read in this transaction, so that a batch of writes reads them
    /// once; an endpoint created or deleted in the transaction empties it.
    var webhookEndpoints: [String: [Endpoint]] = [:]

    /// Each account's tenant as read in this transaction (an account's tenant never changes), so
    /// that the outbox need not read it again.
    var accountTenants: [String: String] = [:]

    /// Statements sent that may have written (anything but a SELECT, and every send of held
    /// inserts): a batch without savepoints asks whether a refused job left anything behind.
    private(set) var writesSent = 0

    /// PostgreSQL's held inserts (`enqueue`), each with the key of its numbered row (the
    /// account of an event) and the keys a read may find it by (a new account's id, its tenant
    /// and reference).
    private var held: [(sql: String, values: [DatabaseValue], numbered: String?, keys: [String])] = []
    /// The keys of what is held, for `heldRow(_:)` and for numbered inserts.
    private var heldKeys: Set<String> = []
    private var heldNumbered: Set<String> = []

    init(_ db: Database) { engine = .sqlite(db) }

    init(_ session: PostgresSession) { engine = .postgres(session) }

    init(_ reader: RawReader) { engine = .sqliteReader(reader) }

    public var dialect: SQLDialect {
        switch engine {
        case .sqlite, .sqliteReader: .sqlite
        case .postgres: .postgres
        }
    }

    /// The SQLite connection, for what only SQLite has (pragmas, checkpoints, the verifier's
    /// column-level loop); nil on PostgreSQL.
    var sqlite: Database? {
        if case .sqlite(let db) = engine { db } else { nil }
    }

    /// Rows changed by the last statement.
    var changesCount: Int {
        switch engine {
        case .sqlite(let db): db.changesCount
        case .sqliteReader: 0
        case .postgres: postgresChanges
        }
    }

    /// Runs a statement the service runs again and again: compiled once per connection on SQLite
    /// (GRDB's statement cache), prepared by text on PostgreSQL.
    func execute(cached sql: String, arguments: SQLArguments = []) throws {
        switch engine {
        // The business writes' statements (inserts and updates, never schema changes, which go
        // through `execute(sql:)` and GRDB's bookkeeping) step straight through SQLite.
        case .sqlite(let db): try SQLiteSteps.execute(SQLiteSteps.Compiled(db.cachedStatement(sql: sql), in: db), arguments)
        case .sqliteReader(let reader): try SQLiteSteps.execute(SQLiteSteps.Compiled(sql, on: reader), arguments)
        case .postgres(let session):
            try send(held: session)
            writesSent += 1
            postgresChanges = try session.run(sql, arguments.values, prepared: .of(sql, wantsRows: false)).changes
        }
    }

    /// An INSERT into a table whose `key` is its INTEGER PRIMARY KEY, answering the key given.
    /// SQLite's RETURNING fills a temporary b-tree per statement; its last inserted rowid is that
    /// key for nothing. PostgreSQL has no such thing, and asks with RETURNING.
    func insert(cached sql: String, returning key: String, arguments: SQLArguments) throws -> Int {
        switch engine {
        case .sqlite(let db):
            try execute(cached: sql, arguments: arguments)
            return Int(db.lastInsertedRowID)
        case .sqliteReader:
            throw DatabaseError(resultCode: .SQLITE_READONLY, message: "a reader writes nothing")
        case .postgres:
            // `fetchOne` goes through `rows`, which sends what is held first.
            guard let value = try Int.fetchOne(self, cached: sql + " RETURNING " + key, arguments: arguments) else {
                throw DatabaseError(message: "INSERT … RETURNING \(key) returned no row")
            }
            return value
        }
    }

    /// Runs a statement once (migrations, start-up).
    func execute(sql: String, arguments: SQLArguments = []) throws {
        switch engine {
        case .sqlite(let db): try db.execute(sql: sql, arguments: arguments.statementArguments)
        case .sqliteReader(let reader): try SQLiteSteps.execute(SQLiteSteps.Compiled(sql, on: reader), arguments)
        case .postgres(let session):
            try send(held: session)
            writesSent += 1
            postgresChanges = try session.run(sql, arguments.values).changes
        }
    }

    /// A migration file's statements, as one script.
    func executeScript(_ sql: String) throws {
        switch engine {
        case .sqlite(let db): try db.execute(sql: sql)
        case .sqliteReader: throw DatabaseError(resultCode: .SQLITE_READONLY, message: "a reader runs no script")
        case .postgres(let session):
            try send(held: session)
            writesSent += 1
            try session.runScript(sql)
        }
    }

    func rows(_ sql: String, _ arguments: SQLArguments, cached: Bool) throws -> [StoreRow] {
        switch engine {
        case .sqlite(let db):
            return try SQLiteSteps.rows(SQLiteSteps.Compiled(Self.statement(sql, cached: cached, in: db), in: db), arguments)
        case .sqliteReader(let reader):
            return try SQLiteSteps.rows(SQLiteSteps.Compiled(sql, on: reader), arguments)
        case .postgres(let session):
            try send(held: session)
            if !sql.hasPrefix("SELECT") { writesSent += 1 }
            return try session.run(sql, arguments.values, prepared: cached ? .rows : nil).rows
        }
    }

    func cursor(_ sql: String, _ arguments: SQLArguments, cached: Bool) throws -> SQLCursor {
        switch engine {
        case .sqlite(let db):
            return try SQLCursor(SQLiteSteps.Compiled(try Self.statement(sql, cached: cached, in: db), in: db), arguments)
        case .sqliteReader(let reader):
            return try SQLCursor(SQLiteSteps.Compiled(sql, on: reader), arguments)
        case .postgres(let session):
            try send(held: session)
            if !sql.hasPrefix("SELECT") { writesSent += 1 }
            return SQLCursor(try session.run(sql, arguments.values, prepared: cached ? .rows : nil).rows)
        }
    }

    /// SQLite: the statement the service runs again and again comes from GRDB's cache, compiled
    /// once per connection; one run once is compiled on the spot.
    private static func statement(_ sql: String, cached: Bool, in db: Database) throws -> GRDB.Statement {
        cached ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
    }

    /// Runs `body` in a savepoint: a failure undoes its changes alone and is rethrown.
    func inSavepoint(_ body: () throws -> Void) throws {
        if case .sqliteReader = engine { throw DatabaseError(resultCode: .SQLITE_READONLY, message: "a reader writes nothing") }
        try control("SAVEPOINT job")
        let heads = auditHeads
        do {
            try body()
            try control("RELEASE SAVEPOINT job")
        } catch {
            auditHeads = heads
            // What the rolled-back job read may include what it wrote (an endpoint it created).
            webhookEndpoints = [:]
            // A broken connection cannot roll back; the batch's commit will fail instead.
            try? control("ROLLBACK TO SAVEPOINT job")
            try? control("RELEASE SAVEPOINT job")
            throw error
        }
    }

    /// A transaction or savepoint statement. On SQLite it is compiled once (GRDB's own
    /// transactions and savepoints prepare theirs on every call) but run through GRDB, whose
    /// bookkeeping of transactions and commits (its observers among them) follows these.
    func control(_ sql: String) throws {
        switch engine {
        case .sqlite(let db): try db.cachedStatement(sql: sql).execute()
        case .sqliteReader(let reader): try SQLiteSteps.execute(SQLiteSteps.Compiled(sql, on: reader), [])
        case .postgres(let session):
            // A rollback drops what is held: it belonged to the work being undone.
            if sql.hasPrefix("ROLLBACK") { dropHeld() } else { try send(held: session) }
            _ = try session.run(sql, [])
        }
    }

    /// An insert whose answer nothing reads (a decision, an audit entry, an event, a kept
    /// answer). On PostgreSQL it is held, and what is held goes as one statement just before the
    /// next statement that could see it, or at the commit: one round trip where there were
    /// several (README "Running on PostgreSQL"). A read sees every insert before it; a refusal
    /// that rolls back drops them. SQLite runs it at once.
    /// `numbered`: the table numbers its rows from a sequence in the order they are inserted (the
    /// events), and the rows of one key (an account's events) must keep their order. The parts of
    /// one statement run in no set order, so a second insert of a key already held sends the
    /// first; rows of different accounts may share a statement (their order among themselves is
    /// the batch's, which is no order either).
    /// `keys`: what a read may look the row up by before it is sent (`heldRow(_:)`).
    func enqueue(cached sql: String, arguments: SQLArguments, numbered: String? = nil, keys: [String] = []) throws {
        guard case .postgres(let session) = engine else { return try execute(cached: sql, arguments: arguments) }
        if let numbered {
            if heldNumbered.contains(numbered) { try send(held: session) }
            heldNumbered.insert(numbered)
        }
        heldKeys.formUnion(keys)
        held.append((sql, arguments.values, numbered, keys))
    }

    /// Whether a held insert (of this transaction, not yet sent) is found by `key`: a read that
    /// could find it must send what is held first.
    func heldRow(_ key: String) -> Bool { heldKeys.contains(key) }

    /// A read of rows no held insert can write (the webhook endpoints: nothing held goes there; an
    /// account by a key no held insert has), so what is held stays held instead of costing a
    /// round trip now. In a batch this lets the held inserts of many writes go as one statement.
    /// `unless`: a held row's key (`heldRow(_:)`) that, held, the read could find; then what is
    /// held is sent first, as for any read.
    func rowsBesideHeld(_ sql: String, _ arguments: SQLArguments, unless key: String? = nil) throws -> [StoreRow] {
        guard case .postgres(let session) = engine, !(key.map(heldRow) ?? false) else {
            return try rows(sql, arguments, cached: true)
        }
        return try session.run(sql, arguments.values, prepared: .rows).rows
    }

    /// How many inserts are held: a job's mark, to drop its own (`dropHeld(from:)`).
    var heldCount: Int { held.count }

    /// Forgets what is held from `mark` on: the job that held it was refused before any of it
    /// was sent (what earlier jobs hold stays).
    func dropHeld(from mark: Int = 0) {
        guard mark < held.count else { return }
        held.removeSubrange(mark...)
        heldKeys = Set(held.flatMap(\.keys))
        heldNumbered = Set(held.compactMap(\.numbered))
    }

    /// Sends what is held, before the transaction commits.
    func flush() throws {
        if case .postgres(let session) = engine { try send(held: session) }
    }

    private func send(held session: PostgresSession) throws {
        guard !held.isEmpty else { return }
        let items = held
        dropHeld()
        writesSent += 1
        if items.count == 1 {
            _ = try session.run(items[0].sql, items[0].values, prepared: .of(items[0].sql, wantsRows: false))
            return
        }
        // Data-modifying WITH parts each run once, whether or not the query reads them; their
        // `?` placeholders are numbered in order, as the values are joined.
        var text = "WITH "
        for (index, item) in items.enumerated() { text += (index == 0 ? "" : ", ") + "held\(index) AS (\(item.sql))" }
        // A batch's many held rows make one-off texts, not worth a preparation each.
        _ = try session.run(text + " SELECT 1", items.flatMap(\.values), prepared: items.count <= 8 ? .rows : nil)
    }

    /// A text member of a JSON text column (`column` and `key` are the code's constants).
    func jsonText(_ column: String, _ key: String) -> String {
        switch dialect {
        case .sqlite: "json_extract(\(column), '$.\(key)')"
        case .postgres: "(\(column)::jsonb ->> '\(key)')"
        }
    }

    /// A JSON text column without one member.
    func jsonRemoving(_ column: String, _ key: String) -> String {
        switch dialect {
        case .sqlite: "json_remove(\(column), '$.\(key)')"
        case .postgres: "((\(column)::jsonb - '\(key)')::text)"
        }
    }

    /// Where `needle` (an SQL literal) starts in `haystack`, 0 when absent.
    func position(_ needle: String, in haystack: String) -> String {
        switch dialect {
        case .sqlite: "instr(\(haystack), \(needle))"
        case .postgres: "strpos(\(haystack), \(needle))"
        }
    }

    /// A table's columns in their order.
    func columnNames(_ table: String) throws -> [String] {
        let sql = switch dialect {
        case .sqlite: "SELECT name FROM pragma_table_info(?)"
        case .postgres: """
            SELECT column_name AS name FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position
            """
        }
        // PostgreSQL's instalments carry a `rowid` column standing in for SQLite's implicit one
        // (the order instalments were drawn in); it is not data.
        return try String.fetchAll(self, sql: sql, arguments: [table]).filter { $0 != "rowid" }
    }

    /// The names of the service's tables.
    func tableNames() throws -> [String] {
        let sql = switch dialect {
        case .sqlite: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        case .postgres:
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name"
        }
        return try String.fetchAll(self, sql: sql)
    }
}

/// Rows read one at a time: SQLite steps its statement; PostgreSQL has them all already.
final class SQLCursor {
    private let sqlite: SQLiteSteps.Compiled?
    private var rows: IndexingIterator<[StoreRow]>?
    private var done = false

    init(_ statement: SQLiteSteps.Compiled, _ arguments: SQLArguments) throws {
        try SQLiteSteps.bind(statement, arguments)
        sqlite = statement
        rows = nil
    }

    init(_ rows: [StoreRow]) {
        sqlite = nil
        self.rows = rows.makeIterator()
    }

    func next() throws -> StoreRow? {
        guard let sqlite else { return rows?.next() }
        guard !done else { return nil }
        let row = try SQLiteSteps.step(sqlite)
        done = row == nil
        return row
    }

    /// A cursor left before its last row leaves its statement reset, holding no read.
    deinit {
        if let sqlite, !done { sqlite3_reset(sqlite.raw) }
    }
}

// The read verbs the store uses, over either engine, in GRDB's spelling so that a query reads the
// same whichever engine runs it.

extension StoreRow {
    static func fetchOne(_ db: SQLConnection, cached sql: String, arguments: SQLArguments = []) throws -> StoreRow? {
        try db.rows(sql, arguments, cached: true).first
    }

    static func fetchOne(_ db: SQLConnection, sql: String, arguments: SQLArguments = []) throws -> StoreRow? {
        try db.rows(sql, arguments, cached: false).first
    }

    static func fetchAll(_ db: SQLConnection, cached sql: String, arguments: SQLArguments = []) throws -> [StoreRow] {
        try db.rows(sql, arguments, cached: true)
    }

    static func fetchAll(_ db: SQLConnection, sql: String, arguments: SQLArguments = []) throws -> [StoreRow] {
        try db.rows(sql, arguments, cached: false)
    }

    static func fetchCursor(_ db: SQLConnection, cached sql: String, arguments: SQLArguments = []) throws -> SQLCursor {
        try db.cursor(sql, arguments, cached: true)
    }

    static func fetchCursor(_ db: SQLConnection, sql: String, arguments: SQLArguments = []) throws -> SQLCursor {
        try db.cursor(sql, arguments, cached: false)
    }
}

extension DatabaseValueConvertible {
    static func fetchOne(_ db: SQLConnection, cached sql: String, arguments: SQLArguments = []) throws -> Self? {
        try db.rows(sql, arguments, cached: true).first.flatMap { try Self.first($0) }
    }

    static func fetchOne(_ db: SQLConnection, sql: String, arguments: SQLArguments = []) throws -> Self? {
        try db.rows(sql, arguments, cached: false).first.flatMap { try Self.first($0) }
    }

    static func fetchAll(_ db: SQLConnection, cached sql: String, arguments: SQLArguments = []) throws -> [Self] {
        try db.rows(sql, arguments, cached: true).compactMap { try Self.first($0) }
    }

    static func fetchAll(_ db: SQLConnection, sql: String, arguments: SQLArguments = []) throws -> [Self] {
        try db.rows(sql, arguments, cached: false).compactMap { try Self.first($0) }
    }

    /// The row's first column. NULL is nil unless `Self` is itself optional (then a nil member, as
    /// GRDB reads it); a value of another type is an error, not a guess.
    private static func first(_ row: StoreRow) throws -> Self? {
        guard let value = row.values.first else { throw StoreError.unreadableRow(table: "query", column: "0", id: "?") }
        if let converted = Self.fromDatabaseValue(value) { return converted }
        if value.isNull { return nil }
        throw StoreError.unreadableRow(table: "query", column: "0", id: "?")
    }
}

/// A closed set's value as an SQL string literal in a query's text, so that an action or a
/// status is named by its enum there too (README "Development", typed seams). Its raw values are
/// the code's constants; a quote is doubled all the same.
func sqlText<Value: RawRepresentable>(_ value: Value) -> String where Value.RawValue == String {
    "'" + value.rawValue.replacingOccurrences(of: "'", with: "''") + "'"
}
