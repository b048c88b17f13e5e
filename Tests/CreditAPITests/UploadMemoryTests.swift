#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// What uploads can make the service hold, measured on a child process (never on a server inside
/// the test process: a failure kills only the child; README "Hostile clients and faults"). The byte limits are
/// lowered so that the suite, which runs twice in CI, does not write gigabytes: reviews up to
/// 4 MiB, 64 MiB of spooled uploads at once.
@Suite(.serialized) struct UploadMemoryTests {
    static let uploadCap = 4 << 20

    /// Resident memory of a process, in MiB, from /proc.
    static func residentMiB(_ pid: pid_t) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return -1 }
        return (Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0) / 1024
    }

    /// Sends a review upload's head and all but the last byte of its body from one small buffer,
    /// and leaves the connection open.
    static func holdUpload(port: Int, key: String?) throws -> RawClient {
        let client = try RawClient(port: port, receiveTimeout: 5)
        var head = "POST /v1/portfolio-reviews HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-ndjson\r\n"
        if let key { head += "Authorization: Bearer \(key)\r\n" }
        client.send(head + "Content-Length: \(uploadCap)\r\n\r\n")
        let piece = [UInt8](repeating: 0x20, count: 64 * 1024)
        var sent = 0
        while sent < uploadCap - 1 {
            let count = min(piece.count, uploadCap - 1 - sent)
            client.send(count == piece.count ? piece : Array(piece[0..<count]))
            sent += count
        }
        return client
    }

    @Test(arguments: [false, true])
    func aHundredUploadsHeldOpenLeaveMemoryFlat(withKey: Bool) async throws {
        let db = try CommandLine_.temporaryDatabase()
        let key = try CommandLine_.run(["keys", "create", "--role", "operator", "--db", db]).stdout
            .split(separator: "\n").last.map(String.init) ?? ""
        let port = 20_000 + Int.random(in: 0..<10_000)
        let server = try CommandLine_.serve(["--port", String(port), "--db", db], environment: [
            "CREDITLINE_PORTFOLIO_REVIEW_MAX_BYTES": String(Self.uploadCap),
            "CREDITLINE_MAX_SPOOLED_BODY_BYTES": String(64 << 20),
            "CREDITLINE_RATE_LIMIT_OPERATOR": "0", "CREDITLINE_LOG_LEVEL": "error",
        ])
        defer { server.terminate() }
        #expect(await eventually(seconds: 20) { CommandLine_.isReady(port: port) })
        let before = Self.residentMiB(server.pid)

        let held = try (0..<100).map { _ in try Self.holdUpload(port: port, key: withKey ? key : nil) }
        try await Task.sleep(for: .milliseconds(500))
        let during = Self.residentMiB(server.pid)
        #expect(server.isRunning, "the server died")
        #expect(during < 150, "resident \(before) MiB before, \(during) MiB with 100 uploads held open")
        let health = try RawClient(port: port, receiveTimeout: 5)
        health.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(health.read()?.status == 200)
        if !withKey {
            // Answered from the head, without a key: 401 while the body was still coming.
            #expect(held.prefix(5).allSatisfy { $0.read()?.status == 401 })
        } else {
            // 64 MiB of spool holds 16 uploads of 4 MiB; the rest are told to come back.
            let statuses = held.suffix(10).compactMap { $0.read()?.status }
            #expect(statuses.contains(503), "\(statuses)")
        }
        for client in held { client.hangUp() }
    }
}
