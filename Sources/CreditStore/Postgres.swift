import CreditLine
import Foundation
import GRDB
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// Where a PostgreSQL store lives: `postgres://user[:password]@host[:port][,host[:port]…]/database`.
/// Several hosts are a primary and its standbys in any order: the store writes to the one that is
/// not in recovery, and looks again when a connection fails (README "Running on PostgreSQL").
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public struct Host: Sendable, Equatable {
        public var name: String
        public var port: Int
    }

    public var hosts: [Host]
    public var user: String
    public var password: String?
    public var database: String

    public init?(url: String) {
        guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else { return nil }
        var rest = Substring(url.drop(while: { $0 != "/" }).dropFirst(2))
        if let query = rest.firstIndex(of: "?") { rest = rest[..<query] }
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        let database = String(rest[rest.index(after: slash)...])
        var authority = rest[..<slash]
        var user = "postgres"
        var password: String?
        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            authority = authority[authority.index(after: at)...]
            let parts = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            user = parts[0].removingPercentEncoding ?? String(parts[0])
            if parts.count == 2 { password = parts[1].removingPercentEncoding ?? String(parts[1]) }
        }
        var hosts: [Host] = []
        for part in authority.split(separator: ",") {
            let pieces = part.split(separator: ":", maxSplits: 1)
            guard let name = pieces.first, !name.isEmpty else { return nil }
            let port = pieces.count == 2 ? Int(pieces[1]) : 5432
            guard let port, (1...65535).contains(port) else { return nil }
            hosts.append(Host(name: String(name), port: port))
        }
        guard !hosts.isEmpty, !database.isEmpty, !user.isEmpty else { return nil }
        self.hosts = hosts
        self.user = user
        self.password = password
        self.database = database
    }

    /// The URL, password included: for configuration, never for logs.
    public var url: String {
        let secret = password.map { ":" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) } ?? ""
        return "postgres://\(user)\(secret)@" + hosts.map { "\($0.name):\($0.port)" }.joined(separator: ",") + "/\(database)"
    }

    /// The URL without its password, for logs.
    public var description: String {
        "postgres://\(user)@" + hosts.map { "\($0.name):\($0.port)" }.joined(separator: ",") + "/\(database)"
    }

    /// The same server, another database (tests make one per service).
    public func with(database: String) -> PostgresLocation {
        var copy = self
        copy.database = database
        return copy
    }
}

/// One PostgreSQL connection, driven synchronously: the store's rules run inside a transaction as
/// plain functions (docs/architecture.md, "Two engines, one executor"), so each statement waits on
/// its NIO future. Never called on an event loop thread.
final class PostgresSession {
    let connection: PostgresConnection
    let logger: Logger

    /// Statements sent, each a round trip: postgres-nio sends one query at a time on a
    /// connection, so these are the write path's cost on PostgreSQL (README "Running on PostgreSQL").
    private(set) var roundTrips = 0

    init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    func run(_ sql: String, _ values: [DatabaseValue]) throws -> (rows: [StoreRow], changes: Int) {
        roundTrips += 1
        var binds = PostgresBindings(capacity: values.count)
        for value in values {
            switch value.storage {
            case .null: binds.appendNull()
            case .int64(let number): binds.append(number)
            case .double(let number): binds.append(number)
            case .string(let text): binds.append(text)
            case .blob(let data): binds.append(ByteBuffer(bytes: data))
            }
        }
        let query = PostgresQuery(unsafeSQL: PostgresSQL.text(sql), binds: binds)
        let result: PostgresQueryResult
        do {
            result = try Self.wait(for: connection.query(query, logger: logger), on: connection)
        } catch var error as PostgresServerError {
            // The statement's text is the code's constant (values are bound), so it may be named.
            error.statement = String(sql.prefix(120))
            throw error
        }
        var columns: [String]?
        let rows = try result.rows.map { row in
            // The names once per result; every row shares them.
            if columns == nil { columns = row.map(\.columnName) }
            return StoreRow(columns: columns ?? [], values: try Self.values(row))
        }
        return (rows, result.metadata.rows ?? 0)
    }

    /// The longest one statement may take before its connection is given up.
    static let statementDeadline: Duration = .seconds(30)

