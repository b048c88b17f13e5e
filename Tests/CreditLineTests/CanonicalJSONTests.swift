import CreditLine
import TestSupport
import Testing

/// `JSONValue.canonicalJSON`, now written into bytes, against the string writer it replaced
/// (kept here as the reference): old chains hash these bytes, so not one may change.
@Suite struct CanonicalJSONTests {
    /// The writer before the bytes: keys sorted by UTF-16 code units, minimal escapes.
    static func reference(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .string(let text): return quoted(text)
        case .array(let values): return "[" + values.map(reference).joined(separator: ",") + "]"
        case .object(let members):
            let keys = members.keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
            return "{" + keys.map { quoted($0) + ":" + reference(members[$0]!) }.joined(separator: ",") + "}"
        }
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Pieces chosen where orders disagree: UTF-8 and UTF-16 sort U+FFFD and U+1F600 apart.
    static let pieces = ["", "a", "b", "A", "_", "z9", "\u{E000}", "\u{FFFD}", "\u{1F600}", "é", "中", "\"", "\\",
                         "\n", "\u{01}", "\u{1F}", "/", "ab", "a\u{FFFD}", "a\u{1F600}", "\u{7F}"]

    static func text(_ rng: inout some RandomNumberGenerator) -> String {
        (0..<Int.random(in: 0...3, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
    }

    static func value(_ rng: inout some RandomNumberGenerator, depth: Int) -> JSONValue {
        switch Int.random(in: 0..<(depth > 2 ? 4 : 6), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .int(Int.random(in: Int.min...Int.max, using: &rng) >> Int.random(in: 0...63, using: &rng))
        case 3: return .string(text(&rng))
        case 4: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in value(&rng, depth: depth + 1) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...6, using: &rng) { members[text(&rng)] = value(&rng, depth: depth + 1) }
            return .object(members)
        }
    }

    @Test func theBytesAreTheStringWritersOverRandomValues() {
        var rng = SeededRandom(seed: 49)
        for _ in 0..<3_000 {
            let value = Self.value(&rng, depth: 0)
            #expect(value.canonicalJSON == Self.reference(value), "\(value)")
            #expect(value.canonicalBytes == Array(Self.reference(value).utf8))
        }
    }

    @Test func sortsKeysAndEscapesMinimally() {
        let value: JSONValue = ["b": 1, "a": ["z": true, "y": nil], "c": "q\"\\\n\u{1}é", "d": [1, "x"]]
        #expect(value.canonicalJSON == #"{"a":{"y":null,"z":true},"b":1,"c":"q\"\\\n\u0001é","d":[1,"x"]}"#)
    }

    /// In code points (and UTF-8) U+1F600 comes after U+E000; in UTF-16 (D83D DE00) before it.
    @Test func keysAboveTheBasicPlaneSortBeforePrivateUseOnesAsUTF16Has() {
        let value: JSONValue = ["\u{1F600}": 1, "\u{FFFD}": 2, "\u{E000}": 3, "z": 4]
        #expect(value.canonicalJSON == "{\"z\":4,\"\u{1F600}\":1,\"\u{E000}\":3,\"\u{FFFD}\":2}")
    }
}
