import HTTPTypes

/// Parses an HTTP/1.1 request head (RFC 9112 §2–§7) from bytes, strictly: whatever two
/// implementations could read differently is refused, because a proxy in front of us and we
/// disagreeing on where a request ends is how request smuggling works.
public enum RequestParser {
    private static let cr: UInt8 = 13
    private static let lf: UInt8 = 10
    private static let space: UInt8 = 32
    private static let tab: UInt8 = 9
    private static let colon: UInt8 = 58

    /// Leading empty lines tolerated before a request line (RFC 9112 §2.2: a server SHOULD ignore
    /// at least one; clients send a stray CRLF after a POST body).
    private static let maxLeadingEmptyLines = 4

    /// Parses one request head at the start of `bytes`.
    /// - Returns: the head and how many bytes it used, or nil when more bytes are needed.
    /// - Throws: `HTTPParseError` naming the status to answer with.
    public static func parseHead(_ bytes: UnsafeRawBufferPointer, limits: ParserLimits) throws(HTTPParseError)
        -> (head: RequestHead, consumed: Int)?
    {
        var start = 0
        var emptyLines = 0
        while start + 1 < bytes.count, bytes[start] == cr, bytes[start + 1] == lf {
            start += 2
            emptyLines += 1
            if emptyLines > maxLeadingEmptyLines { throw .bad("too many empty lines before the request line") }
        }
        if start < bytes.count, bytes[start] == lf { throw .bad("bare LF before the request line") }

        // Request line.
        guard let lineEnd = try findLineEnd(bytes, from: start, limit: limits.maxRequestLineBytes) else {
            if bytes.count - start > limits.maxRequestLineBytes {
                throw HTTPParseError(.uriTooLong, "request line longer than \(limits.maxRequestLineBytes) bytes")
            }
            return nil
        }
        let requestLine = try parseRequestLine(bytes, start, lineEnd)

        // Header section (RFC 9112 §5).
        var fields = HTTPFields()
        fields.reserveCapacity(16)
        var cursor = lineEnd + 2
        let headerStart = cursor
        var fieldCount = 0
        var framingFields = FramingFields()
        while true {
            let remainingBudget = limits.maxHeaderBytes - (cursor - headerStart)
            guard let end = try findLineEnd(bytes, from: cursor, limit: max(0, remainingBudget)) else {
                if bytes.count - headerStart > limits.maxHeaderBytes {
                    throw HTTPParseError(.requestHeaderFieldsTooLarge,
                                         "header section larger than \(limits.maxHeaderBytes) bytes")
                }
                return nil
            }
            if end == cursor {
                cursor += 2
                break
            }
            fieldCount += 1
            if fieldCount > limits.maxHeaderFields {
                throw HTTPParseError(.requestHeaderFieldsTooLarge, "more than \(limits.maxHeaderFields) header fields")
            }
            let (name, value) = try parseFieldLine(bytes, cursor, end)
            cursor = end + 2
            try framingFields.note(name, value)
            fields.append(HTTPField(name: name, value: value))
        }

        let version = requestLine.version
        let chunked = try framingFields.check(version: version)
        let (authority, path) = try resolveTarget(requestLine.target, method: requestLine.method, host: framingFields.host)
        let maxBody = limits.maxBody(forTarget: path)
        let framing = try framingFields.framing(chunked: chunked, maxBody: maxBody)
        let keepAlive = version == .http1_1 ? !framingFields.connectionClose
            : (framingFields.connectionKeepAlive && !framingFields.connectionClose)
        let request = HTTPRequest(method: requestLine.method, scheme: nil, authority: authority, path: path,
                                  headerFields: fields)
        let head = RequestHead(request: request, version: version, target: path, framing: framing,
                               keepAlive: keepAlive, expectsContinue: framingFields.expectsContinue && framing != .none,
                               maxBodyBytes: maxBody)
        return (head, cursor)
    }

    // MARK: - Lines

    /// Finds the CRLF ending the line that starts at `from`, looking at most `limit` bytes ahead.
    /// A bare CR or a lone LF is refused (RFC 9112 §2.2 lets a recipient accept a lone LF; we
    /// do not, since not every intermediary does).
    private static func findLineEnd(_ bytes: UnsafeRawBufferPointer, from: Int, limit: Int) throws(HTTPParseError)
        -> Int?
    {
        let end = min(bytes.count, from + limit + 2)
        var index = from
        while index < end {
            let byte = bytes[index]
            if byte == lf { throw .bad("line ends in a bare LF") }
            if byte == cr {
                guard index + 1 < bytes.count else { return nil }
                if bytes[index + 1] != lf { throw .bad("bare CR") }
                if index - from > limit { return nil }
                return index
            }
            index += 1
        }
        return nil
    }

