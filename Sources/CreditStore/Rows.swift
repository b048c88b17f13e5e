import CreditLine
import Foundation
import GRDB

/// Typed reads of a row that fail loudly: a value the code does not know throws
/// `StoreError.unreadableRow` naming the table, the column and the row's id, and the request
/// answers 500 instead of guessing.
struct TypedRow {
    let row: StoreRow
    let table: String

    init(_ row: StoreRow, table: String) {
        self.row = row
        self.table = table
    }

    var id: String { ((try? row["id"]) as String?) ?? "?" }

    func unreadable(_ column: String) -> StoreError { .unreadableRow(table: table, column: column, id: id) }

    /// A column's value; a NULL where the type holds none, or a value of another type, throws
    /// naming this table and row.
    subscript<Value: DatabaseValueConvertible>(_ column: String) -> Value {
        get throws {
            do { return try row[column] } catch { throw unreadable(column) }
        }
    }

    /// A closed set's value.
    func value<Value: RawRepresentable>(_ column: String) throws -> Value where Value.RawValue == String {
        guard let text: String = try self[column], let value = Value(rawValue: text) else { throw unreadable(column) }
        return value
    }

    func optionalValue<Value: RawRepresentable>(_ column: String) throws -> Value? where Value.RawValue == String {
        guard let text: String = try self[column] else { return nil }
        guard let value = Value(rawValue: text) else { throw unreadable(column) }
        return value
    }

    func timestamp(_ column: String) throws -> Timestamp {
        guard let text: String = try self[column], let time = Timestamp(rfc3339: text) else { throw unreadable(column) }
        return time
    }

    func optionalTimestamp(_ column: String) throws -> Timestamp? {
        guard let text: String = try self[column] else { return nil }
        guard let time = Timestamp(rfc3339: text) else { throw unreadable(column) }
        return time
    }

    func date(_ column: String) throws -> CivilDate {
        guard let text: String = try self[column], let date = CivilDate(text) else { throw unreadable(column) }
        return date
    }

    func optionalDate(_ column: String) throws -> CivilDate? {
        guard let text: String = try self[column] else { return nil }
        guard let date = CivilDate(text) else { throw unreadable(column) }
        return date
    }

    /// A JSON column the store itself wrote.
    func json<Value: Decodable>(_ column: String, as type: Value.Type) throws -> Value {
        guard let text: String = try self[column],
            let value = try? StoredJSON.value(Value.self, from: text)
        else { throw unreadable(column) }
        return value
    }

    func optionalJSON<Value: Decodable>(_ column: String, as type: Value.Type) throws -> Value? {
        guard (try self[column] as String?) != nil else { return nil }
        return try json(column, as: type)
    }
}
