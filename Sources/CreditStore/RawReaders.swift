import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// Read-only SQLite connections of the store's own, for one-statement reads on the hot path
/// (README "Performance"): a request's key, its subject's tenant and its row. GRDB's reader pool
/// costs more per read (a semaphore, a lock, a queue hop and a key path built at run time) than
/// the indexed read itself; these are taken from a free list under one lock and run on the
/// calling thread. In WAL mode each statement reads the last committed state, as GRDB's readers
/// do, so a key revoked by any process is refused at the next request.
final class RawReaders: Sendable {
    private let path: String
    private let busyTimeoutMilliseconds: Int32
    private let free = Mutex<[RawReader]>([])
    private let closed = Atomic<Bool>(false)

    init(path: String, busyTimeout: Duration) {
        self.path = path
        busyTimeoutMilliseconds = Int32(clamping: busyTimeout.components.seconds * 1_000
            + busyTimeout.components.attoseconds / 1_000_000_000_000_000)
    }

    /// Runs `body` on a free connection (opened when none is), then gives it back.
    func withReader<T>(_ body: (RawReader) throws -> T) throws -> T {
        let reader = try free.withLock { $0.popLast() } ?? RawReader(path: path, busyTimeout: busyTimeoutMilliseconds)
        defer {
            if closed.load(ordering: .acquiring) { reader.close() } else { free.withLock { $0.append(reader) } }
        }
        return try body(reader)
    }

    /// Closes every connection not in use; one in use closes when it is given back.
    func close() {
        closed.store(true, ordering: .releasing)
        for reader in free.withLock({ readers in defer { readers = [] }; return readers }) { reader.close() }
    }
}

/// One read-only connection and its compiled statements. Used by one thread at a time.
final class RawReader: @unchecked Sendable {
    private var handle: OpaquePointer?
    private var statements: [String: (statement: SQLiteStatement, columns: [String])] = [:]
    /// Statements compiled because the cached one was still being stepped (a cursor open on the
    /// same query); finalized with the connection.
    private var spares: [SQLiteStatement] = []

    init(path: String, busyTimeout: Int32) throws {
        let code = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil)
        guard code == SQLITE_OK, let handle else {
            let message = handle.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "cannot open \(path)"
            sqlite3_close(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
        }
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, busyTimeout)
    }

    /// The compiled statement for `sql`, and its columns' names.
    func statement(_ sql: String) throws -> (statement: SQLiteStatement, columns: [String]) {
        if let known = statements[sql], sqlite3_stmt_busy(known.statement) == 0 { return known }
        var statement: SQLiteStatement?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else { throw error(code, sql: sql) }
        let columns = (0..<sqlite3_column_count(statement)).map { String(cString: sqlite3_column_name(statement, $0)) }
        if statements[sql] == nil { statements[sql] = (statement, columns) } else { spares.append(statement) }
        return (statement, columns)
    }

    /// `body` in one read transaction: every statement of it reads the same snapshot.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try SQLiteSteps.execute(SQLiteSteps.Compiled("BEGIN", on: self), [])
        do {
            let value = try body()
            try SQLiteSteps.execute(SQLiteSteps.Compiled("COMMIT", on: self), [])
            return value
        } catch {
            try? SQLiteSteps.execute(SQLiteSteps.Compiled("ROLLBACK", on: self), [])
            throw error
        }
    }

    var connection: OpaquePointer? { handle }

    func error(_ code: Int32, sql: String?) -> DatabaseError { SQLiteSteps.error(code, connection: handle, sql: sql) }

    func close() {
        for (statement, _) in statements.values { sqlite3_finalize(statement) }
        for statement in spares { sqlite3_finalize(statement) }
        (statements, spares) = ([:], [])
        sqlite3_close(handle)
        handle = nil
    }
}
