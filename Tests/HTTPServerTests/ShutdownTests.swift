import Foundation
import Synchronization
import Testing
@testable import HTTPServer

@Suite struct ShutdownTests {
    @Test func inFlightRequestFinishesAndIdleConnectionsClose() async throws {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.eventLoopThreads = 2
        // The handler holds until the test has seen the drain start, whatever the machine's load.
        let gate = Gate()
        var router = testRouter()
        router.get("/gated") { _, _ in
            await gate.wait()
            return .json(Array("{}".utf8))
        }
        let server = HTTPServer(configuration: configuration, responder: router)
        try server.start()
        let port = server.port
        let idle = try RawClient(port: port)
        idle.send(healthz)
        #expect(idle.read()?.status == 200)

        let busy = try RawClient(port: port)
        busy.send("GET /gated HTTP/1.1\r\nHost: a\r\n\r\n")
        try await Task.sleep(for: .milliseconds(50))

        let started = ContinuousClock.now
        async let stopped: Void = server.shutdown()
        try await Task.sleep(for: .milliseconds(50))
        #expect(server.isDraining)
        #expect(idle.isClosedByPeer())
        gate.open()
        let reply = try #require(busy.read())
        #expect(reply.status == 200)
        #expect(reply.header("Connection") == "close")
        // A client that got `Connection: close` hangs up; the server then needs no lingering.
        busy.hangUp()
        await stopped
        // Well under the 10 s grace period: the drain ended when the last connection did (the
        // margin is for a machine busy with other tests).
        #expect(ContinuousClock.now - started < .seconds(6))
        #expect(throws: (any Error).self) { try RawClient(port: port) }
    }

    @Test func gracePeriodCapsTheDrain() async throws {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.shutdownGracePeriod = .milliseconds(200)
        var router = testRouter()
        // Far longer than any stall of a loaded test machine: the test thread itself has been
        // held for over five seconds in a full parallel run, long enough for a shorter handler
        // to answer before the drain began.
        router.get("/held") { _, _ in
            try await Task.sleep(for: .seconds(60))
            return .json(Array(#"{"held":true}"#.utf8))
        }
        let server = HTTPServer(configuration: configuration, responder: router)
        try server.start()
        let busy = try RawClient(port: server.port)
        busy.send("GET /held HTTP/1.1\r\nHost: a\r\n\r\n")
        // The request is in its handler before the drain begins, however loaded the machine.
        #expect(await eventually { server.openConnections == 1 })
        try await Task.sleep(for: .milliseconds(50))
        let started = ContinuousClock.now
        await server.shutdown()
        // Well under the handler's 60 s: the grace period, not the handler, ends the drain (the
        // margin is for a loaded machine).
        #expect(ContinuousClock.now - started < .seconds(30))
        // Closed: the read ends at once, not after the client's 5 s receive timeout.
        let reading = ContinuousClock.now
        #expect(busy.read() == nil)
        #expect(ContinuousClock.now - reading < .seconds(4))
    }
}

final class Gate: Sendable {
    private let isOpen = Mutex(false)
    func open() { isOpen.withLock { $0 = true } }
    func wait() async {
        while !isOpen.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
    }
}
