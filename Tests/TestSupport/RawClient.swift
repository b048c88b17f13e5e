#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A blocking TCP client that writes exact bytes, so tests can send what no well-behaved client
/// library would.
public final class RawClient {
    public let fd: Int32

    public init(port: Int, receiveTimeout: Double = 5) throws {
        _ = descriptorLimitRaised
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ClientError.connectFailed(errno) }
        var timeout = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int((receiveTimeout - Double(Int(receiveTimeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // On Linux SO_SNDTIMEO also bounds connect(2): a listener whose accept queue is full
        // drops the SYN, and an unbounded connect would wait out every SYN retry (minutes).
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        // Not closed here: every stored property is set, so a throw runs deinit, which closes it.
        // Closing it here too closed it twice, and the second close could take a descriptor
        // another thread had just been given the same number for (a child's pipe: posix_spawn
        // then failed with EBADF in another test).
        guard result == 0 else { throw ClientError.connectFailed(errno) }
    }

    deinit { close(fd) }

    public enum ClientError: Error { case connectFailed(Int32), timedOut, malformed(String) }

    public func send(_ text: String) { send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    public func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Ends the connection from this side, as a client does after `Connection: close`.
    public func hangUp() { shutdown(fd, Int32(SHUT_RDWR)) }

    private var buffer: [UInt8] = []

    /// Reads more bytes; false on EOF, error or time-out.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &chunk, chunk.count, 0)
        if n <= 0 { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    public struct Reply {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]

        public init(status: Int, headers: [(String, String)], body: [UInt8]) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
        public func headerCount(_ name: String) -> Int {
            headers.filter { $0.0.lowercased() == name.lowercased() }.count
        }
        public var text: String { String(decoding: body, as: UTF8.self) }
        public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    }

    /// Reads one response; nil when the connection closed or timed out first.
    public func read(head isHead: Bool = false) -> Reply? {
        var headEnd: Int? = nil
        while headEnd == nil {
            if let range = findCRLFCRLF() { headEnd = range } else if !fill() { return nil }
        }
        let headText = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
        buffer.removeFirst(headEnd! + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        let headers = lines.map { line -> (String, String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
        }
        var reply = Reply(status: status, headers: headers, body: [])
        if status < 200 || status == 204 || status == 304 || isHead { return reply }
        if reply.header("Transfer-Encoding")?.lowercased() == "chunked" {
            // Chunks until the last one (RFC 9112 §7.1); trailers are not used here.
            while true {
                var lineEnd: Int? = nil
                while lineEnd == nil {
                    if let index = findCRLF() { lineEnd = index } else if !fill() { return nil }
                }
                let sizeText = String(decoding: buffer[0..<lineEnd!], as: UTF8.self)
                guard let size = Int(sizeText, radix: 16) else { return nil }
                buffer.removeFirst(lineEnd! + 2)
                while buffer.count < size + 2 { if !fill() { return nil } }
                reply.body.append(contentsOf: buffer[0..<size])
                buffer.removeFirst(size + 2)
                if size == 0 { return reply }
            }
        } else if let length = reply.header("Content-Length").flatMap(Int.init) {
            while buffer.count < length { if !fill() { return nil } }
            reply.body = Array(buffer[0..<length])
            buffer.removeFirst(length)
        } else {
            while fill() {}
            reply.body = buffer
            buffer = []
        }
        return reply
    }

    /// True when the server closed the connection (EOF) within the receive timeout.
    public func isClosedByPeer() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }

    private func findCRLF() -> Int? {
        guard buffer.count >= 2 else { return nil }
        for i in 0...(buffer.count - 2) where buffer[i] == 13 && buffer[i + 1] == 10 { return i }
        return nil
    }

    /// Reads whatever arrives within the receive timeout, without parsing; for back-pressure tests.
    public func drainRaw() -> Int {
        var total = 0
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return total }
            total += n
        }
    }

    private func findCRLFCRLF() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i
        }
        return nil
    }
}

/// The test process holds many sockets at once (clients and in-process servers): its soft
/// descriptor limit is raised to the hard one, as `creditline serve` does at start.
private let descriptorLimitRaised: Void = {
    var limit = rlimit()
    if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}()

/// Polls a condition that another thread makes true shortly (a counter updated just after a
/// socket closes, say), for up to two seconds.
public func eventually(seconds: Int = 2, _ condition: () async -> Bool) async -> Bool {
    for _ in 0..<(seconds * 100) {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}

/// The repository's root (where migrations/, config/ and seeds/ are), found from this file.
public let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()