    private struct RequestLine {
        var method: HTTPRequest.Method
        var target: String
        var version: HTTPVersion
    }

    /// RFC 9112 §3: method SP request-target SP HTTP-version, single spaces, nothing else.
    private static func parseRequestLine(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int)
        throws(HTTPParseError) -> RequestLine
    {
        var index = start
        while index < end, isTokenChar(bytes[index]) { index += 1 }
        guard index > start, index < end, bytes[index] == space else {
            throw .bad("malformed request line")
        }
        let methodEnd = index
        index += 1
        let targetStart = index
        while index < end, bytes[index] != space {
            // Visible ASCII only: controls, DEL and raw non-ASCII bytes are not URI characters.
            guard bytes[index] > 0x20, bytes[index] < 0x7F else { throw .bad("invalid character in request target") }
            index += 1
        }
        guard index > targetStart, index < end else { throw .bad("malformed request line") }
        let targetEnd = index
        index += 1
        guard end - index == 8,
            bytes[index] == UInt8(ascii: "H"), bytes[index + 1] == UInt8(ascii: "T"),
            bytes[index + 2] == UInt8(ascii: "T"), bytes[index + 3] == UInt8(ascii: "P"),
            bytes[index + 4] == UInt8(ascii: "/"), isDigit(bytes[index + 5]),
            bytes[index + 6] == UInt8(ascii: "."), isDigit(bytes[index + 7])
        else {
            throw .bad("malformed HTTP version")
        }
        let major = Int(bytes[index + 5] - 48)
        let minor = Int(bytes[index + 7] - 48)
        // RFC 9110 §6.2: a 1.x minor we do not know is answered as the highest we speak, 1.1.
        guard major == 1 else {
            throw HTTPParseError(.httpVersionNotSupported, "HTTP/\(major).\(minor) is not supported")
        }
        let version = minor == 0 ? HTTPVersion.http1_0 : .http1_1
        guard let method = knownMethod(bytes, start, methodEnd) ?? HTTPRequest.Method(string(bytes, start, methodEnd))
        else { throw .bad("invalid method") }
        return RequestLine(method: method, target: string(bytes, targetStart, targetEnd), version: version)
    }

    /// RFC 9112 §5: field-name ":" OWS field-value OWS.
    private static func parseFieldLine(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int)
        throws(HTTPParseError) -> (HTTPField.Name, String)
    {
        // RFC 9112 §5.2: obs-fold (a line starting with whitespace) is rejected.
        if bytes[start] == space || bytes[start] == tab { throw .bad("obsolete line folding") }
        var index = start
        while index < end, isTokenChar(bytes[index]) { index += 1 }
        // RFC 9112 §5.1: no whitespace between name and colon; a name is a non-empty token.
        guard index > start, index < end, bytes[index] == colon else {
            if index < end, bytes[index] == space || bytes[index] == tab {
                throw .bad("whitespace between header name and colon")
            }
            throw .bad("invalid header field name")
        }
        let nameEnd = index
        index += 1
        var valueStart = index
        var valueEnd = end
        while valueStart < valueEnd, bytes[valueStart] == space || bytes[valueStart] == tab { valueStart += 1 }
        while valueEnd > valueStart, bytes[valueEnd - 1] == space || bytes[valueEnd - 1] == tab { valueEnd -= 1 }
        for position in valueStart..<valueEnd {
            let byte = bytes[position]
            // RFC 9110 §5.5: field-vchar, SP, HTAB and obs-text; CR, LF, NUL and other controls
            // are refused rather than repaired.
            if (byte < 0x20 && byte != tab) || byte == 0x7F { throw .bad("invalid character in header value") }
        }
        guard let name = knownFieldName(bytes, start, nameEnd) ?? HTTPField.Name(string(bytes, start, nameEnd)) else {
            throw .bad("invalid header field name")
        }
        return (name, string(bytes, valueStart, valueEnd))
    }

    // MARK: - Common names without allocation

    private static let knownFieldNames: [HTTPField.Name] = [
        HTTPField.Name("Host")!, .contentLength, .transferEncoding, .connection, .expect, .acceptEncoding, .authorization,
        .contentType, .userAgent, .accept, .ifMatch, HTTPField.Name("Idempotency-Key")!,
        HTTPField.Name("X-Request-Id")!,
    ]
    private static let knownFieldNameBytes: [[UInt8]] = knownFieldNames.map { Array($0.canonicalName.utf8) }

