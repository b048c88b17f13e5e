/// Incremental decoder for the chunked transfer coding (RFC 9112 §7.1). It is fed whatever bytes
/// have arrived and keeps its place between calls, so a client trickling one byte at a time costs
/// linear work.
public struct ChunkedDecoder: Sendable {
    private enum State: Sendable {
        case size(value: Int, digits: Int)
        case extensions
        case sizeLF
        case data(remaining: Int)
        case dataCR
        case dataLF
        case trailerLineStart
        case trailerName
        case trailerLine
        case trailerLF(emptyLine: Bool)
        case done
    }

    private var state = State.size(value: 0, digits: 0)
    private let maxBodyBytes: Int
    private let maxTrailerBytes: Int
    private var trailerBytes = 0
    private var currentChunk = 0
    private var sizeDigits = 0

    public init(maxBodyBytes: Int, maxTrailerBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
        self.maxTrailerBytes = maxTrailerBytes
    }

    public var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// Consumes bytes, appending chunk data to `body`. Returns how many bytes were used; stops
    /// right after the final CRLF so that a pipelined request behind it is left alone.
    public mutating func decode(_ bytes: UnsafeRawBufferPointer, into body: inout [UInt8]) throws(HTTPParseError)
        -> Int
    {
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch state {
            case .size(let value, let digits):
                try sizeByte(byte, value: value, digits: digits, bodyCount: body.count)
                index += 1
            case .extensions:
                // chunk-ext is ignored (RFC 9112 §7.1.1) but may not hide line breaks or NULs.
                if byte == 13 {
                    state = .sizeLF
                } else if byte < 0x20 && byte != UInt8(ascii: "\t") || byte == 0x7F {
                    throw .bad("malformed chunk extension")
                }
                index += 1
            case .sizeLF:
                guard byte == 10 else { throw .bad("chunk size line not ended by CRLF") }
                index += 1
                state = currentChunk == 0 ? .trailerLineStart : .data(remaining: currentChunk)
            case .data(let remaining):
                let take = min(remaining, bytes.count - index)
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<(index + take)]))
                index += take
                state = remaining == take ? .dataCR : .data(remaining: remaining - take)
            case .dataCR:
                guard byte == 13 else { throw .bad("chunk data not followed by CRLF") }
                state = .dataLF
                index += 1
            case .dataLF:
                guard byte == 10 else { throw .bad("chunk data not followed by CRLF") }
                state = .size(value: 0, digits: 0)
                index += 1
            case .trailerLineStart, .trailerName, .trailerLine:
                try trailerByte(byte)
                index += 1
            case .trailerLF(let emptyLine):
                guard byte == 10 else { throw .bad("bare CR in trailer section") }
                index += 1
                if emptyLine {
                    state = .done
                    return index
                }
                state = .trailerLineStart
            case .done:
                return index
            }
        }
        return index
    }

    /// One byte of a chunk-size line's size: a hex digit, or what ends the size.
    @inline(__always)
    private mutating func sizeByte(_ byte: UInt8, value: Int, digits: Int, bodyCount: Int) throws(HTTPParseError) {
        if let digit = hexValue(byte) {
            // The value saturates just above the cap, so it never overflows; the digit
            // count tells a size that does not fit in 64 bits (malformed) from one that
            // is merely too large.
            let significant = digits + (value == 0 && digit == 0 ? 0 : 1)
            state = .size(value: min(value << 4 | digit, maxBodyBytes + 1), digits: significant)
            sizeDigits += 1
            if sizeDigits > 64 { throw .bad("malformed chunk size") }
        } else if sizeDigits == 0 {
            throw .bad("malformed chunk size")
        } else if byte == UInt8(ascii: ";") || byte == 13 {
            // RFC 9112 §7.1: a chunk size that cannot be represented is malformed.
            if digits > 16 { throw .bad("chunk size overflows") }
            if value > maxBodyBytes || bodyCount + value > maxBodyBytes {
                throw HTTPParseError(.contentTooLarge, "body larger than \(maxBodyBytes) bytes")
            }
            currentChunk = value
            sizeDigits = 0
            state = byte == 13 ? .sizeLF : .extensions
        } else {
            // RFC 9112 §7.1.1 allows whitespace (BWS) before ";" but forbids sending it,
            // and parsers disagree on it; refusing it, or any other text after the size,
            // leaves no room to read the size two ways.
            throw .bad("malformed chunk size")
        }
    }

    /// One byte of a trailer field line, before its CR: a field name, then a value that is read
    /// and dropped.
    @inline(__always)
    private mutating func trailerByte(_ byte: UInt8) throws(HTTPParseError) {
        switch state {
        case .trailerLineStart:
            if byte == 13 {
                state = .trailerLF(emptyLine: true)
            } else if isTokenByte(byte) {
                state = .trailerName
            } else {
                // A trailer line must be a field line (RFC 9112 §7.1.2): a request line here,
                // read as a trailer, would swallow the next pipelined request.
                throw .bad("malformed trailer field")
            }
            try countTrailerByte()
        case .trailerName:
            if byte == UInt8(ascii: ":") {
                state = .trailerLine
            } else if !isTokenByte(byte) {
                throw .bad("malformed trailer field name")
            }
            try countTrailerByte()
        case .trailerLine:
            // Trailer field values are read and dropped: nothing here depends on them.
            if byte == 13 {
                state = .trailerLF(emptyLine: false)
            } else if byte < 0x20 && byte != UInt8(ascii: "\t") || byte == 0x7F {
                throw .bad("malformed trailer field")
            }
            try countTrailerByte()
        default:
            break
        }
    }

    private mutating func countTrailerByte() throws(HTTPParseError) {
        trailerBytes += 1
        if trailerBytes > maxTrailerBytes {
            throw HTTPParseError(.requestHeaderFieldsTooLarge, "trailer section too large")
        }
    }

    /// tchar (RFC 9110 §5.6.2).
    private func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    @inline(__always)
    private func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 48...57: return Int(byte - 48)
        case 65...70: return Int(byte - 55)
        case 97...102: return Int(byte - 87)
        default: return nil
        }
    }
}
