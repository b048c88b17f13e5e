import Foundation
import HTTPServer

// Our HTTP server with exactly the peers' two endpoints (the benchmark peers' endpoints, README "Benchmark": GET /healthz and
// POST /echo), so scripts/bench-http compares servers, not applications.
struct Echo: Codable { var customer: String; var amount: Int; var tags: [String] }

let port = Int(CommandLine.arguments.dropFirst().first ?? "8084") ?? 8084
var configuration = ServerConfiguration()
configuration.port = port
var router = Router()
router.get("/healthz") { _, _ in .json(Array(#"{"status":"ok"}"#.utf8)) }
router.post("/echo") { request, _ in
    let echo = try JSONDecoder().decode(Echo.self, from: request.bodyData)
    return try .json(encoding: echo)
}
let server = HTTPServer(configuration: configuration, responder: router)
try server.start()
await server.waitUntilStopped()
