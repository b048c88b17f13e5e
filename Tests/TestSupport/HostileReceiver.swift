#if canImport(Glibc)
import Glibc
#endif
import CZlib
import Foundation
import Synchronization

/// A webhook receiver on 127.0.0.1 that answers as an attacker would: every request is read
/// whole, then answered by `behaviour` on a thread of its own. What it sends comes from one small
/// buffer, so the test process never holds what it makes the service read.
public final class HostileReceiver: @unchecked Sendable {
    public enum Behaviour: Sendable {
        /// 200 with `Content-Encoding: gzip` and a body that inflates to `inflatedBytes` zeros.
        case gzipBomb(inflatedBytes: Int)
        /// 200 with `bytes` of plain body, as fast as the peer reads.
        case plain(bytes: Int)
        /// The status line, one byte every `intervalMilliseconds`, for as long as the peer listens.
        case dripHead(intervalMilliseconds: Int)
        /// 200 and a head at once, then the body one byte every `intervalMilliseconds`.
        case dripBody(intervalMilliseconds: Int)
    }

    /// One connection as the receiver saw it.
    public struct Visit: Sendable {
        public var requests = 0
        /// Bytes of the answer's body the peer accepted before it closed.
        public var bodyBytesSent = 0
        public var openedAt: ContinuousClock.Instant
        public var closedAt: ContinuousClock.Instant?
        /// Whether the peer closed before the answer was whole.
        public var cutShort = false
    }

    public let port: Int
    private let listener: Int32
    private let behaviour: Behaviour
    private let bomb: [UInt8]
    private let state = Mutex<(visits: [Visit], stopped: Bool)>(([], false))

