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
    /// SQLite copies the bytes of a bound text or blob before `bind` returns.
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    /// Binds `arguments` to `statement` after a reset; the count must match its placeholders.
    static func bind(_ statement: GRDB.Statement, _ arguments: SQLArguments, in db: Database) throws {
        let raw = statement.sqliteStatement
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
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
            guard code == SQLITE_OK else { throw error(code, statement, db) }
        }
    }

    /// The next row, or nil when the statement is done (and then reset, releasing its read).
    static func step(_ statement: GRDB.Statement, columns: [String], in db: Database) throws -> StoreRow? {
        let raw = statement.sqliteStatement
        let code = sqlite3_step(raw)
        switch code {
        case SQLITE_ROW:
            var values: [DatabaseValue] = []
            values.reserveCapacity(columns.count)
            for column in 0..<Int32(columns.count) { values.append(value(raw, column)) }
            return StoreRow(columns: columns, values: values)
        case SQLITE_DONE:
            sqlite3_reset(raw)
            return nil
        default:
            let failure = error(code, statement, db)
            sqlite3_reset(raw)
            throw failure
        }
    }

    /// Every row of `statement` with `arguments`.
    static func rows(_ statement: GRDB.Statement, _ arguments: SQLArguments, in db: Database) throws -> [StoreRow] {
        try bind(statement, arguments, in: db)
        let columns = statement.columnNames
        var rows: [StoreRow] = []
        while let row = try step(statement, columns: columns, in: db) { rows.append(row) }
        return rows
    }

    /// Runs a statement that returns no rows (or whose rows are not wanted).
    static func execute(_ statement: GRDB.Statement, _ arguments: SQLArguments, in db: Database) throws {
        try bind(statement, arguments, in: db)
        while try step(statement, columns: [], in: db) != nil {}
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

    /// SQLite's error as GRDB names it, so that the storage faults (a full disk, a read-only
    /// file, a lock held elsewhere) are recognised as before.
    private static func error(_ code: Int32, _ statement: GRDB.Statement, _ db: Database) -> DatabaseError {
        let message = sqlite3_errmsg(db.sqliteConnection).map { String(cString: $0) } ?? "SQLite error \(code)"
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
    }
}
