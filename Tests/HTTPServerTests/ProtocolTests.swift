import Foundation
import HTTPTypes
import Testing
@testable import HTTPServer

@Suite struct ProtocolTests {
    @Test func keepAliveIsTheDefaultInHTTP11() async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port)
            for _ in 0..<3 {
                client.send(healthz)
                let reply = try #require(client.read())
                #expect(reply.status == 200)
                #expect(reply.text == #"{"status":"ok"}"#)
                #expect(reply.header("Content-Length") == "15")
                #expect(reply.header("Date")?.hasSuffix(" GMT") == true)
                #expect(reply.header("Connection") == "keep-alive")
                #expect(reply.header("Server") == nil)
            }
        }
    }

    @Test func http10ClosesUnlessKeepAliveIsAsked() async throws {
        try await withServer { server in
            let plain = try RawClient(port: server.port)
            plain.send("GET /healthz HTTP/1.0\r\n\r\n")
            let reply = try #require(plain.read())
            #expect(reply.status == 200)
            #expect(reply.header("Connection") == "close")
            #expect(plain.isClosedByPeer())

            let kept = try RawClient(port: server.port)
            for _ in 0..<2 {
                kept.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                let reply = try #require(kept.read())
                #expect(reply.header("Connection") == "keep-alive")
            }
        }
    }

    @Test func connectionCloseIsHonoured() async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port)
            client.send("GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            #expect(client.read()?.header("Connection") == "close")
            #expect(client.isClosedByPeer())
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port)
            // The slow one first: a server answering out of order would put /items/2 ahead of it.
            client.send("GET /slow?ms=150 HTTP/1.1\r\nHost: a\r\n\r\n"
                + "GET /items/2 HTTP/1.1\r\nHost: a\r\n\r\n"
                + "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
                + "GET /items/4 HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(client.read()?.text == #"{"slow":true}"#)
            #expect(client.read()?.text == #"{"id":"2"}"#)
            #expect(client.read()?.text == "abc")
            #expect(client.read()?.text == #"{"id":"4"}"#)
        }
    }

    @Test func contentLengthBodyIsDelivered() async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port)
            let body = String(repeating: "x", count: 200_000)
            client.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            let reply = try #require(client.read())
            #expect(reply.status == 200)
            #expect(reply.body.count == 200_000)
        }
    }

    @Test func chunkedBodyIsDecoded() async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port)
            client.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;name=value\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\nX-Trailer: ignored\r\n\r\n"
                + healthz)
            #expect(client.read()?.text == "hello world!")
            #expect(client.read()?.status == 200)  // the pipelined request behind the last chunk
        }
    }

    @Test func chunkedBodyArrivingInPiecesIsDecoded() async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port)
            client.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
            for piece in ["A", "\r", "\n0123456789", "\r\n", "0\r", "\n\r\n"] {
                client.send(piece)
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(client.read()?.text == "0123456789")
        }
    }

    @Test func expectContinueGets100BeforeTheBody() async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port)
            client.send("POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
            let interim = try #require(client.read())
            #expect(interim.status == 100)
            client.send("ping")
            let reply = try #require(client.read())
            #expect(reply.status == 200)
            #expect(reply.text == "ping")
        }
    }

    @Test func expectContinueWithTooLargeABodyGets413Without100() async throws {
        try await withServer({ $0.maxBodyBytes = 10 }) { server in
            let client = try RawClient(port: server.port)
            client.send("POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n")
            #expect(client.read()?.status == 413)
        }
    }

    @Test func headGetsHeadersWithoutBody() async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port)
            client.send("HEAD /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
            let reply = try #require(client.read(head: true))
            #expect(reply.status == 200)
            #expect(reply.header("Content-Length") == "15")
            // No body bytes may follow: the next response must parse cleanly.
            client.send(healthz)
            #expect(client.read()?.text == #"{"status":"ok"}"#)
        }
    }

    @Test func gzipWhenAcceptedAndLarge() async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port)
            client.send("GET /big HTTP/1.1\r\nHost: a\r\nAccept-Encoding: br, gzip;q=0.8\r\n\r\n")
            let compressed = try #require(client.read())
            #expect(compressed.header("Content-Encoding") == "gzip")
            #expect(compressed.header("Vary") == "Accept-Encoding")
            let inflated = try #require(Gzip.decompress(compressed.body))

            client.send("GET /big HTTP/1.1\r\nHost: a\r\n\r\n")
            let plain = try #require(client.read())
            #expect(plain.header("Content-Encoding") == nil)
            #expect(inflated == plain.body)
            #expect(compressed.body.count < plain.body.count / 4)
        }
    }

    @Test(arguments: [
        ("gzip;q=0", false), ("identity", false), ("*", true), ("*;q=0", false), ("gzip;q=0, *", false),
        ("deflate, GZIP", true), ("x-gzip", true),
    ])
    func gzipAcceptance(header: String, accepted: Bool) {
        #expect(Gzip.isAccepted(by: header) == accepted)
    }

    @Test func smallBodiesAndRefusedGzipStayPlain() async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port)
            client.send("GET /healthz HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n")
            #expect(client.read()?.header("Content-Encoding") == nil)
            client.send("GET /big HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip;q=0\r\n\r\n")
            #expect(client.read()?.header("Content-Encoding") == nil)
        }
    }

    @Test func absoluteFormTargetIsAccepted() async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port)
            client.send("GET http://example.com/items/7 HTTP/1.1\r\nHost: example.com\r\n\r\n")
            #expect(client.read()?.text == #"{"id":"7"}"#)
        }
    }

    @Test func leadingEmptyLineIsTolerated() async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port)
            client.send("\r\n" + healthz)
            #expect(client.read()?.status == 200)
        }
    }

    @Test func fiveHundredConcurrentConnectionsAreServed() async throws {
        try await withServer { server in
            let clients = try (0..<500).map { _ in try RawClient(port: server.port) }
            for client in clients { client.send(healthz) }
            var ok = 0
            for client in clients where client.read()?.status == 200 { ok += 1 }
            #expect(ok == 500)
            #expect(await eventually { server.openConnections == 500 })
        }
    }
}

