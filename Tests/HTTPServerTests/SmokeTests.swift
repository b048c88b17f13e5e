import Testing
@testable import HTTPServer

@Suite struct KeepAliveTests {
    @Test func healthzAnswersAndKeepsTheConnectionOpen() async throws {
        try await withServer { server in
            let client = try RawClient(port: server.port)
            for _ in 0..<3 {
                client.send(healthz)
                let reply = try #require(client.read())
                #expect(reply.status == 200)
                #expect(reply.text == #"{"status":"ok"}"#)
                #expect(reply.header("Content-Length") == "15")
                #expect(reply.header("Date") != nil)
                #expect(reply.header("Connection") == nil)
            }
        }
    }
}
