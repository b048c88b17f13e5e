import CreditLine
import CreditStore
import HTTPServer
import HTTPTypes

/// The API key a request authenticated with, when it sent a valid one.
enum APIKeyContext: RequestContextKey {
    typealias Value = APIKey
}

/// The request's time, read once when it arrived: what a handler validates and what the store
/// records carry the same instant.
enum RequestTime: RequestContextKey {
    typealias Value = Timestamp
}

/// What an authorized handler is given besides the request: who calls, and when.
struct Call: Sendable {
    let key: APIKey
    let now: Timestamp
    /// The key and the request id, as the audit log names them.
    let actor: Actor
    let store: Store
    /// The Idempotency-Key the request carries, if any.
    let idempotency: IdempotencyRecord?

    /// Which tenants' accounts this call sees.
    var scope: TenantScope { key.scope }

    /// Runs a business write and builds its answer inside the same transaction, so that with an
    /// Idempotency-Key the answer a retry replays commits with the change: one request, one
    /// commit (docs/architecture.md, "The write path").
    func perform<W: BusinessWrite>(_ write: W, ifMatch: AccountVersion? = nil,
                                   respond: @escaping @Sendable (W.Output) throws -> Response) async throws -> Response
    {
        try await store.perform(write, by: actor, at: now, ifMatch: ifMatch, idempotency: idempotency) { output in
            let response = try respond(output)
            guard IdempotencyMiddleware.isSaved(response.status.code), response.stream == nil else { return (response, nil) }
            var headers: [String: String] = [:]
            for field in response.headerFields { headers[field.name.canonicalName] = field.value }
            return (response, StoredAnswer(status: response.status.code, headers: headers, body: response.body))
        }
    }
}

/// What the first path parameter of a route names, so that every route under `/v1/accounts/{id}`,
/// `/v1/consents/{id}`, `/v1/decisions/{id}` and `/v1/reviews/{id}` is checked against the key's
/// tenant in one place, before its handler runs. Tenants never change and nothing is deleted, so
/// the check holds for the write that follows.
enum RouteSubject {
    static let prefixes: [(prefix: String, subject: Store.Subject)] = [
        ("/v1/accounts/{id}", .account), ("/v1/consents/{id}", .consent), ("/v1/decisions/{id}", .decision),
        ("/v1/reviews/{id}", .review), ("/v1/notices/{id}", .notice), ("/v1/events/{id}", .event),
        ("/v1/webhook-endpoints/{id}", .webhookEndpoint), ("/v1/hardship-requests/{id}", .hardshipRequest),
        ("/v1/bureau-disputes/{id}", .bureauDispute),
    ]

    static func of(_ pattern: String?) -> Store.Subject? {
        guard let pattern else { return nil }
        return prefixes.first { pattern == $0.prefix || pattern.hasPrefix($0.prefix + "/") }?.subject
    }
}

/// Reads the clock once and resolves the bearer token (RFC 6750 §2.1) to a key. It refuses
/// nothing: public routes ignore the key, and `Application.authorized` answers 401 or 403.
struct Authentication: Middleware {
    let store: Store

    func handle(_ request: Request, context: RequestContext,
                next: @Sendable (Request, RequestContext) async -> Response) async throws -> Response
    {
        var context = context
        context[RequestTime.self] = store.time.now()
        if context.isRouted, let header = request.headerFields[.authorization], let token = Self.bearerToken(header),
            let key = try await store.authenticate(token: token)
        {
            context[APIKeyContext.self] = key
            context.logger[metadataKey: "key_id"] = .string(key.id)
        }
        return await next(request, context)
    }

    /// RFC 6750 §2.1: `Bearer` (case-insensitive scheme), one space, the token.
    static func bearerToken(_ header: String) -> String? {
        // RFC 9110 §11.1: the scheme is case-insensitive; compared byte by byte, without a
        // lowercased copy on every request.
        let bytes = Array(header.utf8)
        let scheme = Array("bearer ".utf8)
        guard bytes.count > scheme.count,
            zip(bytes, scheme).allSatisfy({ $0 | 0x20 == $1 })
        else { return nil }
        // Optional whitespace around the token (spaces and tabs, RFC 9110 §5.6.3) is not part of it.
        var rest = bytes[scheme.count...]
        while let first = rest.first, first == 0x20 || first == 0x09 { rest = rest.dropFirst() }
        while let last = rest.last, last == 0x20 || last == 0x09 { rest = rest.dropLast() }
        return rest.isEmpty ? nil : String(decoding: rest, as: UTF8.self)
    }
}

/// Per-key rate limits, before any work (and before an idempotent replay, which costs a write).
struct RateLimiting: Middleware {
    let limiter: RateLimiter

    func handle(_ request: Request, context: RequestContext,
                next: @Sendable (Request, RequestContext) async -> Response) async throws -> Response
    {
        if let key = context[APIKeyContext.self], let retryAfter = limiter.take(keyID: key.id, role: key.role) {
            throw Problem(status: .tooManyRequests, code: .rateLimited,
                          detail: "Too many requests for this key; retry after \(retryAfter) s.",
                          headerFields: [.retryAfter: String(retryAfter)])
        }
        return await next(request, context)
    }
}
