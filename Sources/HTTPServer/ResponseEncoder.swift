#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import HTTPTypes

/// Writes a response head and body as HTTP/1.1 bytes.
enum ResponseEncoder {
    /// Fields the server owns: a handler's value for them would break framing.
    @inline(__always)
    private static func isOwned(_ name: HTTPField.Name) -> Bool {
        switch name.canonicalName {
        case "content-length", "connection", "date", "transfer-encoding", "keep-alive": return true
        default: return false
        }
    }

    static func encode(_ response: Response, keepAlive: Bool, omitBody: Bool, chunked: Bool = false,
                       date: [UInt8], serverName: String?, into out: inout [UInt8])
    {
        let code = response.status.code
        out.reserveCapacity(out.count + 160 + response.body.count)
        // RFC 9110 §6.2: a server sends its own highest version, whatever the request's.
        append("HTTP/1.1 ", to: &out)
        appendDecimal(code, to: &out)
        out.append(32)
        append(response.status.reasonPhrase, to: &out)
        append("\r\nDate: ", to: &out)
        out.append(contentsOf: date)
        if let serverName {
            append("\r\nServer: ", to: &out)
            append(serverName, to: &out)
        }
        // RFC 9110 §8.6: no Content-Length on 1xx and 204; on 304 it would describe another
        // representation.
        let bodyAllowed = code >= 200 && code != 204 && code != 304
        if bodyAllowed, chunked {
            append("\r\nTransfer-Encoding: chunked", to: &out)
        } else if bodyAllowed {
            append("\r\nContent-Length: ", to: &out)
            appendDecimal(response.body.count, to: &out)
        }
        // Said on every response, though HTTP/1.1 implies keep-alive: a client (or a proxy that
        // downgrades to 1.0) never has to guess whether the connection stays open.
        append(keepAlive ? "\r\nConnection: keep-alive" : "\r\nConnection: close", to: &out)
        for field in response.headerFields where !isOwned(field.name) {
            append("\r\n", to: &out)
            append(field.name.rawName, to: &out)
            append(": ", to: &out)
            append(field.value, to: &out)
        }
        append("\r\n\r\n", to: &out)
        if bodyAllowed, !omitBody, !chunked {
            out.append(contentsOf: response.body)
        }
    }

    static let continueLine: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// One chunk: size in hex, CRLF, the bytes, CRLF (RFC 9112 §7.1).
    static func appendChunk(_ bytes: [UInt8], to out: inout [UInt8]) {
        append(String(bytes.count, radix: 16), to: &out)
        append("\r\n", to: &out)
        out.append(contentsOf: bytes)
        append("\r\n", to: &out)
    }

    static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)

    @inline(__always)
    private static func append(_ text: String, to out: inout [UInt8]) {
        out.append(contentsOf: text.utf8)
    }

    private static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var remaining = value
        while divisor > 0 {
            out.append(UInt8(48 + remaining / divisor))
            remaining %= divisor
            divisor /= 10
        }
    }
}

/// The IMF-fixdate for `Date` (RFC 9110 §5.6.7), formatted once per second per loop.
struct DateCache {
    private var second: time_t = 0
    private(set) var bytes: [UInt8] = []

    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    mutating func current() -> [UInt8] {
        let now = time(nil)
        if now != second || bytes.isEmpty {
            second = now
            bytes = Array(Self.format(now).utf8)
        }
        return bytes
    }

    static func format(_ seconds: time_t) -> String {
        var t = seconds
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