    /// Waits for `future` on this (non event loop) thread. A statement in flight when its server
    /// dies (the primary killed mid-failover) may never be answered even though the connection
    /// has closed, so the wait looks at the connection every 50 ms and gives up as soon as it is
    /// closed, or at `statementDeadline`; either way the store reports the server unreachable.
    static func wait<Value: Sendable>(for future: EventLoopFuture<Value>, on connection: PostgresConnection) throws -> Value {
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<Value, any Error>?>(nil)
        future.whenComplete { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        let deadline = ContinuousClock.now + statementDeadline
        while done.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
            if connection.isClosed || ContinuousClock.now > deadline {
                // Once more: the answer may have come with the close.
                if done.wait(timeout: .now() + .milliseconds(50)) == .success { break }
                let _: EventLoopFuture<Void> = connection.close()
                throw StoreError.storageUnavailable(.unreachable)
            }
        }
        do {
            return try outcome.withLock({ $0 })!.get()
        } catch {
            throw PostgresFailure.classify(error)
        }
    }

    /// Several statements (a migration file), one at a time: postgres-nio speaks only the
    /// extended protocol, which takes one statement per message.
    func runScript(_ sql: String) throws {
        for statement in PostgresSQL.statements(sql) { _ = try run(statement, []) }
    }

    /// A PostgreSQL row's values in column order, typed as SQLite types them: integers, booleans
    /// and integral numerics as integers (SQLite's affinity, so the typed reads are the same on
    /// both engines), bytes as data, everything else as text.
    private static func values(_ row: PostgresRow) throws -> [DatabaseValue] {
        var values: [DatabaseValue] = []
        for cell in row {
            guard cell.bytes != nil else {
                values.append(.null)
                continue
            }
            let value: DatabaseValue
            switch cell.dataType {
            case .int2, .int4, .int8: value = try cell.decode(Int64.self).databaseValue
            case .bool: value = (try cell.decode(Bool.self) ? 1 : 0).databaseValue
            case .float4, .float8: value = try cell.decode(Double.self).databaseValue
            case .numeric:
                let decimal = try cell.decode(Decimal.self)
                var rounded = Decimal()
                var copy = decimal
                NSDecimalRound(&rounded, &copy, 0, .plain)
                value = rounded == decimal ? Int64(truncating: NSDecimalNumber(decimal: decimal)).databaseValue
                    : NSDecimalNumber(decimal: decimal).doubleValue.databaseValue
            case .bytea:
                let buffer = try cell.decode(ByteBuffer.self)
                value = Data(buffer.readableBytesView).databaseValue
            default: value = try cell.decode(String.self).databaseValue
            }
            values.append(value)
        }
        return values
    }
}

/// The store's SQL in PostgreSQL's spelling: `?` and `?N` placeholders become `$N`. Everything
/// else is written once for both engines, or chosen by `SQLConnection.dialect` where they differ.
enum PostgresSQL {
    private static let cache = Mutex<[String: String]>([:])

    static func text(_ sql: String) -> String {
        if let known = cache.withLock({ $0[sql] }) { return known }
        let translated = translate(sql)
        cache.withLock { if $0.count < 4096 { $0[sql] = translated } }
        return translated
    }

    /// A script's statements: split at semicolons outside quotes, comments and dollar-quoted
    /// bodies (a trigger function's `$$ … $$`).
    static func statements(_ script: String) -> [String] {
        var statements: [String] = []
        var current = ""
        let characters = Array(script)
        var index = 0
        var dollar = false
        var quoted = false
        while index < characters.count {
            let character = characters[index]
            let next = index + 1 < characters.count ? characters[index + 1] : nil
            if !quoted, !dollar, character == "-", next == "-" {
                while index < characters.count, characters[index] != "\n" { index += 1 }
                continue
            }
            if !quoted, character == "$", next == "$" {
                dollar.toggle()
                current += "$$"
                index += 2
                continue
            }
            if !dollar, character == "'" { quoted.toggle() }
            if !quoted, !dollar, character == ";" {
                let statement = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !statement.isEmpty { statements.append(statement) }
                current = ""
            } else {
                current.append(character)
            }
            index += 1
        }
        let last = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !last.isEmpty { statements.append(last) }
        return statements
    }

