import CreditLine
import CreditStore
import Foundation
import HTTPServer
import HTTPTypes
import Synchronization

/// The Idempotency-Key of the request being handled, for `Call.perform` to store the answer with
/// the write.
enum IdempotencyContext: RequestContextKey {
    typealias Value = IdempotencyRecord
}

/// Requests running now, by (API key, Idempotency-Key). Only this process knows what it is
/// running; after a crash nothing is, and a retry replays the stored answer or runs afresh.
final class RequestsInFlight: Sendable {
    private let running = Mutex<Set<String>>([])

    /// False when a request with the same key is already running.
    func begin(_ record: IdempotencyRecord) -> Bool {
        running.withLock { $0.insert(record.apiKeyID + "\u{0}" + record.key).inserted }
    }

    func end(_ record: IdempotencyRecord) {
        _ = running.withLock { $0.remove(record.apiKeyID + "\u{0}" + record.key) }
    }
}

/// Idempotency-Key handling, as middleware around every authenticated POST and PUT: the handler
/// runs at most once per (API key, Idempotency-Key), and a retry replays the stored answer. The
/// answer itself is stored by the write, in its transaction (`Call.perform`).
struct IdempotencyMiddleware: Middleware {
    let store: Store
    let inFlight = RequestsInFlight()

    /// 1–255 visible ASCII characters (the IETF draft's bound).
    static func validKey(_ value: String) -> Bool {
        (1...255).contains(value.utf8.count) && value.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    /// Statuses whose answer is not kept, so the same key may be retried: a key or role that did
    /// not pass, validation failures, lost conflicts, rate limits and server errors. (Answers made
    /// before any write is attempted, a 404 for an id the key cannot see say, are not kept either:
    /// nothing was written, and a retry answers the same.)
    static func isSaved(_ status: Int) -> Bool {
        !(status == 401 || status == 403 || status == 409 || status == 412 || status == 422 || status == 429
            || status >= 500)
    }

    static func requestHash(_ request: Request) -> String {
        var bytes = Array("\(request.method.rawValue) \(request.target)\n".utf8)
        bytes.append(contentsOf: request.body)
        return Hashing.sha256Hex(Data(bytes))
    }

    func handle(_ request: Request, context: RequestContext,
                next: @Sendable (Request, RequestContext) async -> Response) async throws -> Response
    {
        guard context.isRouted, request.method == .post || request.method == .put,
            let idempotencyKey = request.headerFields[.idempotencyKey],
            let key = context[APIKeyContext.self]
        else { return await next(request, context) }
        guard Self.validKey(idempotencyKey) else {
            throw Problems.invalidField("Idempotency-Key", "Idempotency-Key must be 1–255 visible ASCII characters.")
        }
        let record = IdempotencyRecord(apiKeyID: key.id, key: idempotencyKey, requestSHA256: Self.requestHash(request))
        // Taken before the stored answer is read: a request that finishes in between has stored
        // its answer by the time this one looks.
        guard inFlight.begin(record) else {
            throw Problem(status: .conflict, code: .requestInProgress,
                          detail: "A request with this Idempotency-Key is still running; retry shortly.",
                          headerFields: [.retryAfter: "1"])
        }
        defer { inFlight.end(record) }
        switch try await store.storedIdempotency(record) {
        case .replay(let answer):
            var fields = HTTPFields()
            for (name, value) in answer.headers.sorted(by: { $0.key < $1.key }) {
                if let fieldName = HTTPField.Name(name) { fields[fieldName] = value }
            }
            fields[.idempotentReplayed] = "true"
            return Response(status: HTTPResponse.Status(code: answer.status), headerFields: fields, body: answer.body)
        case .reused:
            throw Problem(status: .unprocessableContent, code: .idempotencyKeyReused,
                          detail: "This Idempotency-Key was used for a different request.", field: "Idempotency-Key")
        case nil:
            var context = context
            context[IdempotencyContext.self] = record
            return await next(request, context)
        }
    }
}

/// `If-Match` on an account (RFC 9110 §13.1.1): a strong or weak ETag of the version, or `*`.
enum Preconditions {
    static func ifMatch(_ request: Request, accountID: String) throws -> AccountVersion? {
        guard let header = request.headerFields[.ifMatch] else { return nil }
        let value = header.trimmingCharacters(in: .whitespaces)
        if value == "*" { return AccountVersion(accountID: accountID, version: nil) }
        let tag = value.hasPrefix("W/") ? String(value.dropFirst(2)) : value
        // RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE.
        guard tag.utf8.count >= 2, tag.hasPrefix("\""), tag.hasSuffix("\""),
            tag.utf8.dropFirst().dropLast().allSatisfy({ $0 == 0x21 || ($0 >= 0x23 && $0 != 0x7F) })
        else {
            // Not an entity tag at all: bad input naming its field, not a stale version.
            throw DomainError.invalidField("If-Match", "If-Match must be * or an ETag of this account, such as \"3\".")
        }
        guard let version = Int(tag.dropFirst().dropLast()) else {
            // A well-formed tag we never issued can never match.
            throw DomainError(.staleVersion, code: .versionMismatch, "If-Match names no version of this account.")
        }
        return AccountVersion(accountID: accountID, version: version)
    }
}
