#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CreditAPI
import Foundation

/// For Docker's HEALTHCHECK: GET /readyz on loopback with a plain socket (no curl in the image).
struct Healthcheck: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Exit 0 when /readyz answers 200, else 1.")
    @Option(help: "Port of the running service. Default 8080, or CREDITLINE_PORT.") var port: Int?
    @Option(help: "Seconds to wait for the answer.") var timeout: Int = 3

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let port = port ?? environment["CREDITLINE_PORT"].flatMap(Int.init) ?? 8080
        guard let status = Self.status(port: port, path: "/readyz", timeoutSeconds: timeout) else {
            print("unhealthy: no answer on 127.0.0.1:\(port)")
            throw ExitCode(1)
        }
        guard status == 200 else {
            print("unhealthy: /readyz answered \(status)")
            throw ExitCode(1)
        }
        print("healthy")
    }

    static func status(port: Int, path: String, timeoutSeconds: Int) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else {
            return nil
        }
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count >= 12 else { return nil }
        // "HTTP/1.1 200 ..."
        let line = String(decoding: buffer[0..<count], as: UTF8.self)
        let parts = line.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2 else { return nil }
        return Int(parts[1])
    }
}
