import Foundation
import HTTPServer

// Our HTTP server with exactly the peers' two endpoints (the benchmark peers' endpoints, README "Benchmark": GET /healthz and
// POST /echo), so scripts/bench compares servers, not applications.
//   http-server-peer [--framing] [PORT] [LOOPS]     (LOOPS: event loops, default one per core)
struct Echo: Codable { var customer: String; var amount: Int; var tags: [String] }

/// `--framing PORT`: answers every request with how this server read it (method, target, body
/// length and SHA-256 as hex), for scripts/diff-h11 to compare with another parser's reading.
struct FramingEcho: HTTPResponder {
    func respond(to request: Request, context: RequestContext) async -> Response {
        let digest = request.body.reduce(into: FNV()) { $0.add($1) }
        let body = #"{"method":"\#(request.method.rawValue)","target":"\#(escape(request.target))","#
            + #""body_length":\#(request.body.count),"body_fnv":"\#(String(digest.value, radix: 16))"}"#
        return .json(Array(body.utf8))
    }

    private func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar == "\"" || scalar == "\\" || scalar.value < 0x20 || scalar.value > 0x7E {
                out += String(format: "\\u%04x", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// FNV-1a, 64 bits: enough to tell two bodies apart here, without a crypto dependency.
struct FNV {
    var value: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x100_0000_01b3
    }
}

var arguments = Array(CommandLine.arguments.dropFirst())
let framing = arguments.first == "--framing"
if framing { arguments.removeFirst() }
let port = Int(arguments.first ?? "8084") ?? 8084
var configuration = ServerConfiguration()
configuration.port = port
if arguments.count > 1, let loops = Int(arguments[1]), loops > 0 { configuration.eventLoopThreads = loops }
if framing {
    let server = HTTPServer(configuration: configuration, responder: FramingEcho())
    try server.start()
    await server.waitUntilStopped()
}
var router = Router()
router.get("/healthz") { _, _ in .json(Array(#"{"status":"ok"}"#.utf8)) }
router.post("/echo") { request, _ in
    let echo = try JSONDecoder().decode(Echo.self, from: request.bodyData)
    return try .json(encoding: echo)
}
let server = HTTPServer(configuration: configuration, responder: router)
try server.start()
await server.waitUntilStopped()
