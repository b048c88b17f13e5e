/// A JSON value for audit details: ids, codes, amounts, versions. No floating point: amounts are
/// integer fen and ratios are not audited, so the canonical form never depends on how a double
/// prints.
public enum JSONValue: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Canonical JSON (the RFC 8785 shape for this subset): object keys sorted by their UTF-16
    /// code units, no insignificant whitespace, minimal string escapes. Two parties that agree on
    /// the value agree on these bytes, which is what the audit chain hashes.
    public var canonicalJSON: String { String(decoding: canonicalBytes, as: UTF8.self) }

    /// The same text as bytes, for what is hashed or stored without becoming a `String` first.
    public var canonicalBytes: [UInt8] {
        var out = JSONBytes(capacity: 256)
        write(into: &out)
        return out.bytes
    }

    public func write(into out: inout JSONBytes) {
        switch self {
        case .null: out.null()
        case .bool(let value): out.bool(value)
        case .int(let value): out.int(value)
        case .string(let value): out.string(value)
        case .array(let values):
            out.beginArray()
            for value in values { value.write(into: &out) }
            out.endArray()
        case .object(let members):
            out.beginObject()
            for key in members.keys.sorted(by: Self.utf16Precedes) {
                out.dataKey(key)
                members[key]!.write(into: &out)
            }
            out.endObject()
        }
    }

    /// RFC 8785 §3.2.3: names sorted by their UTF-16 code units. UTF-8 bytes sort as code points
    /// do, which is the same order except between a character above U+FFFF and one from U+E000
    /// to U+FFFF (a lead byte of 0xEE or more on both sides); only then is UTF-16 consulted.
    static func utf16Precedes(_ left: String, _ right: String) -> Bool {
        var rightBytes = right.utf8.makeIterator()
        for leftByte in left.utf8 {
            guard let rightByte = rightBytes.next() else { return false }
            if leftByte == rightByte { continue }
            if leftByte >= 0xEE, rightByte >= 0xEE { return left.utf16.lexicographicallyPrecedes(right.utf16) }
            return leftByte < rightByte
        }
        return rightBytes.next() != nil
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension JSONValue {
    public var intValue: Int? { if case .int(let value) = self { value } else { nil } }
    public var stringValue: String? { if case .string(let value) = self { value } else { nil } }
    public var arrayValue: [JSONValue]? { if case .array(let values) = self { values } else { nil } }
}
