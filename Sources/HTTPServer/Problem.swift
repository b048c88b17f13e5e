import Foundation
import HTTPTypes

/// An RFC 9457 problem: the one error type that knows its status, short `code` and how it is
/// written as `application/problem+json`. Layers above map their own errors to it in one place.
/// An error that knows its answer: status, code, detail and field, as a `Problem`. Every layer's
/// error type conforms (the API decides the status of the domain's errors); the router's catch
/// is the one place where any of them becomes an RFC 9457 response.
public protocol HTTPError: Error {
    var problem: Problem { get }
}

public struct Problem: HTTPError, Sendable, Equatable {
    public var status: HTTPResponse.Status
    /// Short machine-readable code (`invalid-field`); also the last part of `type`.
    public var code: String
    public var title: String
    public var detail: String
    /// The request field at fault, when there is one (RFC 9457 §3.2 extension member).
    public var field: String?
    /// Fields to add to the response (`Allow` on a 405, `Retry-After` on a 429).
    public var headerFields: HTTPFields

    public init(status: HTTPResponse.Status, code: String, title: String? = nil, detail: String,
                field: String? = nil, headerFields: HTTPFields = [:])
    {
        self.status = status
        self.code = code
        self.title = title ?? status.reasonPhrase
        self.detail = detail
        self.field = field
        self.headerFields = headerFields
    }

    /// RFC 9457 §3.1.1: `type` is a URI reference; a relative one resolves against the
    /// response's URI, so each code has a stable identifier under /problems/.
    public var type: String { "/problems/\(code)" }

    private struct Body: Encodable {
        var type: String
        var title: String
        var status: Int
        var detail: String
        var code: String
        var field: String?
    }

    /// One encoder for every problem: encoders keep no state between calls.
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public var response: Response {
        let body = Body(type: type, title: title, status: status.code, detail: detail, code: code, field: field)
        let bytes = (try? Self.encoder.encode(body)).map(Array.init) ?? Array(#"{"status":500}"#.utf8)
        var fields = headerFields
        fields[.contentType] = "application/problem+json"
        return Response(status: status, headerFields: fields, body: bytes)
    }

    public var problem: Problem { self }

    /// The answer for an error nothing above recognised: no internals leak to the client.
    public static let internalError = Problem(status: .internalServerError, code: .internalError,
                                              detail: "The server could not complete the request.")
}
