import Foundation
import HTTPTypes

/// A complete response: status, fields and body bytes. The server adds framing fields
/// (`Date`, `Content-Length`, `Connection`) itself.
public struct Response: Sendable {
    public var status: HTTPResponse.Status
    public var headerFields: HTTPFields
    public var body: [UInt8]

    public init(status: HTTPResponse.Status = .ok, headerFields: HTTPFields = [:], body: [UInt8] = []) {
        self.status = status
        self.headerFields = headerFields
        self.body = body
    }

    /// A JSON body with its content type.
    public static func json(_ body: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headerFields: [.contentType: "application/json"], body: body)
    }

    /// Encodes a value as JSON. (A distinct label: `[UInt8]` is itself Encodable, and one
    /// overload silently calling the other would encode the bytes as an array of numbers.)
    public static func json<Value: Encodable>(encoding value: Value, status: HTTPResponse.Status = .ok,
                                             encoder: JSONEncoder = JSONEncoder()) throws -> Response
    {
        let bytes: [UInt8] = Array(try encoder.encode(value))
        return Response(status: status, headerFields: [.contentType: "application/json"], body: bytes)
    }

    public static func text(_ text: String, status: HTTPResponse.Status = .ok,
                            contentType: String = "text/plain; charset=utf-8") -> Response
    {
        Response(status: status, headerFields: [.contentType: contentType], body: Array(text.utf8))
    }
}
