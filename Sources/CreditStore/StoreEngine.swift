import Foundation
import GRDB

/// The engine behind a store: SQLite through GRDB, or PostgreSQL through postgres-nio. Both give
/// the store an `SQLConnection` inside a transaction; everything above is the same
/// (docs/architecture.md, "Two engines, one executor").
enum StoreEngine: Sendable {
    case sqlite(any DatabaseWriter)
    case postgres(PostgresEngine)

    /// GRDB's writer, for what only SQLite has (tests of its file, pragmas, observers).
    var sqliteWriter: (any DatabaseWriter)? {
        if case .sqlite(let writer) = self { return writer }
        return nil
    }

    /// A read transaction on the calling thread.
    func read<T>(_ body: (SQLConnection) throws -> T) throws -> T {
        switch self {
        case .sqlite(let writer): try writer.read { db in try body(SQLConnection(db)) }
        case .postgres(let engine): try engine.read(body)
        }
    }

    /// A write transaction on the calling thread (the group commit's queue, a command-line tool).
    func write<T>(_ body: (SQLConnection) throws -> T) throws -> T {
        try write(scope: .installation, body)
    }

    /// A write transaction that locks `scope` on PostgreSQL; SQLite's one writer needs no more.
    func write<T>(scope: WriteScope, _ body: (SQLConnection) throws -> T) throws -> T {
        switch self {
        case .sqlite(let writer): try writer.writeWithoutTransaction { db in try Self.immediateTransaction(db, body) }
        case .postgres(let engine): try engine.write(scope: scope, body)
        }
    }

    /// Whether a savepoint costs a round trip (PostgreSQL), so that a batch is first tried
    /// without one a write (`GroupCommit`).
    var savepointsCostRoundTrips: Bool {
        if case .postgres = self { true } else { false }
    }

    /// GRDB's `write` with BEGIN IMMEDIATE and COMMIT compiled once, not on every transaction.
    private static func immediateTransaction<T>(_ db: Database, _ body: (SQLConnection) throws -> T) throws -> T {
        let connection = SQLConnection(db)
        try connection.control("BEGIN IMMEDIATE")
        do {
            let value = try body(connection)
            try connection.control("COMMIT")
            return value
        } catch {
            // A failed COMMIT (a full disk) leaves the transaction open: it is rolled back too.
            if db.isInsideTransaction { try? connection.control("ROLLBACK") }
            throw error
        }
    }

    /// Runs a task's blocking database work where it belongs: SQLite's reads on the calling
    /// thread (a few indexed rows, docs/architecture.md "Reads"), PostgreSQL's on the engine's
    /// own threads, never a cooperative one.
    func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        switch self {
        case .sqlite: try work()
        case .postgres(let engine): try await engine.offload(work)
        }
    }

    /// A write transaction from a task: SQLite's writer queue is awaited, not blocked on.
    func writeAsync<T: Sendable>(_ body: @escaping @Sendable (SQLConnection) throws -> T) async throws -> T {
        switch self {
        case .sqlite(let writer): try await writer.write { db in try body(SQLConnection(db)) }
        case .postgres(let engine): try await engine.offload { try engine.write(body) }
        }
    }

    /// One statement's read: SQLite gives every statement its own snapshot, so no transaction.
    func readStatement<T>(_ body: (SQLConnection) throws -> T) throws -> T {
        switch self {
        case .sqlite(let writer): try writer.unsafeReentrantRead { db in try body(SQLConnection(db)) }
        case .postgres(let engine): try engine.withSession { try body(SQLConnection($0)) }
        }
    }
}

/// `database_url`: `sqlite:PATH`, a bare path (SQLite, as before the setting existed), or
/// `postgres://…`.
public enum DatabaseURL: Equatable, Sendable {
    case sqlite(String)
    case postgres(PostgresLocation)

    public struct Invalid: Error, CustomStringConvertible {
        /// What is wrong with a postgres:// URL, when that is known.
        var reason: String?

        public var description: String {
            "database_url must be sqlite:PATH or postgres://user@host[:port][,host[:port]…]/database"
                + "[?sslmode=…&sslrootcert=…]" + (reason.map { ": \($0)" } ?? "")
        }
    }

    public init(_ text: String) throws {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            do {
                self = .postgres(try PostgresLocation(parsing: text))
            } catch {
                throw Invalid(reason: error.reason)
            }
        } else if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw Invalid() }
            self = .sqlite(path)
        } else if text.contains("://") || text.isEmpty {
            throw Invalid()
        } else {
            self = .sqlite(text)
        }
    }
}

/// What a write transaction locks on PostgreSQL (docs/architecture.md, "Chains and their locks"):
/// the chains its writes belong to, or, for a write of no one account, everything.
struct WriteScope: Sendable, Equatable {
    var chains: [Int]
    var exclusive: Bool

    static let installation = WriteScope(chains: [], exclusive: true)

    static func chain(_ chain: Int) -> WriteScope { WriteScope(chains: [chain], exclusive: false) }

    /// A job reached chains its transaction did not lock, and another transaction holds one:
    /// waiting for it there, out of order, could deadlock, so the batch runs again with them
    /// locked first, in order (`GroupCommit`).
    struct ChainsNeeded: Error {
        var chains: [Int]
    }

    /// A batch's: every chain of its jobs, in order; exclusive if any job's is.
    static func union(_ scopes: [WriteScope]) -> WriteScope {
        if scopes.contains(where: \.exclusive) || scopes.isEmpty { return .installation }
        return WriteScope(chains: Set(scopes.flatMap(\.chains)).sorted(), exclusive: false)
    }
}