    /// The shared name value for the fields every request carries, compared without case
    /// (RFC 9110 §5.1) and without building a String.
    private static func knownFieldName(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> HTTPField.Name? {
        let length = end - start
        outer: for (index, candidate) in knownFieldNameBytes.enumerated() where candidate.count == length {
            for offset in 0..<length {
                let byte = bytes[start + offset]
                let lower = byte >= 65 && byte <= 90 ? byte + 32 : byte
                if lower != candidate[offset] { continue outer }
            }
            return knownFieldNames[index]
        }
        return nil
    }

    private static let knownMethods: [HTTPRequest.Method] = [.get, .post, .put, .head, .delete, .options, .patch]
    private static let knownMethodBytes: [[UInt8]] = knownMethods.map { Array($0.rawValue.utf8) }

    /// Methods are case-sensitive (RFC 9110 §9.1), so this is an exact byte match.
    private static func knownMethod(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> HTTPRequest.Method? {
        let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        for (index, candidate) in knownMethodBytes.enumerated() where candidate.elementsEqual(slice) {
            return knownMethods[index]
        }
        return nil
    }

    // MARK: - Field semantics

    /// RFC 9110 §8.6: 1*DIGIT, nothing else; no sign, no hex, no empty value; no overflow.
    static func parseContentLength(_ text: Substring) throws(HTTPParseError) -> Int {
        guard !text.isEmpty else { throw .bad("empty Content-Length") }
        var value = 0
        for byte in text.utf8 {
            guard isDigit(byte) else { throw .bad("invalid Content-Length") }
            let (times10, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = times10.addingReportingOverflow(Int(byte - 48))
            if overflowA || overflowB { throw .bad("Content-Length overflows") }
            value = sum
        }
        return value
    }

    /// RFC 9112 §3.2 / RFC 3986 §3.2.2: uri-host [":" port]. An empty value is allowed (for
    /// targets without an authority); whitespace, '@', '/' and the like are not.
    static func isValidHost(_ host: String) -> Bool {
        var host = host
        return host.withUTF8 { isValidHost(UnsafeRawBufferPointer($0)) }
    }

    static func isValidHost(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        let count = bytes.count
        if count > 0, bytes[0] == UInt8(ascii: "[") {
            index = 1
            while index < count, bytes[index] != UInt8(ascii: "]") {
                let byte = bytes[index]
                guard isHexDigit(byte) || byte == UInt8(ascii: ":") || byte == UInt8(ascii: ".") else { return false }
                index += 1
            }
            guard index < count, index > 1 else { return false }
            index += 1
            if index == count { return true }
            guard bytes[index] == UInt8(ascii: ":") else { return false }
        } else {
            while index < count, bytes[index] != UInt8(ascii: ":") {
                guard isRegNameChar(bytes[index]) else { return false }
                index += 1
            }
            if index == count { return true }
        }
        // ":" port, where port is *DIGIT (RFC 3986 §3.2.3).
        index += 1
        while index < count {
            guard isDigit(bytes[index]) else { return false }
            index += 1
        }
        return true
    }

    /// RFC 9112 §3.2: origin-form normally; absolute-form must be accepted; authority-form only
    /// with CONNECT; asterisk-form only with OPTIONS.
    private static func resolveTarget(_ target: String, method: HTTPRequest.Method, host: String?)
        throws(HTTPParseError) -> (authority: String?, path: String)
    {
        if target.utf8.first == UInt8(ascii: "/") {
            return (host, target)
        }
        if target == "*" {
            guard method == .options else { throw .bad("asterisk-form target with a method other than OPTIONS") }
            return (host, "*")
        }
        if method == .connect {
            guard isValidHost(target) else { throw .bad("invalid authority-form target") }
            return (target, "")
        }
        let lowered = target.lowercased()
        for scheme in ["http://", "https://"] where lowered.hasPrefix(scheme) {
            let rest = target.dropFirst(scheme.count)
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            let authority = String(rest[..<authorityEnd])
            guard !authority.isEmpty, isValidHost(authority) else { throw .bad("invalid absolute-form target") }
            var path = String(rest[authorityEnd...])
            if path.isEmpty || path.first == "?" { path = "/" + path }
            // RFC 9112 §3.2.2: the target's authority replaces Host.
            return (authority, path)
        }
        throw .bad("unsupported request-target form")
    }

    // MARK: - Character classes

    /// RFC 9110 §5.6.2: tchar.
    @inline(__always)
    static func isTokenChar(_ byte: UInt8) -> Bool {
        tokenTable[Int(byte)]
    }

    private static let tokenTable: [Bool] = (0..<256).map { value in
        let byte = UInt8(value)
        if isDigit(byte) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) { return true }
        return "!#$%&'*+-.^_`|~".utf8.contains(byte)
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }

    static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= 65 && byte <= 70) || (byte >= 97 && byte <= 102)
    }

    /// RFC 3986 reg-name: unreserved / pct-encoded / sub-delims.
    @inline(__always)
    private static func isRegNameChar(_ byte: UInt8) -> Bool {
        regNameTable[Int(byte)]
    }

