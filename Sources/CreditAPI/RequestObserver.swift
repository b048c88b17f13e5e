import CreditStore
import Foundation
import HTTPServer
import HTTPTypes
import Logging
import Synchronization
import Tracing

/// Request ids need to be unique, not secret: a random per-process prefix and a counter, with no
/// system call on the hot path.
enum RequestIDs {
    private static let prefix = "req_" + Identifier.make("x").dropFirst(2).prefix(10)
    private static let counter = Atomic<Int>(0)

    static func next() -> String {
        let value = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return prefix + "-" + String(value, radix: 32)
    }
}

enum RequestIDKey: RequestContextKey {
    typealias Value = String
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-Id")!
    static let clientRequestID = HTTPField.Name("X-Client-Request-Id")!
}

/// Gives every request the server's own id, which every answer carries in `X-Request-Id` and the
/// logger and the audit chain carry too, so a caller can ask which entries its request wrote
/// (`GET /v1/audit?request_id=`). A sane id of the caller's own (`X-Client-Request-Id`, or
/// `X-Request-Id` as callers commonly send it) is echoed in `X-Client-Request-Id` and logged
/// beside the server's, nowhere else (the audit chain can never be erased, so nothing a caller
/// chose goes into it). Records one JSON log line and the metrics. The path is logged as its route
/// pattern, so ids in URLs never reach the logs (README "Operations", "Request ids").
struct RequestObserver: Middleware {
    let metrics: ServiceMetrics

    func handle(_ request: Request, context: RequestContext,
                next: @Sendable (Request, RequestContext) async -> Response) async -> Response
    {
        let started = ContinuousClock.now
        let requestID = RequestIDs.next()
        let clientRequestID = Self.acceptable(request.headerFields[.clientRequestID] ?? request.headerFields[.requestID])
        var context = context
        context[RequestIDKey.self] = requestID
        context.logger[metadataKey: "request_id"] = .string(requestID)
        if let clientRequestID { context.logger[metadataKey: "client_request_id"] = .string(clientRequestID) }
        var response = Traces.enabled ? await Self.traced(request, context, next) : await next(request, context)
        response.headerFields[.requestID] = requestID
        if let clientRequestID { response.headerFields[.clientRequestID] = clientRequestID }
        let elapsed = ContinuousClock.now - started
        let route = context.routePattern ?? "unmatched"
        metrics.recordRequest(method: request.method.rawValue, route: route, status: response.status.code,
                              duration: elapsed)
        let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        context.logger.info("request", metadata: [
            "method": .string(request.method.rawValue),
            "route": .string(route),
            "status": .stringConvertible(response.status.code),
            "ms": .string(Self.milliseconds(micros)),
        ])
        return response
    }

    /// The request as a server span (README "Operations", "Traces"), continuing the caller's
    /// trace when it sent a `traceparent`. Its name and attributes are the method, the route
    /// pattern and the status: nothing of the path's ids, the body or the headers' values.
    static func traced(_ request: Request, _ context: RequestContext,
                       _ next: @Sendable (Request, RequestContext) async -> Response) async -> Response
    {
        var parent = ServiceContext.topLevel
        InstrumentationSystem.instrument.extract(request.headerFields, into: &parent, using: HeaderExtractor())
        let method = request.method.rawValue
        return await withSpan(method, context: parent, ofKind: .server) { span in
            let response = await next(request, context)
            let route = context.routePattern ?? "unmatched"
            span.operationName = method + " " + route
            span.attributes["http.request.method"] = method
            span.attributes["http.route"] = route
            span.attributes["http.response.status_code"] = response.status.code
            if response.status.code >= 500 { span.setStatus(SpanStatus(code: .error)) }
            return response
        }
    }

    struct HeaderExtractor: Extractor {
        func extract(key: String, from carrier: HTTPFields) -> String? {
            HTTPField.Name(key).flatMap { carrier[$0] }
        }
    }

    /// Microseconds as milliseconds with three decimals ("0.412"), without Foundation's formatter.
    static func milliseconds(_ micros: Int64) -> String {
        let fraction = String(micros % 1000)
        return "\(micros / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// A client's id is echoed only if it is short and plain, so it cannot forge log lines.
    static func acceptable(_ value: String?) -> String? {
        guard let value, (1...128).contains(value.utf8.count),
            value.utf8.allSatisfy({ byte in
                (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
                    || byte == UInt8(ascii: ":")
            })
        else { return nil }
        return value
    }
}