    public init(_ behaviour: Behaviour) throws {
        self.behaviour = behaviour
        if case .gzipBomb(let inflated) = behaviour { bomb = Self.gzipOfZeros(inflated) } else { bomb = [] }
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        self.listener = listener
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(listener, pointer, length) == 0 && listen(listener, 64) == 0
                    && getsockname(listener, pointer, &length) == 0
            }
        }
        guard bound else {
            // `port` is not set yet, so deinit will not run: the listener is closed here, once.
            let code = errno
            close(listener)
            throw RawClient.ClientError.connectFailed(code)
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    public var url: String { "http://127.0.0.1:\(port)/hook" }
    public var visits: [Visit] { state.withLock { $0.visits } }

    /// Stops accepting; connections in progress end when their peer goes or their answer does.
    public func stop() {
        state.withLock { $0.stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
    }

    deinit { close(listener) }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else {
                if errno == EINTR { continue }
                return
            }
            if state.withLock({ $0.stopped }) {
                close(connection)
                return
            }
            let index = state.withLock { state -> Int in
                state.visits.append(Visit(openedAt: .now))
                return state.visits.count - 1
            }
            Thread.detachNewThread { [self] in serve(connection, visit: index) }
        }
    }

    private func serve(_ fd: Int32, visit: Int) {
        defer {
            close(fd)
            state.withLock { $0.visits[visit].closedAt = .now }
        }
        var timeout = timeval(tv_sec: 120, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        while readRequest(fd) {
            state.withLock { $0.visits[visit].requests += 1 }
            let whole = answer(fd, visit: visit)
            if !whole {
                state.withLock { $0.visits[visit].cutShort = true }
                return
            }
        }
    }

    /// Reads one request's head and its Content-Length body; false when the peer has gone.
    private func readRequest(_ fd: Int32) -> Bool {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let separator: [UInt8] = [13, 10, 13, 10]
        while true {
            if let end = buffer.indices.dropLast(3).first(where: { Array(buffer[$0..<$0 + 4]) == separator }) {
                let head = String(decoding: buffer[..<end], as: UTF8.self).lowercased()
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                var remaining = length - (buffer.count - end - 4)
                while remaining > 0 {
                    let n = recv(fd, &chunk, min(chunk.count, remaining), 0)
                    if n <= 0 { return false }
                    remaining -= n
                }
                return true
            }
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return false }
            buffer += chunk[0..<n]
        }
    }

    /// Sends the answer; false when the peer closed before it was whole.
    private func answer(_ fd: Int32, visit: Int) -> Bool {
        switch behaviour {
        case .gzipBomb:
            guard send(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                           + "Content-Length: \(bomb.count)\r\n\r\n") else { return false }
            return stream(fd, visit: visit, bytes: bomb.count) { offset, count in Array(bomb[offset..<offset + count]) }
        case .plain(let bytes):
            guard send(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: \(bytes)\r\n\r\n") else { return false }
            let zeros = [UInt8](repeating: 0x30, count: 64 * 1024)
            return stream(fd, visit: visit, bytes: bytes) { _, count in count == zeros.count ? zeros : Array(zeros[0..<count]) }
        case .dripHead(let interval):
            for byte in "HTTP/1.1 200 OK\r\nX-Padding: ".utf8 + Array(repeating: UInt8(ascii: "a"), count: 100_000) {
                guard send(fd, [byte]) else { return false }
                usleep(useconds_t(interval * 1000))
            }
            return false
        case .dripBody(let interval):
            let length = 100_000
            guard send(fd, "HTTP/1.1 200 OK\r\nContent-Length: \(length)\r\n\r\n") else { return false }
            for _ in 0..<length {
                guard send(fd, [0x30]) else { return false }
                state.withLock { $0.visits[visit].bodyBytesSent += 1 }
                usleep(useconds_t(interval * 1000))
            }
            return true
        }
    }

    private func stream(_ fd: Int32, visit: Int, bytes: Int, piece: (_ offset: Int, _ count: Int) -> [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes {
            let count = min(64 * 1024, bytes - offset)
            guard send(fd, piece(offset, count)) else { return false }
            offset += count
            state.withLock { $0.visits[visit].bodyBytesSent = offset }
        }
        return true
    }

    private func send(_ fd: Int32, _ text: String) -> Bool { send(fd, Array(text.utf8)) }

    private func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    /// A gzip stream (RFC 1952) of `count` zeros, made without holding them: one MiB of zeros
    /// deflated and ended with a full flush (byte-aligned, no reference to earlier data, RFC 1951
    /// §3.2.3 blocks) is a piece that can be repeated; an empty final block, the CRC-32 and the
    /// length close it. About a thousandth of `count`.
    public static func gzipOfZeros(_ count: Int) -> [UInt8] {
        let pieceLength = 1 << 20
        precondition(count % pieceLength == 0, "a whole number of MiB")
        let zeros = [UInt8](repeating: 0, count: pieceLength)
        var stream = z_stream()
        precondition(czlib_deflate_init2(&stream, 9, -15, 8) == Z_OK)
        defer { deflateEnd(&stream) }
        var piece = [UInt8](repeating: 0, count: pieceLength)
        zeros.withUnsafeBufferPointer { source in
            piece.withUnsafeMutableBufferPointer { destination in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.avail_in = UInt32(source.count)
                stream.next_out = destination.baseAddress
                stream.avail_out = UInt32(destination.count)
                precondition(deflate(&stream, Z_FULL_FLUSH) == Z_OK && stream.avail_in == 0)
            }
        }
        piece.removeSubrange(Int(stream.total_out)...)
        var crc = crc32(0, nil, 0)
        for _ in 0..<(count / pieceLength) { crc = zeros.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, UInt32($0.count)) } }
        var output: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]
        output.reserveCapacity(10 + piece.count * (count / pieceLength) + 10)
        for _ in 0..<(count / pieceLength) { output += piece }
        // BFINAL=1, BTYPE=01 (fixed codes), then the end-of-block code: the empty last block.
        output += [0x03, 0x00]
        for shift in stride(from: 0, to: 32, by: 8) { output.append(UInt8(truncatingIfNeeded: UInt(crc) >> UInt(shift))) }
        for shift in stride(from: 0, to: 32, by: 8) { output.append(UInt8(truncatingIfNeeded: count >> shift)) }
        return output
    }
}
