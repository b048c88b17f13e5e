import HTTPTypes
import Logging

public typealias Handler = @Sendable (Request, RequestContext) async throws -> Response

/// Wraps every request, routed or not (404s and 405s pass through middleware too). `next` never
/// throws: errors below a middleware reach it already turned into problem responses by the
/// router's one catch, and what a middleware throws goes through that same catch.
public protocol Middleware: Sendable {
    func handle(_ request: Request, context: RequestContext,
                next: @Sendable (Request, RequestContext) async -> Response) async throws -> Response
}

/// Anything that turns a request into a response; the server calls only this.
public protocol HTTPResponder: Sendable {
    func respond(to request: Request, context: RequestContext) async -> Response
    /// Asked before any of the body of a request that may carry more than `maxBodyBytes` (an
    /// upload path) is read: whether to take it, and how. `request.body` is empty.
    func admit(_ request: Request, context: RequestContext) async -> BodyAdmission
}

extension HTTPResponder {
    public func admit(_ request: Request, context: RequestContext) async -> BodyAdmission { .buffer }
}

/// What an upload route decides from the head alone.
public enum UploadDecision: Sendable {
    /// Take the body, spooled to a file (`Request.spooled`).
    case spool
    /// Refuse it: the route answers the head without a body (its 401 or 403, through the same
    /// middleware as every answer), and the body is never read.
    case refuse
}

/// Decides, from the head alone, whether an upload route takes a body.
public typealias Admission = @Sendable (Request, RequestContext) async -> UploadDecision

/// Method + path-pattern routing (`/v1/accounts/{id}/scores`), built before the server starts and
/// immutable after. Literal segments win over parameters at the same depth.
public struct Router: Sendable, HTTPResponder {
    private struct Route: Sendable {
        var pattern: String
        var handler: Handler
        var admission: Admission?
    }

    private struct Node: Sendable {
        var literals: [Substring: Node] = [:]
        var parameter: [Node] = []  // zero or one element: a struct cannot hold itself directly
        var parameterName: String?
        var routes: [HTTPRequest.Method: Route] = [:]
    }

    private var root = Node()
    private var middleware: [any Middleware] = []

    public init() {}

    public mutating func add(middleware: some Middleware) {
        self.middleware.append(middleware)
    }

    public mutating func on(_ method: HTTPRequest.Method, _ pattern: String, admission: Admission? = nil,
                            handler: @escaping Handler)
    {
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        Self.insert(Route(pattern: pattern, handler: handler, admission: admission), method: method,
                    segments: segments[...], into: &root)
    }

    /// The route's own admission for an upload; a route without one has its body buffered, and a
    /// path no route answers is answered as `respond` would (404, 405) without reading the body.
    public func admit(_ request: Request, context: RequestContext) async -> BodyAdmission {
        var parameters: [String: String] = [:]
        guard let node = match(request.path, parameters: &parameters), let route = node.routes[request.method] else {
            return .answer(await respond(to: request, context: context))
        }
        guard let admission = route.admission else { return .buffer }
        switch await admission(request, Self.routed(context, route, parameters)) {
        case .spool: return .spool
        case .refuse: return .answer(await respond(to: request, context: context))
        }
    }

    /// Every (method, pattern) registered, for checking a published description against them.
    public var routes: [(method: String, pattern: String)] {
        var found: [(String, String)] = []
        func visit(_ node: Node) {
            for (method, route) in node.routes { found.append((method.rawValue, route.pattern)) }
            node.literals.values.forEach(visit)
            node.parameter.forEach(visit)
        }
        visit(root)
        return found.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
    }

    public mutating func get(_ pattern: String, handler: @escaping Handler) { on(.get, pattern, handler: handler) }
    public mutating func post(_ pattern: String, admission: Admission? = nil, handler: @escaping Handler) {
        on(.post, pattern, admission: admission, handler: handler)
    }
    public mutating func put(_ pattern: String, handler: @escaping Handler) { on(.put, pattern, handler: handler) }
    public mutating func delete(_ pattern: String, handler: @escaping Handler) { on(.delete, pattern, handler: handler) }

