import CreditLine
import Foundation
import GRDB
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// What a PostgreSQL error means for the store.
enum PostgresFailure {
    /// A lost connection, a server shutting down or a server that is now a standby: the store
    /// cannot write here and drops the connection; the caller gets a 503 to retry.
    static func classify(_ error: any Error) -> any Error {
        guard let error = error as? PSQLError else {
            return isConnectionLevel(error) ? StoreError.storageUnavailable(.unreachable) : error
        }
        if error.code != .server { return StoreError.storageUnavailable(.unreachable) }
        let state = error.serverInfo?[.sqlState] ?? ""
        switch state {
        // read_only_sql_transaction, admin/crash shutdown, cannot connect now, in recovery
        case "25006", "57P01", "57P02", "57P03", "57P04": return StoreError.storageUnavailable(.unreachable)
        // serialization failure, deadlock: the client may retry
        case "40001", "40P01": return StoreError.storageUnavailable(.locked)
        case "53100": return StoreError.storageUnavailable(.diskFull)
        default: return PostgresServerError(state: state, message: error.serverInfo?[.message] ?? "\(error)")
        }
    }

    static func isConnectionLevel(_ error: any Error) -> Bool {
        error is ChannelError || error is IOError || error is NIOConnectionError
    }
}

/// A statement PostgreSQL refused (a constraint, a trigger): the message is the database's.
public struct PostgresServerError: Error, Sendable, CustomStringConvertible {
    public var state: String
    public var message: String
    public var statement = ""
    public var description: String { "PostgreSQL \(state): \(message)" + (statement.isEmpty ? "" : " in: \(statement)") }
}

/// Connections to the current primary, kept for reuse. Every transaction takes one, so a read and
/// the group commit's writer never wait for each other; a connection that fails is closed with
/// every idle one (after a failover they all point at a server that is gone), and the next
/// transaction looks for the primary again.
public final class PostgresEngine: Sendable {
    let location: PostgresLocation
    private let logger: Logger
    private let idle = Mutex<[PostgresLink]>([])
    private let nextID = Atomic<Int>(1)
    /// The host that answered as primary last, tried first.
    private let primary = Atomic<Int>(0)
    private static let keepIdle = 16
    /// The audit chain's head lock (docs/architecture.md): one number every instance agrees on.
    static let chainLockKey = 7_242_019

    /// `sslmode` and `sslrootcert`, made into a context once (README "TLS to the database").
    private let tls: PostgresConnection.Configuration.TLS

    init(location: PostgresLocation, logger: Logger = Logger(label: "creditline.postgres")) throws {
        self.location = location
        var logger = logger
        logger.logLevel = .warning
        self.logger = logger
        tls = try PostgresTLS.configuration(for: location)
    }

    /// Connects once, at open: a TLS refusal stops the start in words naming the setting
    /// (`StoreError.databaseTLS`), where later it is a 503 and a log line like any lost primary.
    func checkConnection() throws {
        release(try connect(namingTLS: true))
    }

    private func connect(namingTLS: Bool = false) throws -> PostgresLink {
        var lastError: any Error = StoreError.storageUnavailable(.unreachable)
        var refusedTLS: String?
        let first = primary.load(ordering: .relaxed)
        let order = location.hosts.indices.map { ($0 + first) % location.hosts.count }
        for index in order {
            let host = location.hosts[index]
            var configuration = PostgresConnection.Configuration(
                host: host.name, port: host.port, username: location.user, password: location.password,
                database: location.database, tls: tls)
            configuration.options.connectTimeout = .seconds(2)
            let connection: PostgresConnection
            do {
                connection = try PostgresConnection.connect(
                    on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration,
                    id: nextID.wrappingAdd(1, ordering: .relaxed).oldValue, logger: logger
                ).wait()
            } catch {
                lastError = error
                if let words = PostgresTLS.refusal(error, host: host, location: location) { refusedTLS = words }
                continue
            }
            // Every connection not handed on is closed, the one whose question failed too: a
            // connection released open leaks its socket (and postgres-nio stops a debug build).
            do {
                let link = PostgresLink(connection)
                let session = PostgresSession(link, logger: logger)
                let recovering: Int? = try Int.fetchOne(SQLConnection(session), sql: "SELECT pg_is_in_recovery()")
                if recovering == 0 {
                    primary.store(index, ordering: .relaxed)
                    return link
                }
            } catch {
                lastError = error
            }
            try? connection.close().wait()
        }
        if let refusedTLS {
            if namingTLS { throw StoreError.databaseTLS(refusedTLS) }
            logger.error("no primary: \(refusedTLS)")
        }
        throw PostgresFailure.classify(lastError)
    }

    /// Threads of its own for the waits on PostgreSQL: a request's read blocks its thread for a
    /// round trip, and Swift's cooperative threads (one per core) must never be the ones blocked,
    /// or every other task of the process waits with them (docs/architecture.md).
    private static let blocking = DispatchQueue(label: "creditline.postgres", attributes: .concurrent)