    static func translate(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var next = 1
        var quoted = false
        var characters = sql.makeIterator()
        var pending: Character? = nil
        while let character = pending ?? characters.next() {
            pending = nil
            if character == "'" { quoted.toggle() }
            guard character == "?", !quoted else {
                out.append(character)
                continue
            }
            var digits = ""
            while let following = characters.next() {
                if following.isASCII, following.isNumber {
                    digits.append(following)
                } else {
                    pending = following
                    break
                }
            }
            if digits.isEmpty {
                out += "$\(next)"
                next += 1
            } else {
                out += "$" + digits
            }
        }
        return out
    }
}

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
    private let idle = Mutex<[PostgresConnection]>([])
    private let nextID = Atomic<Int>(1)
    /// The host that answered as primary last, tried first.
    private let primary = Atomic<Int>(0)
    private static let keepIdle = 16
    /// The audit chain's head lock (docs/architecture.md): one number every instance agrees on.
    static let chainLockKey = 7_242_019

    init(location: PostgresLocation, logger: Logger = Logger(label: "creditline.postgres")) {
        self.location = location
        var logger = logger
        logger.logLevel = .warning
        self.logger = logger
    }

    private func connect() throws -> PostgresConnection {
        var lastError: any Error = StoreError.storageUnavailable(.unreachable)
        let first = primary.load(ordering: .relaxed)
        let order = location.hosts.indices.map { ($0 + first) % location.hosts.count }
        for index in order {
            let host = location.hosts[index]
            var configuration = PostgresConnection.Configuration(
                host: host.name, port: host.port, username: location.user, password: location.password,
                database: location.database, tls: .disable)
            configuration.options.connectTimeout = .seconds(2)
            let connection: PostgresConnection
            do {
                connection = try PostgresConnection.connect(
                    on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration,
                    id: nextID.wrappingAdd(1, ordering: .relaxed).oldValue, logger: logger
                ).wait()
            } catch {
                lastError = error
                continue
            }
            // Every connection not handed on is closed, the one whose question failed too: a
            // connection released open leaks its socket (and postgres-nio stops a debug build).
            do {
                let session = PostgresSession(connection, logger: logger)
                let recovering: Int? = try Int.fetchOne(SQLConnection(session), sql: "SELECT pg_is_in_recovery()")
                if recovering == 0 {
                    primary.store(index, ordering: .relaxed)
                    return connection
                }
            } catch {
                lastError = error
            }
            try? connection.close().wait()
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
        var reused: PostgresConnection?
        while let candidate = idle.withLock({ $0.popLast() }) {
            if !candidate.isClosed {
                reused = candidate
                break
            }
            let _: EventLoopFuture<Void> = candidate.close()
        }
        let connection = try reused ?? connect()
        let session = PostgresSession(connection, logger: logger)
        do {
            let value = try body(session)
            release(connection)
            return value
        } catch {
            if case StoreError.storageUnavailable(.unreachable) = error {
                try? connection.close().wait()
                close()
            } else {
                release(connection)
            }
            throw error
        }
    }

    private func release(_ connection: PostgresConnection) {
        if connection.isClosed { return }
        let kept = idle.withLock { idle -> Bool in
            guard idle.count < Self.keepIdle else { return false }
            idle.append(connection)
            return true
        }
        if !kept { try? connection.close().wait() }
    }

    /// A write transaction. It takes the chain's head lock first: every write of every instance
    /// appends to the one audit chain, so they are serialised as SQLite's single writer
    /// serialises them, and a rule's check sees every write committed before it. The chain's head
    /// comes with the lock in one round trip (migration 0029) and is handed to the audit chain's
    /// appends (`SQLConnection.auditHead`).
    func write<T>(_ body: (SQLConnection) throws -> T) throws -> T {
        try transaction("BEGIN", first: "SELECT seq, hash FROM creditline_locked_chain_head(\(Self.chainLockKey))",
                        counted: true) { db, head in
            let found = try head.first.map { AuditHead(seq: try $0["seq"], hash: try $0["hash"]) }
            db.auditHead = found ?? AuditHead(seq: 0, hash: AuditChain.genesisHash)
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

    /// A read transaction: one snapshot for all its statements.
    func read<T>(_ body: (SQLConnection) throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", first: nil) { db, _ in try body(db) }
    }

    /// `body` is given the rows of `first`, the transaction's first statement after BEGIN.
    private func transaction<T>(_ begin: String, first: String?, counted: Bool = false,
                                _ body: (SQLConnection, [StoreRow]) throws -> T) throws -> T
    {
        try withSession { session in
            let before = session.roundTrips
            defer { if counted { writeRoundTrips.wrappingAdd(session.roundTrips - before, ordering: .relaxed) } }
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
        let engine = PostgresEngine(location: location)
        defer { engine.close() }
        try engine.withSession { session in _ = try session.run("CREATE DATABASE \(name)", []) }
    }

    public static func dropDatabase(named name: String, at location: PostgresLocation) {
        guard isIdentifier(name) else { return }
        let engine = PostgresEngine(location: location)
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
        for connection in all { try? connection.close().wait() }
    }
}
