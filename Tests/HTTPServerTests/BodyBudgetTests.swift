#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HTTPServer
import HTTPTypes
import Synchronization
import Testing

/// What a client can make the server hold of request bodies (README "Hostile clients and faults"): an upload is
/// admitted or answered from its head before any of its body is read, no capacity is reserved
/// from a `Content-Length`, and bodies in memory and uploads on disk each have a budget across
/// every connection. The memory figures themselves are measured on a child process
/// (CreditAPITests' UploadMemoryTests); these tests hold the rules.
@Suite struct BodyBudgetTests {
    /// The sizes of the bodies the upload handler saw.
    final class Seen: Sendable {
        let sizes = Mutex<[Int]>([])
        /// While closed, a handler holds its request (and so its body's bytes) after counting it.
        let open = Atomic<Bool>(true)

        func hold() async {
            while !open.load(ordering: .acquiring) { try? await Task.sleep(for: .milliseconds(5)) }
        }
        var count: Int { sizes.withLock { $0.count } }
    }

    /// `/upload` admits a body only with `Authorization: Bearer yes`; its handler reports how
    /// much arrived and where.
    static func uploadRouter(seen: Seen? = nil) -> Router {
        var router = testRouter()
        router.post("/upload", admission: { request, _ in
            request.headerFields[.authorization] == "Bearer yes" ? .spool : .refuse
        }) { request, _ in
            guard request.headerFields[.authorization] == "Bearer yes" else {
                return Response(status: .unauthorized, headerFields: [.contentType: "text/plain"], body: Array("no key".utf8))
            }
            let data = try request.wholeBody()
            seen?.sizes.withLock { $0.append(data.count) }
            await seen?.hold()
            let text = "spooled=\(request.spooled != nil) bytes=\(data.count) first=\(data.first ?? 0) last=\(data.last ?? 0)"
            return Response(status: .ok, headerFields: [.contentType: "text/plain"], body: Array(text.utf8))
        }
        return router
    }

    static func configure(_ configuration: inout ServerConfiguration) {
        configuration.bulkBodyPaths = ["/upload"]
        configuration.maxBodyBytes = 64 * 1024
        configuration.maxBulkBodyBytes = 32 << 20
    }

    @Test func aKeylessUploadIsAnsweredFromItsHead() async throws {
        try await withServer(router: Self.uploadRouter(), Self.configure) { server in
            let client = try RawClient(port: server.port, receiveTimeout: 5)
            // 32 MiB announced, not one byte of it sent: the answer cannot wait for the body.
            client.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: \(32 << 20 - 1)\r\n\r\n")
            let reply = try #require(client.read())
            #expect(reply.status == 401)
            #expect(reply.header("connection")?.lowercased() == "close")
            #expect(try stillServes(server))
        }
    }

    @Test func anAdmittedUploadIsSpooledWhole() async throws {
        try await withServer(router: Self.uploadRouter(), Self.configure) { server in
            let client = try RawClient(port: server.port, receiveTimeout: 10)
            let size = 3 << 20
            client.send("POST /upload HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer yes\r\nContent-Length: \(size)\r\n\r\n")
            var piece = [UInt8](repeating: 7, count: 64 * 1024)
            piece[0] = 1
            var sent = 0
            while sent < size {
                var chunk = piece[0..<min(piece.count, size - sent)]
                if sent + chunk.count == size { chunk[chunk.endIndex - 1] = 9 }
                client.send(Array(chunk))
                sent += chunk.count
            }
            let reply = try #require(client.read())
            #expect(reply.status == 200)
            #expect(reply.text == "spooled=true bytes=\(size) first=1 last=9")
        }
    }