@Suite struct RoutingTests {
    @Test func pathParametersArePercentDecoded() async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port)
            client.send("GET /items/a%20b HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(client.read()?.text == #"{"id":"a b"}"#)
        }
    }

    @Test func literalSegmentWinsOverParameter() async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port)
            client.send("GET /items/special HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(client.read()?.text == #"{"special":true}"#)
        }
    }

    @Test func unknownPathIs404ProblemJSON() async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port)
            client.send("GET /nope HTTP/1.1\r\nHost: a\r\n\r\n")
            let reply = try #require(client.read())
            #expect(reply.status == 404)
            #expect(reply.header("Content-Type") == "application/problem+json")
            #expect(reply.json["code"] as? String == "not-found")
            #expect(reply.json["type"] as? String == "/problems/not-found")
            #expect(reply.json["title"] as? String == "Not Found")
            // The connection survives an ordinary 404.
            client.send(healthz)
            #expect(client.read()?.status == 200)
        }
    }

    @Test func wrongMethodIs405WithAllow() async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port)
            client.send("DELETE /items/3 HTTP/1.1\r\nHost: a\r\n\r\n")
            let reply = try #require(client.read())
            #expect(reply.status == 405)
            #expect(reply.header("Allow") == "GET, HEAD, PUT")
            #expect(reply.json["code"] as? String == "method-not-allowed")
        }
    }

    @Test func thrownProblemNamesItsField() async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port)
            client.send("GET /problem HTTP/1.1\r\nHost: a\r\n\r\n")
            let reply = try #require(client.read())
            #expect(reply.status == 422)
            #expect(reply.json["field"] as? String == "amount")
            #expect(reply.json["detail"] as? String == "amount must be positive")
        }
    }

    @Test func unexpectedErrorIs500WithoutInternals() async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port)
            client.send("GET /fail HTTP/1.1\r\nHost: a\r\n\r\n")
            let reply = try #require(client.read())
            #expect(reply.status == 500)
            #expect(!reply.text.contains("CancellationError"))
        }
    }

    @Test func middlewareWrapsRoutedAndUnroutedRequests() async throws {
        struct Stamp: Middleware {
            func handle(_ request: Request, context: RequestContext,
                        next: @Sendable (Request, RequestContext) async -> Response) async throws -> Response
            {
                var response = await next(request, context)
                response.headerFields[HTTPField.Name("X-Route")!] = context.routePattern ?? "none"
                return response
            }
        }
        var router = testRouter()
        router.add(middleware: Stamp())
        try await withServer(router: router) { server in
            let client = try RawClient(port: server.port)
            client.send("GET /items/9 HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(client.read()?.header("X-Route") == "/items/{id}")
            client.send("GET /nope HTTP/1.1\r\nHost: a\r\n\r\n")
            let reply = try #require(client.read())
            #expect(reply.status == 404)
            #expect(reply.header("X-Route") == "none")
        }
    }
}
