import Foundation
import Synchronization
import Testing
@testable import HTTPServer

@Suite struct StreamingTests {
    static let part = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1024)

    func router(parts: Int, produced: ProducedCounter) -> Router {
        var router = testRouter()
        router.get("/stream") { _, _ in
            .streaming(contentType: "application/x-ndjson") { writer in
                for _ in 0..<parts {
                    try await writer.write(Self.part)
                    produced.add()
                }
            }
        }
        return router
    }

    @Test func streamedBodyArrivesChunkedAndTheConnectionStaysOpen() async throws {
        let produced = ProducedCounter()
        try await withServer(router: router(parts: 20, produced: produced)) { server in
            let client = try RawClient(port: server.port)
            client.send("GET /stream HTTP/1.1\r\nHost: a\r\n\r\n")
            let reply = try #require(client.read())
            #expect(reply.status == 200)
            #expect(reply.header("Transfer-Encoding") == "chunked")
            #expect(reply.header("Content-Length") == nil)
            #expect(reply.body.count == 20 * 64 * 1024)
            client.send(healthz)
            #expect(client.read()?.status == 200)
            client.send("HEAD /stream HTTP/1.1\r\nHost: a\r\n\r\n")
            let head = try #require(client.read(head: true))
            #expect(head.header("Transfer-Encoding") == "chunked")
            client.send(healthz)
            #expect(client.read()?.status == 200)
        }
    }

    @Test func aClientThatDoesNotReadHoldsTheProducerBack() async throws {
        let produced = ProducedCounter()
        try await withServer(router: router(parts: 400, produced: produced)) { server in
            let client = try RawClient(port: server.port, receiveTimeout: 2)
            // Connection: close, so that the drain below ends at the last byte, not a time-out.
            client.send("GET /stream HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            try await Task.sleep(for: .milliseconds(500))
            // 400 parts are 25 MiB; unread, only socket buffers plus the 256 KiB high-water mark
            // may be ahead of the client.
            #expect(produced.value < 100)
            let received = client.drainRaw()
            #expect(received > 400 * 64 * 1024)
            #expect(produced.value == 400)
        }
    }

    @Test func aClientThatLeavesStopsTheProducer() async throws {
        let produced = ProducedCounter()
        try await withServer(router: router(parts: 10_000, produced: produced)) { server in
            do {
                let client = try RawClient(port: server.port)
                client.send("GET /stream HTTP/1.1\r\nHost: a\r\n\r\n")
                try await Task.sleep(for: .milliseconds(100))
            }
            try await Task.sleep(for: .milliseconds(300))
            let stopped = produced.value
            try await Task.sleep(for: .milliseconds(200))
            #expect(produced.value == stopped)
            #expect(stopped < 10_000)
            #expect(try stillServes(server))
        }
    }
}

final class ProducedCounter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