    private static let regNameTable: [Bool] = (0..<256).map { value in
        let byte = UInt8(value)
        if isDigit(byte) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) { return true }
        return "-._~%!$&'()*+,;=".utf8.contains(byte)
    }

    /// ASCII case-insensitive comparison; `lowercase` must already be lower case.
    static func equalsIgnoringCase(_ text: Substring, _ lowercase: StaticString) -> Bool {
        let utf8 = text.utf8
        guard utf8.count == lowercase.utf8CodeUnitCount else { return false }
        var index = 0
        for byte in utf8 {
            let lower = byte >= 65 && byte <= 90 ? byte + 32 : byte
            if lower != lowercase.utf8Start[index] { return false }
            index += 1
        }
        return true
    }

    static func trimOWS(_ text: Substring) -> Substring {
        var text = text
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }

    private static func string(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }
}

/// What a request's header fields say about where it is going and how its body is framed, noted
/// field by field as the head is parsed, and checked once it is whole.
struct FramingFields {
    var hosts = 0
    var host: String? = nil
    var contentLength: Int? = nil
    var transferEncoding: [String] = []
    var sawTransferEncoding = false
    var connectionClose = false
    var connectionKeepAlive = false
    var expectsContinue = false

    @inline(__always)
    mutating func note(_ name: HTTPField.Name, _ value: String) throws(HTTPParseError) {
        switch name.canonicalName {
        case "host":
            hosts += 1
            host = value
        case "content-length":
            // RFC 9112 §6.3: identical repeats ("42, 42" or two lines) may be read as one;
            // anything else is unrecoverable framing.
            for element in value.split(separator: ",", omittingEmptySubsequences: false) {
                let length = try RequestParser.parseContentLength(RequestParser.trimOWS(element))
                if let earlier = contentLength, earlier != length {
                    throw .bad("differing Content-Length values")
                }
                contentLength = length
            }
        case "transfer-encoding":
            sawTransferEncoding = true
            for element in value.split(separator: ",", omittingEmptySubsequences: false) {
                let coding = RequestParser.trimOWS(element)
                let bare = coding.split(separator: ";", maxSplits: 1).first.map { RequestParser.trimOWS($0) } ?? ""
                guard !bare.isEmpty else { throw .bad("empty transfer coding") }
                transferEncoding.append(bare.lowercased())
            }
        case "connection":
            for token in value.split(separator: ",") {
                let token = RequestParser.trimOWS(token)
                if RequestParser.equalsIgnoringCase(token, "close") { connectionClose = true }
                if RequestParser.equalsIgnoringCase(token, "keep-alive") { connectionKeepAlive = true }
            }
        case "expect":
            // RFC 9110 §10.1.1: 100-continue is the only expectation defined; others → 417.
            if RequestParser.equalsIgnoringCase(value[...], "100-continue") {
                expectsContinue = true
            } else {
                throw HTTPParseError(.expectationFailed, "unsupported expectation")
            }
        default:
            break
        }
    }

    /// The Host and Transfer-Encoding rules, once every field is noted; whether the body is
    /// chunked.
    func check(version: HTTPVersion) throws(HTTPParseError) -> Bool {
        // RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host; a 1.0 one at most one.
        if version == .http1_1, hosts != 1 {
            throw .bad(hosts == 0 ? "missing Host header" : "more than one Host header")
        }
        if hosts > 1 { throw .bad("more than one Host header") }
        if let host, !RequestParser.isValidHost(host) { throw .bad("invalid Host header") }
        if sawTransferEncoding {
            // RFC 9112 §6.1: both framing headers may mean a smuggling attempt; reject and close.
            if contentLength != nil { throw .bad("both Transfer-Encoding and Content-Length") }
            // RFC 9112 §6.1: Transfer-Encoding in 1.0 is faulty framing.
            if version == .http1_0 { throw .bad("Transfer-Encoding in an HTTP/1.0 request") }
            // RFC 9112 §6.3: chunked must be the final coding of a request, and applied once.
            if let index = transferEncoding.firstIndex(of: "chunked"), index != transferEncoding.count - 1 {
                throw .bad("chunked is not the final transfer coding")
            }
            // RFC 9112 §6.1: a coding we do not understand → 501.
            if transferEncoding.contains(where: { $0 != "chunked" }) {
                throw HTTPParseError(.notImplemented, "unsupported transfer coding")
            }
            return true
        }
        return false
    }

    /// The body's framing: chunked, or the Content-Length's, within the target's `maxBody`.
    func framing(chunked: Bool, maxBody: Int) throws(HTTPParseError) -> BodyFraming {
        if chunked { return .chunked }
        if let contentLength {
            if contentLength > maxBody {
                throw HTTPParseError(.contentTooLarge, "body larger than \(maxBody) bytes")
            }
            return contentLength == 0 ? .none : .length(contentLength)
        }
        return .none
    }
}
