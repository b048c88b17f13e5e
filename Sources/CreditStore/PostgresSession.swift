import CreditLine
import Foundation
import GRDB
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// A connection as the engine keeps it: the statements prepared on it so far, which live as
/// long as the connection (README "Running on PostgreSQL", "Prepared statements").
final class PostgresLink: @unchecked Sendable {
    // Unchecked: a link is used by one session at a time, handed over through the engine's lock.
    let connection: PostgresConnection
    let executor: EventLoopTaskExecutor
    /// Names of the statements this connection has prepared and run without an error.
    var prepared: Set<Int> = []
    /// A prepared statement failed on it: the connection is closed rather than kept, since
    /// postgres-nio remembers a failed preparation for the connection's life.
    var spoiled = false

    init(_ connection: PostgresConnection) {
        self.connection = connection
        self.executor = EventLoopTaskExecutor(connection.eventLoop)
    }
}

/// Runs a task's jobs on a connection's event loop, so that the wait on a prepared statement
/// costs the same thread hops as a plain query's future (no cooperative thread in between).
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// Any of the store's statements as postgres-nio's prepared statement, whose text and name are
/// read from the type: the task that runs it binds them for its run.
struct StoreStatement: PostgresPreparedStatement {
    struct Text: Sendable {
        var name = ""
        var sql = ""
        var types: [PostgresDataType] = []
    }

    @TaskLocal static var text = Text()
    static var name: String { text.name }
    static var sql: String { text.sql }
    static var bindingDataTypes: [PostgresDataType] { text.types }

    typealias Row = PostgresRow
    var bindings: PostgresBindings
    func makeBindings() -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
}

/// The names under which statements are prepared: one per statement text and parameter types
/// (a NULL leaves its parameter's type to the server, a value fixes it, so each pattern is its
/// own statement), numbered in the order first seen. A number is never reused, so two texts
/// never share a name; past `limit` texts the rest run unprepared.
enum PreparedNames {
    struct Key: Hashable {
        var sql: String
        var types: [UInt32]
    }

    static let limit = 2048
    private static let names = Mutex<[Key: Int]>([:])

    static func number(_ sql: String, _ types: [PostgresDataType]) -> Int? {
        let key = Key(sql: sql, types: types.map(\.rawValue))
        return names.withLock { names in
            if let known = names[key] { return known }
            guard names.count < limit else { return nil }
            names[key] = names.count + 1
            return names.count
        }
    }
}

/// One PostgreSQL connection, driven synchronously: the store's rules run inside a transaction as
/// plain functions (docs/architecture.md, "Two engines, one executor"), so each statement waits on
/// its NIO future. Never called on an event loop thread.
final class PostgresSession {
    let link: PostgresLink
    var connection: PostgresConnection { link.connection }
    let logger: Logger

    /// Statements sent, each a round trip: postgres-nio sends one query at a time on a
    /// connection, so these are the write path's cost on PostgreSQL (README "Running on PostgreSQL").
    private(set) var roundTrips = 0
    /// Of those, the statements' preparations: once per statement and connection.
    private(set) var preparations = 0

    /// What the caller of a statement the service runs again and again reads of it, so that it
    /// can be prepared: its rows (and their count as the changes), or only how many rows it
    /// changed (an INSERT, UPDATE or DELETE without RETURNING). postgres-nio's prepared
    /// statements answer rows but no command tag (and stop the process when asked for the tag of
    /// a statement without rows), so such a statement is prepared with `RETURNING 1` and its
    /// rows counted.
    enum Reading {
        case rows
        case changes

        static func of(_ sql: String, wantsRows: Bool) -> Reading? {
            if wantsRows { return .rows }
            let verb = sql.prefix(7)
            guard verb.hasPrefix("INSERT ") || verb.hasPrefix("UPDATE ") || verb.hasPrefix("DELETE ") else { return nil }
            return sql.contains("RETURNING") ? nil : .changes
        }
    }