    func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Self.blocking.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Runs `body` with a connection of its own, returned for reuse unless it failed.
    func withSession<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        var reused: PostgresLink?
        while let candidate = idle.withLock({ $0.popLast() }) {
            if !candidate.connection.isClosed {
                reused = candidate
                break
            }
            let _: EventLoopFuture<Void> = candidate.connection.close()
        }
        let link = try reused ?? connect()
        let session = PostgresSession(link, logger: logger)
        do {
            let value = try body(session)
            release(link)
            return value
        } catch {
            if case StoreError.storageUnavailable(.unreachable) = error {
                try? link.connection.close().wait()
                close()
            } else {
                release(link)
            }
            throw error
        }
    }

    private func release(_ link: PostgresLink) {
        if link.connection.isClosed { return }
        let kept = !link.spoiled && idle.withLock { idle -> Bool in
            guard idle.count < Self.keepIdle else { return false }
            idle.append(link)
            return true
        }
        if !kept { try? link.connection.close().wait() }
    }

    /// A write transaction of no one chain: the write lock, exclusive (`write(scope:_:)`).
    func write<T>(_ body: (SQLConnection) throws -> T) throws -> T {
        try write(scope: .installation, body)
    }

    /// A write transaction. It takes its locks first (docs/architecture.md, "Chains and their
    /// locks"): writes of one account's chain take the write lock shared and that chain's lock,
    /// so writes to different chains, of this instance or another, run side by side, while
    /// writes to one chain are serialised as SQLite's single writer serialises them, and a rule's
    /// check sees every write of its account committed before it. A write of no one account
    /// takes the write lock exclusive, which waits for every other write and holds them off. The
    /// heads of the chains locked come with the locks in one round trip (migration 0032) and are
    /// handed to the chains' appends (`SQLConnection.auditHeads`).
    func write<T>(scope: WriteScope, _ body: (SQLConnection) throws -> T) throws -> T {
        let chains = scope.chains.map(String.init).joined(separator: ",")
        return try transaction(
            "BEGIN", first: "SELECT chain, seq, hash, account_chains FROM creditline_lock_chains(\(Self.chainLockKey), '\(chains)', \(scope.exclusive))",
            counted: true
        ) { db, rows in
            var heads: [Int: AuditHead] = [:]
            for row in rows {
                heads[try row["chain"]] = AuditHead(seq: try row["seq"], hash: try row["hash"])
                db.accountChainCount = try row["account_chains"]
            }
            db.auditHeads = heads
            db.allChainsLocked = scope.exclusive
            return try body(db)
        }
    }

    /// The same lock without the head, for the migrations, which run before the function exists.
    func writeWithoutHead<T>(_ body: (SQLConnection) throws -> T) throws -> T {
        try transaction("BEGIN", first: "SELECT pg_advisory_xact_lock(\(Self.chainLockKey))", counted: true) { db, _ in
            try body(db)
        }
    }

    /// Round trips made by write transactions, BEGIN to COMMIT, since the engine opened: what a
    /// test reads to hold the write path to its count (README "Running on PostgreSQL").
    let writeRoundTrips = Atomic<Int>(0)
    /// Of those, the statements' preparations, which a connection makes once per statement.
    let writePreparations = Atomic<Int>(0)

    /// A read transaction: one snapshot for all its statements.
    func read<T>(_ body: (SQLConnection) throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", first: nil) { db, _ in try body(db) }
    }

    /// `body` is given the rows of `first`, the transaction's first statement after BEGIN.
    private func transaction<T>(_ begin: String, first: String?, counted: Bool = false,
                                _ body: (SQLConnection, [StoreRow]) throws -> T) throws -> T
    {
        try withSession { session in
            let before = (session.roundTrips, session.preparations)
            defer {
                if counted {
                    writeRoundTrips.wrappingAdd(session.roundTrips - before.0, ordering: .relaxed)
                    writePreparations.wrappingAdd(session.preparations - before.1, ordering: .relaxed)
                }
            }
            _ = try session.run(begin, [])
            do {
                let rows = try first.map { try session.run($0, []).rows } ?? []
                let connection = SQLConnection(session)
                let value = try body(connection, rows)
                try connection.flush()
                _ = try session.run("COMMIT", [])
                return value
            } catch {
                // A connection that is gone has nothing to roll back (the server did it).
                if !session.connection.isClosed { _ = try? session.run("ROLLBACK", []) }
                throw error
            }
        }
    }

    /// Creates an empty database beside the one `location` names (its server and user): a test's
    /// or a benchmark's own, so that runs never share rows. The name is the caller's constant
    /// plus a random suffix, checked to be an identifier.
    public static func createDatabase(named name: String, at location: PostgresLocation) throws {
        guard isIdentifier(name) else {
            throw PostgresServerError(state: "42602", message: "not a database name: \(name)")
        }
        let engine = try PostgresEngine(location: location)
        defer { engine.close() }
        try engine.withSession { session in _ = try session.run("CREATE DATABASE \(name)", []) }
    }

    public static func dropDatabase(named name: String, at location: PostgresLocation) {
        guard isIdentifier(name) else { return }
        guard let engine = try? PostgresEngine(location: location) else { return }
        defer { engine.close() }
        _ = try? engine.withSession { session in _ = try session.run("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", []) }
    }

    /// A name that may be spliced into CREATE or DROP DATABASE as it is.
    private static func isIdentifier(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }
    }

    /// PostgresNIO requires every connection closed before it goes.
    deinit { close() }

    /// Closes every idle connection (at the end, and after a failure: they point where that one did).
    func close() {
        let all = idle.withLock { idle in defer { idle.removeAll() }; return idle }
        for link in all { try? link.connection.close().wait() }
    }
}