    /// Bodies in memory count against one budget as their bytes arrive: while one body is
    /// held, a second that would pass the budget is answered 503 with Retry-After and its
    /// connection closed; once the first is answered its bytes are free again.
    @Test func bodiesInMemoryHaveABudget() async throws {
        let seen = Seen()
        var router = testRouter()
        router.post("/held") { request, _ in
            seen.sizes.withLock { $0.append(request.body.count) }
            await seen.hold()
            return Response(status: .ok, headerFields: [.contentType: "text/plain"], body: Array("\(request.body.count)".utf8))
        }
        try await withServer(router: router, { configuration in
            configuration.maxBodyBytes = 64 * 1024
            configuration.maxBufferedBodyBytes = 100 * 1024
        }) { server in
            seen.open.store(false, ordering: .releasing)
            let first = try RawClient(port: server.port, receiveTimeout: 5)
            first.send("POST /held HTTP/1.1\r\nHost: t\r\nContent-Length: 60000\r\n\r\n")
            first.send([UInt8](repeating: 1, count: 60_000))
            #expect(await eventually { seen.count == 1 })
            let second = try RawClient(port: server.port, receiveTimeout: 5)
            second.send("POST /held HTTP/1.1\r\nHost: t\r\nContent-Length: 60000\r\n\r\n")
            second.send([UInt8](repeating: 2, count: 60_000))
            let refused = try #require(second.read())
            #expect(refused.status == 503)
            #expect(refused.header("retry-after") != nil)
            #expect(refused.header("connection")?.lowercased() == "close")
            seen.open.store(true, ordering: .releasing)
            #expect(first.read()?.text == "60000")
            let third = try RawClient(port: server.port, receiveTimeout: 5)
            third.send("POST /held HTTP/1.1\r\nHost: t\r\nContent-Length: 60000\r\n\r\n")
            third.send([UInt8](repeating: 3, count: 60_000))
            #expect(third.read()?.status == 200)
        }
    }

    /// A Content-Length is a claim: a body announced at the cap but never sent holds nothing,
    /// so many of them leave room for a real one.
    @Test func anAnnouncedLengthReservesNothing() async throws {
        try await withServer({ configuration in
            configuration.maxBodyBytes = 64 * 1024
            configuration.maxBufferedBodyBytes = 100 * 1024
        }) { server in
            let idle = try (0..<20).map { _ in try RawClient(port: server.port, receiveTimeout: 5) }
            for client in idle { client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 65536\r\n\r\n") }
            try await Task.sleep(for: .milliseconds(200))
            let real = try RawClient(port: server.port, receiveTimeout: 5)
            real.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 50000\r\n\r\n")
            real.send([UInt8](repeating: 4, count: 50_000))
            #expect(real.read()?.status == 200)
            for client in idle { client.hangUp() }
        }
    }

    /// Spooled uploads have a budget of their own across every upload: while one upload is
    /// held, a second that would pass it is answered 503 with Retry-After; once the first is
    /// answered its bytes are free again.
    @Test func spooledUploadsHaveABudget() async throws {
        let seen = Seen()
        try await withServer(router: Self.uploadRouter(seen: seen), { configuration in
            Self.configure(&configuration)
            configuration.maxSpooledBodyBytes = 1 << 20
        }) { server in
            let head = "POST /upload HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer yes\r\nContent-Length: \(800 * 1024)\r\n\r\n"
            seen.open.store(false, ordering: .releasing)
            let first = try RawClient(port: server.port, receiveTimeout: 5)
            first.send(head)
            first.send([UInt8](repeating: 1, count: 800 * 1024))
            #expect(await eventually { seen.count == 1 })
            let second = try RawClient(port: server.port, receiveTimeout: 5)
            second.send(head)
            second.send([UInt8](repeating: 2, count: 800 * 1024))
            let refused = try #require(second.read())
            #expect(refused.status == 503)
            #expect(refused.header("retry-after") != nil)
            seen.open.store(true, ordering: .releasing)
            #expect(first.read()?.status == 200)
            let third = try RawClient(port: server.port, receiveTimeout: 5)
            third.send(head)
            third.send([UInt8](repeating: 3, count: 800 * 1024))
            #expect(third.read()?.status == 200)
            #expect(seen.sizes.withLock { $0 } == [800 * 1024, 800 * 1024])
        }
    }

    /// The spool file is unlinked as soon as it is made: nothing is left in the spool folder
    /// during or after an upload, however the upload ends.
    @Test func aSpoolLeavesNoFile() async throws {
        let folder = NSTemporaryDirectory() + "creditline-spool-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try await withServer(router: Self.uploadRouter(), { configuration in
            Self.configure(&configuration)
            configuration.spoolDirectory = folder
        }) { server in
            let cut = try RawClient(port: server.port, receiveTimeout: 5)
            cut.send("POST /upload HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer yes\r\nContent-Length: 100000\r\n\r\n")
            cut.send([UInt8](repeating: 5, count: 50_000))
            try await Task.sleep(for: .milliseconds(200))
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
            cut.hangUp()
            #expect(try stillServes(server))
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
        }
    }
}
