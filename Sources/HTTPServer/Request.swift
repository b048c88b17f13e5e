import Foundation
import HTTPTypes
import Logging

/// A complete request as handed to a handler: head, whole body, and what routing found.
public struct Request: Sendable {
    public var head: HTTPRequest
    public var version: HTTPVersion
    /// Path and query as received (percent-encoding intact).
    public var target: String
    public var body: [UInt8]
    /// An admitted upload's body, spooled to disk as it arrived (`body` is then empty).
    public var spooled: SpooledBody?
    /// The address the connection came from (`203.0.113.7`, `2001:db8::1`), for limits per
    /// client; nil when it cannot be read. Behind a proxy it is the proxy's.
    public var remoteAddress: String?

    public init(head: HTTPRequest, version: HTTPVersion = .http1_1, target: String, body: [UInt8] = []) {
        self.head = head
        self.version = version
        self.target = target
        self.body = body
    }

    public var method: HTTPRequest.Method { head.method }
    public var headerFields: HTTPFields { head.headerFields }

    /// The path without the query, still percent-encoded.
    public var path: Substring {
        guard let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return target[...] }
        return target[..<mark]
    }

    /// The raw query string after `?`, if any.
    public var query: Substring? {
        target.utf8.firstIndex(of: UInt8(ascii: "?")).map { target[target.utf8.index(after: $0)...] }
    }

    /// Query parameters, percent- and plus-decoded; the first value of a repeated name wins.
    public var queryParameters: [String: String] {
        var result: [String: String] = [:]
        guard let query else { return result }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decodeQueryComponent(parts[0])
            let value = parts.count > 1 ? Self.decodeQueryComponent(parts[1]) : ""
            if let name, let value, result[name] == nil { result[name] = value }
        }
        return result
    }

    public var bodyData: Data { Data(body) }

    /// The body whichever way it arrived: mapped from its spool file, or copied from memory.
    public func wholeBody() throws -> Data {
        if let spooled { return try spooled.mappedData() }
        return Data(body)
    }

    private static func decodeQueryComponent(_ text: Substring) -> String? {
        String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}

/// What routing and middleware know about a request: path parameters, a logger carrying the
/// request id, and typed values that middleware (authentication, say) leave for handlers.
public struct RequestContext: Sendable {
    public var parameters: [String: String] = [:]
    public var logger: Logger
    /// The route pattern that matched (`/v1/accounts/{id}`), for logs and metrics without ids.
    public var routePattern: String?
    /// True when a route answers this method at this path (not a 404 or a 405).
    public var isRouted = false
    private var values: [ObjectIdentifier: any Sendable] = [:]

    public init(logger: Logger) {
        self.logger = logger
    }

    public subscript<Key: RequestContextKey>(_ key: Key.Type) -> Key.Value? {
        get { values[ObjectIdentifier(key)] as? Key.Value }
        set { values[ObjectIdentifier(key)] = newValue }
    }

    /// The decoded path parameter, or a 404 naming it when absent (a route bug, not user input).
    public func parameter(_ name: String) throws -> String {
        guard let value = parameters[name] else {
            throw Problem(status: .notFound, code: .notFound, detail: "missing path parameter \(name)")
        }
        return value
    }
}

/// A typed slot in `RequestContext`.
public protocol RequestContextKey {
    associatedtype Value: Sendable
}
