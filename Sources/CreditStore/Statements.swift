import Foundation
import GRDB
import Synchronization

/// JSON the store writes into its own columns: sorted keys, so the same value is the same text.
/// One encoder and one decoder serve every write and read (they keep no state between calls).
enum StoredJSON {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
    private static let decoder = JSONDecoder()

    static func text<Value: Encodable>(_ value: Value) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func value<Value: Decodable>(_ type: Value.Type, from text: String) throws -> Value {
        try decoder.decode(type, from: Data(text.utf8))
    }
}

/// Decoded values of JSON texts that repeat from row to row: a tier's terms are the same text on
/// every line of that tier, and a periodic review reads thousands of lines (BENCHMARKS.md, "A
/// fifth of the cost per request"). Bounded: when full it starts again empty, so a column whose
/// texts do not repeat costs a lookup, never memory.
final class RepeatedJSON<Value: Decodable & Sendable>: Sendable {
    private let entries = Mutex<[String: Value]>([:])
    private let capacity: Int

    init(capacity: Int = 256) { self.capacity = capacity }

    func value(from text: String) throws -> Value {
        if let known = entries.withLock({ $0[text] }) { return known }
        let value = try StoredJSON.value(Value.self, from: text)
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[text] = value
        }
        return value
    }
}
