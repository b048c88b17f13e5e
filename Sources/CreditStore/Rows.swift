import CreditLine
import Foundation
import GRDB

/// Typed reads of a row by column name, for the ad hoc queries (joins, sums) that have no table
/// decoder: each read is `ColumnReader`'s, at the named column's position, so a value the code
/// does not know throws `StoreError.unreadableRow` naming the table, the column and the row's id.
struct TypedRow {
    let row: StoreRow
    let table: String

    init(_ row: StoreRow, table: String) {
        self.row = row
        self.table = table
    }

    var id: String { ((try? row["id"]) as String?) ?? "?" }

    func unreadable(_ column: String) -> StoreError { .unreadableRow(table: table, column: column, id: id) }

    /// A reader at `column`, and the column's name as the row gives it.
    private func reader(_ column: String) throws -> (ColumnReader, String) {
        guard let index = row.index(of: column) else { throw unreadable(column) }
        return (ColumnReader(row, table: table, from: index, id: id), row.columns[index])
    }

    /// A column's value; a NULL where the type holds none, or a value of another type, throws
    /// naming this table and row.
    subscript<Value: DatabaseValueConvertible>(_ column: String) -> Value {
        get throws {
            var (read, name) = try reader(column)
            return try read(name)
        }
    }

    /// A closed set's value.
    func value<Value: RawRepresentable>(_ column: String) throws -> Value where Value.RawValue == String {
        var (read, name) = try reader(column)
        return try read.value(name)
    }

    func optionalValue<Value: RawRepresentable>(_ column: String) throws -> Value? where Value.RawValue == String {
        var (read, name) = try reader(column)
        return try read.optionalValue(name)
    }

    func timestamp(_ column: String) throws -> Timestamp {
        var (read, name) = try reader(column)
        return try read.timestamp(name)
    }

    func optionalDate(_ column: String) throws -> CivilDate? {
        var (read, name) = try reader(column)
        return try read.optionalDate(name)
    }
}

/// A table's columns in the order its decoder reads them: the query selects `list` (or
/// `list(alias:)` in a join), and the decoder takes them by position, in the same order
/// (README "Development", rows that fail loudly).
struct TableColumns: Sendable {
    let table: String
    let names: [String]
    /// `a, b, c`: what a query on the table alone selects (joined once: queries on the hot path
    /// interpolate it on every call).
    let list: String

    init(_ table: String, _ names: String) {
        self.table = table
        self.names = names.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        list = self.names.joined(separator: ", ")
    }

    /// `t.a, t.b, t.c`: what a query selects from the table under an alias.
    func list(alias: String) -> String { names.map { alias + "." + $0 }.joined(separator: ", ") }
}

/// A table's decoder reading one row: each read takes the next column, by position, so no read
/// looks a name up (a measured cost on the hot path, BENCHMARKS.md). The name each read gives is
/// what the error names; debug builds (the tests) also check it is the column at that position,
/// so a decoder and its `TableColumns` cannot drift apart unnoticed.
struct ColumnReader {
    private let row: StoreRow
    let table: String
    private var position: Int
    /// The row's id for an error, when the caller knows it better than the first column does.
    private let knownID: String?

    init(_ row: StoreRow, table: String, from position: Int = 0, id: String? = nil) {
        (self.row, self.table, self.position, knownID) = (row, table, position, id)
    }

    /// The row's id for an error: its first column, which every decoded table selects first.
    private var id: String {
        knownID ?? row.values.first.flatMap { String.fromDatabaseValue($0) ?? Int64.fromDatabaseValue($0).map(String.init) } ?? "?"
    }

    private func unreadable(_ column: String) -> StoreError { .unreadableRow(table: table, column: column, id: id) }

    private mutating func take(_ column: String) throws -> DatabaseValue {
        guard position < row.values.count else { throw unreadable(column) }
        #if DEBUG
        guard row.columns[position] == column else {
            throw StoreError.unreadableRow(table: table, column: "\(column) (position \(position) holds \(row.columns[position]))",
                                           id: id)
        }
        #endif
        defer { position += 1 }
        return row.values[position]
    }

    /// The next column's value; `String?` and the like read NULL as nil.
    mutating func callAsFunction<Value: DatabaseValueConvertible>(_ column: String) throws -> Value {
        guard let value = Value.fromDatabaseValue(try take(column)) else { throw unreadable(column) }
        return value
    }

    /// A closed set's value.
    mutating func value<Value: RawRepresentable>(_ column: String) throws -> Value where Value.RawValue == String {
        guard let value = Value(rawValue: try self(column) as String) else { throw unreadable(column) }
        return value
    }

    mutating func optionalValue<Value: RawRepresentable>(_ column: String) throws -> Value? where Value.RawValue == String {
        guard let text: String = try self(column) else { return nil }
        guard let value = Value(rawValue: text) else { throw unreadable(column) }
        return value
    }

    mutating func timestamp(_ column: String) throws -> Timestamp {
        guard let time = Timestamp(rfc3339: try self(column)) else { throw unreadable(column) }
        return time
    }

    mutating func optionalTimestamp(_ column: String) throws -> Timestamp? {
        guard let text: String = try self(column) else { return nil }
        guard let time = Timestamp(rfc3339: text) else { throw unreadable(column) }
        return time
    }

    mutating func date(_ column: String) throws -> CivilDate {
        guard let date = CivilDate(try self(column) as String) else { throw unreadable(column) }
        return date
    }

    mutating func optionalDate(_ column: String) throws -> CivilDate? {
        guard let text: String = try self(column) else { return nil }
        guard let date = CivilDate(text) else { throw unreadable(column) }
        return date
    }

    /// A JSON column the store itself wrote.
    mutating func json<Value: Decodable>(_ column: String, as type: Value.Type) throws -> Value {
        let text: String = try self(column)
        guard let value = try? StoredJSON.value(Value.self, from: text) else { throw unreadable(column) }
        return value
    }

    /// A JSON column whose texts repeat, decoded once per distinct text.
    mutating func optionalJSON<Value>(_ column: String, from repeated: RepeatedJSON<Value>) throws -> Value? {
        guard let text: String = try self(column) else { return nil }
        guard let value = try? repeated.value(from: text) else { throw unreadable(column) }
        return value
    }

    mutating func optionalJSON<Value: Decodable>(_ column: String, as type: Value.Type) throws -> Value? {
        guard let text: String = try self(column) else { return nil }
        guard let value = try? StoredJSON.value(Value.self, from: text) else { throw unreadable(column) }
        return value
    }
}
