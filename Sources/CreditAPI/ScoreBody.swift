import CreditLine

/// The body of a score read straight from its bytes, for the plain shape nearly every caller
/// sends (README "Performance"): `{"features": {"name": value, ...}}` with names of letters,
/// digits and underscores, and values `true`, `false`, `null`, integers and decimals that are not
/// whole. Anything else (a string, an exponent, an escape, a repeated name, another member, an
/// integer of more than 18 digits) answers nil and goes to
/// `RequestBody.decode`, which reads it and words its problems. On what this accepts it gives what
/// `JSONDecoder` gives (`FeatureInput`'s own order: an integer, else a number); a test holds the two
/// to the same result over generated bodies.
enum ScoreBody {
    static func features(_ bytes: [UInt8]) -> [String: FeatureInput]? {
        var reader = Reader(bytes: bytes)
        guard reader.take("{"), reader.name() == "features", reader.take(":"), reader.take("{") else { return nil }
        var features: [String: FeatureInput] = [:]
        if !reader.take("}") {
            repeat {
                guard let name = reader.name(), reader.take(":"), let value = reader.value(),
                      features.updateValue(value, forKey: name) == nil else { return nil }
            } while reader.take(",")
            guard reader.take("}") else { return nil }
        }
        guard reader.take("}"), reader.atEnd else { return nil }
        return features
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool {
            mutating get {
                skipSpace()
                return index == bytes.count
            }
        }

        mutating func skipSpace() {
            // RFC 8259 §2: the four whitespace bytes.
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
                index += 1
            }
        }

        mutating func take(_ byte: Unicode.Scalar) -> Bool {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(byte.value) else { return false }
            index += 1
            return true
        }

        /// A quoted name of ASCII letters, digits and underscores; nil for anything else.
        mutating func name() -> String? {
            guard take("\"") else { return nil }
            let start = index
            while index < bytes.count, Self.isNameByte(bytes[index]) { index += 1 }
            guard index > start, index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            defer { index += 1 }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        static func isNameByte(_ byte: UInt8) -> Bool {
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x5F
        }

        mutating func value() -> FeatureInput? {
            skipSpace()
            guard index < bytes.count else { return nil }
            if literal("true") { return .boolean(true) }
            if literal("false") { return .boolean(false) }
            if literal("null") { return .null }
            return number()
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            let matches = word.withUTF8Buffer { $0.elementsEqual(bytes[index..<(index + count)]) }
            if matches { index += count }
            return matches
        }

        /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?`, at most 18 digits before the point; nil for a
        /// negative zero, an exponent, or a decimal whose value is whole (which `JSONDecoder`
        /// reads as an integer).
        mutating func number() -> FeatureInput? {
            let start = index
            let negative = bytes[index] == UInt8(ascii: "-")
            if negative { index += 1 }
            let digitsStart = index
            skipDigits()
            let digits = index - digitsStart
            guard digits > 0, digits <= 18, !(digits > 1 && bytes[digitsStart] == 0x30) else { return nil }
            var decimal = false
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                let fractionStart = index
                skipDigits()
                guard index > fractionStart else { return nil }
                decimal = true
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") { return nil }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            if decimal {
                guard let number = Double(text), number != number.rounded() else { return nil }
                return .number(number)
            }
            guard let whole = Int(text), !(negative && whole == 0) else { return nil }
            return .integer(whole)
        }

        mutating func skipDigits() {
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
        }
    }
}
