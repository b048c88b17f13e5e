import HTTPTypes

/// The problem codes the HTTP server answers by itself, before or instead of the responder: a
/// closed list, so that an application can state every code its API may answer (README "The HTTP
/// server").
public enum ServerProblemCode: String, CaseIterable, Sendable {
    case requestTimeout = "request-timeout"
    case contentTooLarge = "content-too-large"
    case uriTooLong = "uri-too-long"
    case expectationFailed = "expectation-failed"
    case headerFieldsTooLarge = "header-fields-too-large"
    case overloaded
    case notImplemented = "not-implemented"
    case httpVersionNotSupported = "http-version-not-supported"
    case malformedRequest = "malformed-request"
    case tooManyConnections = "too-many-connections"
    case internalError = "internal-error"
    case notFound = "not-found"
    case methodNotAllowed = "method-not-allowed"
}

extension Problem {
    public init(status: HTTPResponse.Status, code: ServerProblemCode, title: String? = nil, detail: String,
                field: String? = nil, headerFields: HTTPFields = [:])
    {
        self.init(status: status, code: code.rawValue, title: title, detail: detail, field: field, headerFields: headerFields)
    }
}
