import CreditLine
import CreditStore
import HTTPServer
import HTTPTypes

/// The domain names its refusals; the API alone chooses their HTTP status.
extension DomainError: HTTPError {
    public var problem: Problem {
        let status: HTTPResponse.Status
        switch kind {
        case .invalid: status = .unprocessableContent
        case .conflict: status = .conflict
        case .notFound: status = .notFound
        case .staleVersion: status = .preconditionFailed
        case .gone: status = .gone
        }
        return Problem(status: status, code: code, detail: message, field: field)
    }
}

/// A store failure is the server's fault: 500 for the client, the table, column and row id in the
/// log (the router's catch logs the error's description for every 5xx). A storage fault (disk
/// full, read-only, locked) is 503 with `Retry-After`: nothing was written, and the same request
/// may succeed later.
extension StoreError: HTTPError {
    public var problem: Problem {
        if case .overloaded = self {
            return Problem(status: .serviceUnavailable, code: ProblemCode.overloaded,
                           detail: "Too many writes are waiting; nothing was changed. Retry shortly.",
                           headerFields: [.retryAfter: "1"])
        }
        guard case .storageUnavailable(let fault) = self else { return .internalError }
        return Problem(status: .serviceUnavailable, code: .storageUnavailable,
                       detail: "The database cannot take this request now (\(fault.rawValue)); nothing was changed. Retry later.",
                       headerFields: [.retryAfter: String(fault.retryAfterSeconds)])
    }
}
