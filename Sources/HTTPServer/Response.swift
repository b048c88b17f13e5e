import Foundation
import HTTPTypes

/// A complete response: status, fields and body bytes. The server adds framing fields
/// (`Date`, `Content-Length`, `Connection`) itself.
public struct Response: Sendable {
    public var status: HTTPResponse.Status
    public var headerFields: HTTPFields
    public var body: [UInt8]
    /// A body produced while it is sent (chunked, RFC 9112 §7.1), for answers of any length in
    /// bounded memory. When set, `body` is ignored.
    public var stream: BodyStream?

    public init(status: HTTPResponse.Status = .ok, headerFields: HTTPFields = [:], body: [UInt8] = []) {
        self.status = status
        self.headerFields = headerFields
        self.body = body
    }

    /// A streamed body with its content type.
    public static func streaming(contentType: String, status: HTTPResponse.Status = .ok,
                                 _ produce: @escaping @Sendable (BodyWriter) async throws -> Void) -> Response
    {
        var response = Response(status: status, headerFields: [.contentType: contentType])
        response.stream = BodyStream(produce: produce)
        return response
    }

    /// A JSON body with its content type.
    public static func json(_ body: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headerFields: [.contentType: "application/json"], body: body)
    }

    private static let sharedEncoder = JSONEncoder()

    /// Encodes a value as JSON. (A distinct label: `[UInt8]` is itself Encodable, and one
    /// overload silently calling the other would encode the bytes as an array of numbers.)
    public static func json<Value: Encodable>(encoding value: Value, status: HTTPResponse.Status = .ok,
                                             encoder: JSONEncoder? = nil) throws -> Response
    {
        let bytes: [UInt8] = Array(try (encoder ?? Self.sharedEncoder).encode(value))
        return Response(status: status, headerFields: [.contentType: "application/json"], body: bytes)
    }

    public static func text(_ text: String, status: HTTPResponse.Status = .ok,
                            contentType: String = "text/plain; charset=utf-8") -> Response
    {
        Response(status: status, headerFields: [.contentType: contentType], body: Array(text.utf8))
    }
}

/// Produces a streamed body by calling `write` as parts become ready.
public struct BodyStream: Sendable {
    public let produce: @Sendable (BodyWriter) async throws -> Void
}

/// Sends parts of a streamed body. `write` returns once the part is queued and the connection's
/// unsent bytes are under its high-water mark, so a slow client slows the producer instead of
/// growing memory; it throws once the client has gone.
public protocol BodyWriter: Sendable {
    func write(_ bytes: [UInt8]) async throws
}