    init(_ link: PostgresLink, logger: Logger) {
        self.link = link
        self.logger = logger
    }

    /// Most statements a connection keeps prepared.
    static let preparedPerConnection = 512

    func run(_ sql: String, _ values: [DatabaseValue], prepared reading: Reading? = nil) throws -> (rows: [StoreRow], changes: Int) {
        roundTrips += 1
        var binds = PostgresBindings(capacity: values.count)
        var types: [PostgresDataType] = []
        if reading != nil { types.reserveCapacity(values.count) }
        for value in values {
            switch value.storage {
            case .null: binds.appendNull()
            case .int64(let number): binds.append(number)
            case .double(let number): binds.append(number)
            case .string(let text): binds.append(text)
            case .blob(let data): binds.append(ByteBuffer(bytes: data))
            }
            if reading != nil { types.append(Self.type(of: value)) }
        }
        let text = PostgresSQL.text(sql)
        do {
            // The text prepared names the statement, so one run for its changes (with its
            // RETURNING) and the same run for its rows are two statements.
            if let reading, case let prepared = reading == .changes ? text + " RETURNING 1" : text,
               let number = PreparedNames.number(prepared, types),
               link.prepared.contains(number) || link.prepared.count < Self.preparedPerConnection
            {
                return try runPrepared(StoreStatement.Text(name: "creditline_\(number)", sql: prepared, types: types),
                                       number: number, binds: binds, reading: reading)
            }
            let query = PostgresQuery(unsafeSQL: text, binds: binds)
            let result = try Self.wait(for: connection.query(query, logger: logger), on: connection)
            return (try Self.storeRows(result.rows), result.metadata.rows ?? 0)
        } catch var error as PostgresServerError {
            // The statement's text is the code's constant (values are bound), so it may be named.
            error.statement = String(sql.prefix(120))
            throw error
        }
    }

    /// A prepared statement: parsed and planned by the server once per connection (the first run
    /// costs one round trip more), then only bound and executed.
    private func runPrepared(_ text: StoreStatement.Text, number: Int, binds: PostgresBindings,
                             reading: Reading) throws -> (rows: [StoreRow], changes: Int)
    {
        // postgres-nio prepares a statement new to the connection in a round trip of its own.
        if !link.prepared.contains(number) {
            roundTrips += 1
            preparations += 1
        }
        let promise = connection.eventLoop.makePromise(of: [PostgresRow].self)
        let connection = self.connection
        let logger = self.logger
        Task(executorPreference: link.executor) {
            do {
                try await StoreStatement.$text.withValue(text) {
                    var rows: [PostgresRow] = []
                    let answer = try await connection.execute(StoreStatement(bindings: binds), logger: logger)
                    for try await row in answer { rows.append(row) }
                    promise.succeed(rows)
                }
            } catch {
                promise.fail(error)
            }
        }
        let rows: [PostgresRow]
        do {
            rows = try Self.wait(for: promise.futureResult, on: connection)
        } catch {
            if !link.prepared.contains(number) { link.spoiled = true }
            throw error
        }
        link.prepared.insert(number)
        // A statement run for its changes answers a row per row changed and nothing else.
        if reading == .changes { return ([], rows.count) }
        return (try Self.storeRows(rows), rows.count)
    }

    private static func storeRows(_ rows: [PostgresRow]) throws -> [StoreRow] {
        var columns: [String]?
        return try rows.map { row in
            // The names once per result; every row shares them.
            if columns == nil { columns = row.map(\.columnName) }
            return StoreRow(columns: columns ?? [], values: try values(row))
        }
    }

    /// The type a value is bound as, as `run` binds it; a NULL's is left to the server.
    private static func type(of value: DatabaseValue) -> PostgresDataType {
        switch value.storage {
        case .null: .null
        case .int64: .int8
        case .double: .float8
        case .string: .text
        case .blob: .bytea
        }
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
