import HTTPTypes

/// The HTTP version of a request line. Only 1.0 and 1.1 are spoken here.
public struct HTTPVersion: Sendable, Hashable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)
    public var description: String { "HTTP/\(major).\(minor)" }
}

/// How the body of a request is delimited (RFC 9112 §6.3).
public enum BodyFraming: Sendable, Equatable {
    case none
    case length(Int)
    case chunked
}

/// A parsed request line and header section, before the body.
public struct RequestHead: Sendable {
    public var request: HTTPRequest
    public var version: HTTPVersion
    /// The raw request target's path and query (origin-form), percent-encoding intact.
    public var target: String
    public var framing: BodyFraming
    /// Whether the connection may carry another request after this one (RFC 9112 §9.3).
    public var keepAlive: Bool
    /// `Expect: 100-continue` (RFC 9110 §10.1.1).
    public var expectsContinue: Bool
    /// The most body this request may carry (the bulk cap on the paths that take uploads).
    public var maxBodyBytes: Int = 1 << 20
}

/// Why a request could not be parsed; each carries the status the client gets before the
/// connection is closed.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var reason: String

    public init(_ status: HTTPResponse.Status, _ reason: String) {
        self.status = status
        self.reason = reason
    }

    public var description: String { "\(status.code) \(reason)" }

    static func bad(_ reason: String) -> HTTPParseError { .init(.badRequest, reason) }
}

/// The limits the parser enforces; a subset of `ServerConfiguration`.
public struct ParserLimits: Sendable {
    public var maxRequestLineBytes: Int
    public var maxHeaderBytes: Int
    public var maxHeaderFields: Int
    public var maxBodyBytes: Int
    /// Paths (without query) whose requests are uploads and may carry up to `maxBulkBodyBytes`.
    public var bulkBodyPaths: Set<String> = []
    public var maxBulkBodyBytes: Int = 0

    public init(maxRequestLineBytes: Int = 8192, maxHeaderBytes: Int = 16384, maxHeaderFields: Int = 100,
                maxBodyBytes: Int = 1 << 20) {
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderFields = maxHeaderFields
        self.maxBodyBytes = maxBodyBytes
    }

    public init(_ configuration: ServerConfiguration) {
        self.init(maxRequestLineBytes: configuration.maxRequestLineBytes,
                  maxHeaderBytes: configuration.maxHeaderBytes,
                  maxHeaderFields: configuration.maxHeaderFields,
                  maxBodyBytes: configuration.maxBodyBytes)
        bulkBodyPaths = configuration.bulkBodyPaths
        maxBulkBodyBytes = configuration.maxBulkBodyBytes
    }

    /// The body cap for a request target: the bulk cap for an upload path, else the usual one.
    public func maxBody(forTarget target: String) -> Int {
        guard !bulkBodyPaths.isEmpty else { return maxBodyBytes }
        // The path before any query, without splitting the whole target into an array.
        let path = target.utf8.firstIndex(of: UInt8(ascii: "?")).map { String(target[..<$0]) } ?? target
        return bulkBodyPaths.contains(path) ? max(maxBodyBytes, maxBulkBodyBytes) : maxBodyBytes
    }
}