    private static func insert(_ route: Route, method: HTTPRequest.Method, segments: ArraySlice<Substring>,
                               into node: inout Node)
    {
        guard let segment = segments.first else {
            precondition(node.routes[method] == nil, "duplicate route \(method) \(route.pattern)")
            node.routes[method] = route
            return
        }
        let rest = segments.dropFirst()
        if segment.hasPrefix("{"), segment.hasSuffix("}") {
            let name = String(segment.dropFirst().dropLast())
            precondition(node.parameterName == nil || node.parameterName == name,
                         "conflicting parameter names at \(route.pattern)")
            node.parameterName = name
            if node.parameter.isEmpty { node.parameter.append(Node()) }
            insert(route, method: method, segments: rest, into: &node.parameter[0])
        } else {
            insert(route, method: method, segments: rest, into: &node.literals[segment, default: Node()])
        }
    }

    /// Finds the node for a path, collecting decoded parameter values.
    private func match(_ path: Substring, parameters: inout [String: String]) -> Node? {
        let utf8 = path.utf8
        guard utf8.first == UInt8(ascii: "/") else { return nil }
        var node = root
        var segmentStart = utf8.index(after: utf8.startIndex)
        while true {
            let segmentEnd = utf8[segmentStart...].firstIndex(of: UInt8(ascii: "/")) ?? utf8.endIndex
            let segment = path[segmentStart..<segmentEnd]
            if let next = node.literals[segment] {
                node = next
            } else if let next = node.parameter.first, let name = node.parameterName, !segment.isEmpty,
                let value = segment.utf8.contains(UInt8(ascii: "%")) ? segment.removingPercentEncoding : String(segment)
            {
                parameters[name] = value
                node = next
            } else {
                return nil
            }
            if segmentEnd == utf8.endIndex { return node }
            segmentStart = utf8.index(after: segmentEnd)
        }
    }

    /// The context of a request that reached `route`.
    private static func routed(_ context: RequestContext, _ route: Route, _ parameters: [String: String]) -> RequestContext {
        var context = context
        context.parameters = parameters
        context.routePattern = route.pattern
        context.isRouted = true
        return context
    }

    public func respond(to request: Request, context: RequestContext) async -> Response {
        var context = context
        var parameters: [String: String] = [:]
        let endpoint: Handler
        if let node = match(request.path, parameters: &parameters), !node.routes.isEmpty {
            // RFC 9110 §9.3.2: HEAD is GET without the body; the connection drops the body.
            if let route = node.routes[request.method] ?? (request.method == .head ? node.routes[.get] : nil) {
                context = Self.routed(context, route, parameters)
                endpoint = route.handler
            } else {
                var methods = Set(node.routes.keys.map(\.rawValue))
                if methods.contains("GET") { methods.insert("HEAD") }
                let allow = methods.sorted().joined(separator: ", ")
                context.routePattern = node.routes.values.first?.pattern
                endpoint = { _, _ in
                    // RFC 9110 §15.5.6: a 405 lists the supported methods in Allow.
                    throw Problem(status: .methodNotAllowed, code: .methodNotAllowed,
                                  detail: "\(request.method) is not allowed here; allowed: \(allow).",
                                  headerFields: [.allow: allow])
                }
            }
        } else {
            endpoint = { _, _ in
                throw Problem(status: .notFound, code: .notFound, detail: "No resource at this path.")
            }
        }
        var chain: @Sendable (Request, RequestContext) async -> Response = { request, context in
            await Self.run(endpoint, request, context)
        }
        for layer in middleware.reversed() {
            let next = chain
            chain = { request, context in
                await Self.run({ request, context in try await layer.handle(request, context: context, next: next) },
                               request, context)
            }
        }
        return await chain(request, context)
    }

    /// The one place where a thrown error becomes a response.
    private static func run(_ handler: Handler, _ request: Request, _ context: RequestContext) async -> Response {
        do {
            return try await handler(request, context)
        } catch let error as any HTTPError {
            let problem = error.problem
            if problem.status.kind == .serverError {
                // The error's own description names what failed (a table and row id, never
                // request text); the client gets only the problem.
                context.logger.error("server error", metadata: ["error": "\(error)", "code": .string(problem.code)])
            }
            return problem.response
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            return Problem.internalError.response
        }
    }
}
