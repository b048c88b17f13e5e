import Foundation
import GRDB

/// A row as the store reads it on either engine: its values in the query's column order, read by
/// position (a table's decoder) or by name. Every read throws `StoreError.unreadableRow` on a
/// value that does not convert (NULL where a value is needed included) instead of trapping as
/// GRDB's non-optional subscripts do (README "Development", rows that fail loudly).
struct StoreRow: Sendable {
    /// The result's column names, shared by its rows.
    let columns: [String]
    let values: [DatabaseValue]

    init(columns: [String], values: [DatabaseValue]) {
        (self.columns, self.values) = (columns, values)
    }

    /// An SQLite row (a cursor's, valid only until the next step), copied.
    init(_ row: Row, columns: [String]) {
        self.init(columns: columns, values: Array(row.databaseValues))
    }

    /// The leftmost column of that name, ignoring case, as SQL (and GRDB) name columns.
    func index(of name: String) -> Int? {
        columns.firstIndex { $0 == name } ?? columns.firstIndex { $0.caseInsensitiveCompare(name) == .orderedSame }
    }

    /// The value of a column by name; `String?` and the like read NULL as nil.
    subscript<Value: DatabaseValueConvertible>(_ name: String) -> Value {
        get throws {
            guard let index = index(of: name) else { throw StoreError.unreadableRow(table: "query", column: name, id: "?") }
            return try convert(values[index], column: name)
        }
    }

    /// The value at a position, in the query's column order.
    subscript<Value: DatabaseValueConvertible>(position index: Int) -> Value {
        get throws {
            guard values.indices.contains(index) else {
                throw StoreError.unreadableRow(table: "query", column: String(index), id: "?")
            }
            return try convert(values[index], column: columns[index])
        }
    }

    private func convert<Value: DatabaseValueConvertible>(_ value: DatabaseValue, column: String) throws -> Value {
        guard let converted = Value.fromDatabaseValue(value) else {
            throw StoreError.unreadableRow(table: "query", column: column, id: "?")
        }
        return converted
    }
}
