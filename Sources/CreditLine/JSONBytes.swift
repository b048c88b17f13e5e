/// A JSON text written straight into bytes, for the answers the service gives most and for the
/// canonical JSON the audit chain hashes (README "Performance"): `JSONEncoder` builds a tree of
/// boxes and sorts every object's keys on every call, which cost more than the read it answered.
/// A writer lays members out in the order the encoder's `.sortedKeys` would; strings are escaped
/// as RFC 8785 has it (only `"`, `\` and controls), which is also what the encoder writes once
/// told not to escape slashes. Tests hold each writer byte for byte to the encoder's output.
public struct JSONBytes: Sendable {
    // Inlinable, with its state usable from inlined code: the writers live in other modules,
    // where a call per byte run would cost more than the storage.
    @usableFromInline var storage: [UInt8] = []
    /// Whether the object or array being written has a member already (a comma goes first).
    @usableFromInline var needsComma = false

    public var bytes: [UInt8] { storage }

    @inlinable public init(capacity: Int = 512) { storage.reserveCapacity(capacity) }

    @inlinable public mutating func beginObject() { separate(); storage.append(UInt8(ascii: "{")); needsComma = false }
    @inlinable public mutating func endObject() { storage.append(UInt8(ascii: "}")); needsComma = true }
    @inlinable public mutating func beginArray() { separate(); storage.append(UInt8(ascii: "[")); needsComma = false }
    @inlinable public mutating func endArray() { storage.append(UInt8(ascii: "]")); needsComma = true }

    /// A member's name; its value follows. Names are the code's constants, never escaped.
    @inlinable public mutating func key(_ name: StaticString) {
        separate()
        storage.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { storage.append(contentsOf: $0) }
        storage.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        needsComma = false
    }

    /// A member's name that is data (a JSON object's key): escaped as any string. Named apart
    /// from `key(_:)`, which a literal would otherwise resolve to this one.
    @inlinable public mutating func dataKey(_ name: String) {
        string(name)
        storage.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// A value that is JSON text already (a stored canonical detail), spliced in as it is.
    @inlinable public mutating func json(_ text: String) {
        separate()
        storage.append(contentsOf: text.utf8)
    }

    @inlinable public mutating func null() { separate(); append("null") }
    @inlinable public mutating func bool(_ value: Bool) { separate(); append(value ? "true" : "false") }

    @inlinable public mutating func int(_ value: Int) {
        separate()
        if value < 0 { storage.append(UInt8(ascii: "-")) }
        // The digits written in place, most significant first, without a buffer of their own.
        var rest = value.magnitude
        var divisor: UInt = 1
        while rest / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            storage.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    @inlinable public mutating func int(_ value: Int?) { if let value { int(value) } else { null() } }

    @inlinable public mutating func string(_ value: String) {
        separate()
        storage.append(UInt8(ascii: "\""))
        // Most strings (ids, codes, timestamps) need no escape: copied whole.
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            storage.append(contentsOf: value.utf8)
            storage.append(UInt8(ascii: "\""))
            needsComma = true
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\\"): append("\\\\")
            case 0x08: append("\\b")
            case 0x0C: append("\\f")
            case UInt8(ascii: "\n"): append("\\n")
            case UInt8(ascii: "\r"): append("\\r")
            case UInt8(ascii: "\t"): append("\\t")
            case ..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                append("\\u00")
                storage.append(contentsOf: [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            default: storage.append(byte)
            }
        }
        storage.append(UInt8(ascii: "\""))
        needsComma = true
    }

    @inlinable public mutating func string(_ value: String?) { if let value { string(value) } else { null() } }

    @inlinable mutating func separate() {
        if needsComma { storage.append(UInt8(ascii: ",")) }
        needsComma = true
    }

    @inlinable mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { storage.append(contentsOf: $0) }
    }
}

