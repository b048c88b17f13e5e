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

    /// Encodes a value as JSON.
    public static func json<Value: Encodable>(_ value: Value, status: HTTPResponse.Status = .ok,
                                             encoder: JSONEncoder = JSONEncoder()) throws -> Response
    {
        try .json(Array(encoder.encode(value)), status: status)
    }

    public static func text(_ text: String, status: HTTPResponse.Status = .ok,
                            contentType: String = "text/plain; charset=utf-8") -> Response
    {
        Response(status: status, headerFields: [.contentType: contentType], body: Array(text.utf8))
    }
}
