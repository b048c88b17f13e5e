import Foundation
import GRDB
import GRDBSQLite

/// A compiled statement run straight through SQLite's C interface: values bound by position,
/// columns read by position into a `StoreRow`. GRDB compiles and caches the statement and owns
/// the connection and its transactions; what this skips is GRDB's per-call machinery around a
/// step (argument validation through key paths, a row cursor and a row object per row), which
/// cost more than the query itself on the service's hot reads (BENCHMARKS.md, "Instructions
/// per request").
enum SQLiteSteps {
    /// A compiled statement, GRDB's or a raw reader's: its handle, its columns, and its
    /// connection, whose message an error carries. Plain values: nothing is allocated per call.
    struct Compiled {
        let raw: SQLiteStatement
        let columns: [String]
        private let connection: OpaquePointer?
        /// GRDB's statement, held while this is: GRDB finalizes a statement it no longer holds
        /// (its cache is emptied after a schema change), and a cursor may outlive the cache's hold.
        private let owner: GRDB.Statement?

        init(_ statement: GRDB.Statement, in db: Database) {
            (raw, columns, connection, owner) = (statement.sqliteStatement, statement.columnNames, db.sqliteConnection, statement)
        }

        init(_ sql: String, on reader: RawReader) throws {
            let compiled = try reader.statement(sql)
            (raw, columns, connection, owner) = (compiled.statement, compiled.columns, reader.connection, nil)
        }

        /// SQLite's error for `code` as GRDB names it, so that the storage faults (a full disk, a
        /// read-only file, a lock held elsewhere) are recognised as before. The text comes from
        /// SQLite, not GRDB's `Statement.sql`, which trims it on every call.
        func error(_ code: Int32) -> DatabaseError {
            SQLiteSteps.error(code, connection: connection, sql: sqlite3_sql(raw).map { String(cString: $0) })
        }

        var sql: String { sqlite3_sql(raw).map { String(cString: $0) } ?? "" }
    }

    static func error(_ code: Int32, connection: OpaquePointer?, sql: String?) -> DatabaseError {
        let message = connection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "SQLite error \(code)"
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql)
    }

    /// SQLite copies the bytes of a bound text or blob before `bind` returns.
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    /// Binds `arguments` to the statement after a reset; the count must match its placeholders.
    static func bind(_ statement: Compiled, _ arguments: SQLArguments) throws {
        let raw = statement.raw
        sqlite3_reset(raw)
        // Every placeholder is bound below (the count is checked), so no clearing is needed.
        let expected = Int(sqlite3_bind_parameter_count(raw))
        guard arguments.values.count == expected else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE,
                                message: "wrong number of statement arguments: \(arguments.values.count), not \(expected)",
                                sql: statement.sql)
        }
        for (offset, value) in arguments.values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value.storage {
            case .null: code = sqlite3_bind_null(raw, index)
            case .int64(let number): code = sqlite3_bind_int64(raw, index, number)
            case .double(let number): code = sqlite3_bind_double(raw, index, number)
            case .string(let text): code = sqlite3_bind_text(raw, index, text, -1, transient)
            case .blob(let data):
                code = data.withUnsafeBytes { sqlite3_bind_blob(raw, index, $0.baseAddress, Int32($0.count), transient) }
            }
            guard code == SQLITE_OK else { throw statement.error(code) }
        }
    }

    /// The next row, or nil when the statement is done (and then reset, releasing its read).
    static func step(_ statement: Compiled) throws -> StoreRow? {
        let raw = statement.raw
        let code = sqlite3_step(raw)
        switch code {
        case SQLITE_ROW:
            var values: [DatabaseValue] = []
            values.reserveCapacity(statement.columns.count)
            for column in 0..<Int32(statement.columns.count) { values.append(value(raw, column)) }
            return StoreRow(columns: statement.columns, values: values)
        case SQLITE_DONE:
            sqlite3_reset(raw)
            return nil
        default:
            let failure = statement.error(code)
            sqlite3_reset(raw)
            throw failure
        }
    }

    /// Every row of the statement with `arguments`.
    static func rows(_ statement: Compiled, _ arguments: SQLArguments) throws -> [StoreRow] {
        try bind(statement, arguments)
        var rows: [StoreRow] = []
        while let row = try step(statement) { rows.append(row) }
        return rows
    }

    /// Runs a statement whose rows are not wanted.
    static func execute(_ statement: Compiled, _ arguments: SQLArguments) throws {
        try bind(statement, arguments)
        while try step(statement) != nil {}
    }

    private static func value(_ raw: SQLiteStatement, _ column: Int32) -> DatabaseValue {
        switch sqlite3_column_type(raw, column) {
        case SQLITE_INTEGER: return sqlite3_column_int64(raw, column).databaseValue
        case SQLITE_FLOAT: return sqlite3_column_double(raw, column).databaseValue
        case SQLITE_TEXT:
            guard let text = sqlite3_column_text(raw, column) else { return "".databaseValue }
            let count = Int(sqlite3_column_bytes(raw, column))
            return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self).databaseValue
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(raw, column))
            guard count > 0, let bytes = sqlite3_column_blob(raw, column) else { return Data().databaseValue }
            return Data(bytes: bytes, count: count).databaseValue
        default: return .null
        }
    }
}
