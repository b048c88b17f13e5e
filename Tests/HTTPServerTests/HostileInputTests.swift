import Foundation
import Synchronization
import Testing
@testable import HTTPServer

/// Each hostile request, sent over a real socket, gets its status, then the connection closes,
/// and the server keeps serving.
@Suite struct HostileInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var raw: String
        var status: Int
        var testDescription: String { name }
    }

    static let longTarget = "/" + String(repeating: "a", count: 9000)
    static let bigHeader = (0..<40).map { "X-Pad-\($0): " + String(repeating: "v", count: 500) }.joined(separator: "\r\n")
    static let manyFields = (0..<101).map { "X-F\($0): 1" }.joined(separator: "\r\n")

    static let cases: [Case] = [
        // RFC 9112 §6.1: both framing headers.
        Case(name: "Content-Length with Transfer-Encoding",
             raw: "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400),
        Case(name: "Transfer-Encoding with Content-Length",
             raw: "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", status: 400),
        // RFC 9112 §6.3: invalid Content-Length.
        Case(name: "two differing Content-Length fields",
             raw: "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", status: 400),
        Case(name: "differing Content-Length list", raw: "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello!", status: 400),
        Case(name: "empty Content-Length", raw: "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", status: 400),
        Case(name: "signed Content-Length", raw: "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello", status: 400),
        Case(name: "negative zero Content-Length", raw: "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: -0\r\n\r\n", status: 400),
        Case(name: "hex Content-Length", raw: "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello", status: 400),
        Case(name: "overflowing Content-Length",
             raw: "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", status: 400),
        // RFC 9112 §5.1, §5.2.
        Case(name: "whitespace before colon", raw: "GET /healthz HTTP/1.1\r\nHost : a\r\n\r\n", status: 400),
        Case(name: "obs-fold", raw: "GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", status: 400),
        Case(name: "bare CR in a value", raw: "GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n", status: 400),
        Case(name: "bare LF line ending", raw: "GET /healthz HTTP/1.1\nHost: a\n\n", status: 400),
        Case(name: "NUL in a value", raw: "GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: b\u{0}c\r\n\r\n", status: 400),
        Case(name: "control character in a value", raw: "GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: b\u{1}c\r\n\r\n", status: 400),
        Case(name: "non-token field name", raw: "GET /healthz HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n", status: 400),
        Case(name: "empty field name", raw: "GET /healthz HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", status: 400),
        // RFC 9112 §7.1 chunked framing.
        Case(name: "malformed chunk size", raw: "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", status: 400),
        Case(name: "overflowing chunk size",
             raw: "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1FFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n", status: 400),
        Case(name: "junk after the chunk size",
             raw: "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 junk\r\nhello\r\n0\r\n\r\n", status: 400),
        Case(name: "whitespace after the chunk size",
             raw: "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 ;a=b\r\nhello\r\n0\r\n\r\n", status: 400),
        // Found by scripts/diff-h11: a request line after the last chunk was read as a trailer.
        Case(name: "a request line where a trailer field should be",
             raw: "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        Case(name: "a trailer name with a space",
             raw: "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer: x\r\n\r\n", status: 400),
        Case(name: "chunk size then a letter",
             raw: "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\tx\r\nhello\r\n0\r\n\r\n", status: 400),
        Case(name: "control byte in a chunk extension",
             raw: "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a\u{1}b\r\nhello\r\n0\r\n\r\n", status: 400),
        // RFC 9112 §2.2: answered at once, not after the header time-out.
        Case(name: "bare CR in a field line, no LF after", raw: "GET /echo HTTP/1.1\r\nHost: a\rX: y", status: 400),
        Case(name: "bare CR in the request line", raw: "GET /echo\rHTTP/1.1 HTTP/1.1\r\n", status: 400),
        Case(name: "chunk data without CRLF", raw: "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", status: 400),
        Case(name: "chunked not the final coding",
             raw: "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", status: 400),
        Case(name: "chunked twice", raw: "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", status: 400),
        Case(name: "unknown transfer coding", raw: "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", status: 501),
        Case(name: "Transfer-Encoding in HTTP/1.0", raw: "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400),
        // RFC 9112 §3.2: Host.
        Case(name: "missing Host", raw: "GET /healthz HTTP/1.1\r\n\r\n", status: 400),
        Case(name: "repeated Host", raw: "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", status: 400),
        Case(name: "invalid Host", raw: "GET /healthz HTTP/1.1\r\nHost: a b@c\r\n\r\n", status: 400),
        Case(name: "invalid Host port", raw: "GET /healthz HTTP/1.1\r\nHost: a:8x\r\n\r\n", status: 400),
        // RFC 9112 §3: request line.
        Case(name: "request line without version", raw: "GET /healthz\r\nHost: a\r\n\r\n", status: 400),
        Case(name: "double space in request line", raw: "GET  /healthz HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        Case(name: "trailing garbage in request line", raw: "GET /healthz HTTP/1.1 x\r\nHost: a\r\n\r\n", status: 400),
        Case(name: "lower-case protocol name", raw: "GET /healthz http/1.1\r\nHost: a\r\n\r\n", status: 400),
        Case(name: "non-token method", raw: "GE(T /healthz HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        Case(name: "asterisk target with GET", raw: "GET * HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        Case(name: "binary garbage", raw: "\u{16}\u{3}\u{1}\u{2}\u{0}\u{1}\u{0}\u{1}\u{fc}\r\n\r\n", status: 400),
        Case(name: "unknown HTTP major version", raw: "GET /healthz HTTP/2.0\r\nHost: a\r\n\r\n", status: 505),
        Case(name: "HTTP/0.9-style version", raw: "GET /healthz HTTP/0.9\r\nHost: a\r\n\r\n", status: 505),
        Case(name: "unsupported expectation", raw: "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\nContent-Length: 1\r\n\r\nx", status: 417),
        // Limits.
        Case(name: "request target over 8 KiB", raw: "GET \(longTarget) HTTP/1.1\r\nHost: a\r\n\r\n", status: 414),
        Case(name: "header section over 16 KiB", raw: "GET /healthz HTTP/1.1\r\nHost: a\r\n\(bigHeader)\r\n\r\n", status: 431),
        Case(name: "more than 100 fields", raw: "GET /healthz HTTP/1.1\r\nHost: a\r\n\(manyFields)\r\n\r\n", status: 431),
        Case(name: "body over 1 MiB", raw: "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n", status: 413),
        Case(name: "chunked body over 1 MiB",
             raw: "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\n", status: 413),
    ]

    @Test(arguments: cases)
    func refusedWithStatusThenClosed(_ testCase: Case) async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port)
            client.send(testCase.raw)
            let reply = try #require(client.read())
            #expect(reply.status == testCase.status)
            #expect(reply.header("Content-Type") == "application/problem+json")
            #expect(reply.header("Connection") == "close")
            #expect(reply.json["status"] as? Int == testCase.status)
            #expect(client.isClosedByPeer())
            #expect(try stillServes(server))
        }
    }

    @Test func identicalRepeatedContentLengthIsOneLength() async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port)
            client.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\nhello")
            let reply = try #require(client.read())
            #expect(reply.status == 200)
            #expect(reply.text == "hello")
        }
    }

    @Test func bodyShorterThanContentLengthIsNeverHandled() async throws {
        let handled = HandledCounter()
        var router = testRouter()
        router.post("/count") { _, _ in
            handled.increment()
            return Response(status: .noContent)
        }
        try await withServer(router: router) { server in
            let client = try RawClient(port: server.port)
            client.send("POST /count HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nshort")
            client.shutdownWrite()
            #expect(client.read() == nil)
            #expect(try stillServes(server))
            #expect(handled.value == 0)
        }
    }

    /// RFC 9112 §9.6: a client that half-closes after pipelining gets every complete request
    /// answered, the last with Connection: close; a trailing incomplete one is never handed on.
    @Test func halfCloseAfterPipelinedRequestsAnswersThemAll() async throws {
        let handled = HandledCounter()
        var router = testRouter()
        router.post("/count") { _, _ in
            handled.increment()
            return Response(status: .noContent)
        }
        try await withServer(router: router) { server in
            let client = try RawClient(port: server.port)
            let one = "POST /count HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok"
            client.send(one + one + one + "POST /count HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nshort")
            client.shutdownWrite()
            for index in 0..<3 {
                let reply = try #require(client.read(), "answer \(index)")
                #expect(reply.status == 204)
            }
            #expect(client.read() == nil)
            #expect(handled.value == 3)
            #expect(try stillServes(server))
        }
    }

    @Test func slowHeaderGets408ThenClose() async throws {
        try await withServer({ $0.headerReadTimeout = .milliseconds(200) }) { server in
            let client = try RawClient(port: server.port)
            client.send("GET /healthz HTTP/1.1\r\nHost: a\r\n")  // never finished
            let started = ContinuousClock.now
            let reply = try #require(client.read())
            #expect(reply.status == 408)
            #expect(ContinuousClock.now - started < .seconds(3))
            #expect(client.isClosedByPeer())
            #expect(try stillServes(server))
        }
    }

    @Test func slowBodyGets408ThenClose() async throws {
        try await withServer({ $0.bodyReadTimeout = .milliseconds(200) }) { server in
            let client = try RawClient(port: server.port)
            client.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
            let reply = try #require(client.read())
            #expect(reply.status == 408)
            #expect(client.isClosedByPeer())
        }
    }

    @Test func idleKeepAliveConnectionIsClosed() async throws {
        try await withServer({ $0.idleTimeout = .milliseconds(200) }) { server in
            let client = try RawClient(port: server.port)
            client.send(healthz)
            #expect(client.read()?.status == 200)
            let started = ContinuousClock.now
            #expect(client.isClosedByPeer())
            #expect(ContinuousClock.now - started < .seconds(3))
            #expect(await eventually { server.openConnections == 0 })
        }
    }

    @Test func connectionsAboveTheCapGet503() async throws {
        try await withServer({ $0.maxConnections = 4 }) { server in
            let held = try (0..<4).map { _ in try RawClient(port: server.port) }
            for client in held {
                client.send(healthz)
                #expect(client.read()?.status == 200)
            }
            let extra = try RawClient(port: server.port)
            let reply = try #require(extra.read())
            #expect(reply.status == 503)
            #expect(reply.header("Retry-After") == "1")
            #expect(extra.isClosedByPeer())
            // The held connections are unaffected.
            held[0].send(healthz)
            #expect(held[0].read()?.status == 200)
        }
    }

    @Test func trickledHeaderOneByteAtATimeStillParses() async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port)
            for byte in Array(healthz.utf8) {
                client.send([byte])
            }
            #expect(client.read()?.status == 200)
        }
    }
}

final class HandledCounter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
