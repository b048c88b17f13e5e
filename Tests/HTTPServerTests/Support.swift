#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HTTPServer
import HTTPTypes
import Logging
@_exported import TestSupport

/// Routes used by the server tests.
func testRouter() -> Router {
    var router = Router()
    router.get("/healthz") { _, _ in .json(Array(#"{"status":"ok"}"#.utf8)) }
    router.post("/echo") { request, _ in
        Response(status: .ok, headerFields: [.contentType: "application/octet-stream"], body: request.body)
    }
    router.get("/big") { _, _ in
        .json(Array(("[" + (0..<2000).map { "{\"n\":\($0)}" }.joined(separator: ",") + "]").utf8))
    }
    router.get("/slow") { request, _ in
        let millis = Int(request.queryParameters["ms"] ?? "300") ?? 300
        try await Task.sleep(for: .milliseconds(millis))
        return .json(Array(#"{"slow":true}"#.utf8))
    }
    router.get("/items/{id}") { _, context in
        .json(Array("{\"id\":\"\(try context.parameter("id"))\"}".utf8))
    }
    router.put("/items/{id}") { _, context in .json(Array("{\"put\":\"\(try context.parameter("id"))\"}".utf8)) }
    router.get("/items/special") { _, _ in .json(Array(#"{"special":true}"#.utf8)) }
    router.get("/fail") { _, _ in throw CancellationError() }
    router.get("/problem") { _, _ in
        throw Problem(status: .unprocessableContent, code: "invalid-field", detail: "amount must be positive",
                      field: "amount")
    }
    return router
}

/// Starts a server on an ephemeral port, runs `body`, and shuts the server down.
func withServer(
    router: Router = testRouter(), _ configure: (inout ServerConfiguration) -> Void = { _ in },
    _ body: (HTTPServer) async throws -> Void
) async throws {
    var configuration = ServerConfiguration()
    configuration.port = 0
    configuration.eventLoopThreads = 2
    configure(&configuration)
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    let server = HTTPServer(configuration: configuration, responder: router, logger: logger)
    try server.start()
    do {
        try await body(server)
    } catch {
        await server.shutdown()
        throw error
    }
    await server.shutdown()
}

let healthz = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"

/// After any attack the server must still answer a fresh client.
func stillServes(_ server: HTTPServer) throws -> Bool {
    let client = try RawClient(port: server.port)
    client.send(healthz)
    return client.read()?.status == 200
}

