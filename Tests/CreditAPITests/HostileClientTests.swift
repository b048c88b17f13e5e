import CreditLine
import Foundation
import Testing
@testable import CreditAPI

/// Regressions for what an attack on a server of our own found (README "Hostile clients").
@Suite struct HostileClientTests {
    /// RFC 9110 §9.1: unknown methods are 501, answered before any metric or log is made of them,
    /// so made-up method names cannot grow the metrics or the log.
    @Test func unknownMethodsAre501AndLeaveNoTrace() async throws {
        let logs = LogCapture()
        let service = try TestService(logs: logs)
        let client = try RawClient(port: service.port)
        let names = (0..<200).map { "BREW\($0)" } + ["TRACE", "CONNECT", "get", "PROPFIND"]
        client.send(names.map { "\($0) /healthz HTTP/1.1\r\nHost: a\r\n\r\n" }.joined() + "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        for name in names {
            let reply = try #require(client.read(), "no answer to \(name)")
            #expect(reply.status == 501, "\(name)")
            #expect(reply.json["code"] as? String == "not-implemented")
        }
        // The connection is still in step: the next request is answered as itself.
        #expect(client.read()?.status == 200)
        let metrics = try service.call("GET", "/metrics", role: nil).text
        #expect(!metrics.contains("BREW"))
        #expect(!metrics.contains("PROPFIND"))
        #expect(!logs.all.contains { $0.contains("BREW") || $0.contains("PROPFIND") })
        await service.stop()
    }
}
