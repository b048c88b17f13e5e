#if canImport(Glibc)
import Glibc
#endif
import CLinux
import HTTPTypes

/// What a connection sends: a parse failure's answer, and its output written as the socket takes it
/// (RFC 9112 §9.6: a connection closes only after what it owes is sent, or lingers to read what
/// is left).
extension Connection {
    /// Answers a request we could not parse, then closes (RFC 9112 §6.3, §9.6: after a framing
    /// error nothing more on this connection can be trusted).
    func fail(_ error: HTTPParseError) {
        let problem = Problem(status: error.status, code: Self.code(for: error.status), detail: error.reason)
        head = nil
        body = []
        chunked = nil
        spool = nil
        releaseBody()
        var response = problem.response
        if error.status == .serviceUnavailable { response.headerFields[.retryAfter] = "1" }
        loop.core.stampRequestID(&response)
        ResponseEncoder.encode(response, keepAlive: false, omitBody: false,
                               date: loop.dateCache.current(), serverName: configuration.serverName, into: &output)
        state = .writingFinal
        flush()
    }

    static func code(for status: HTTPResponse.Status) -> ServerProblemCode {
        switch status.code {
        case 408: return .requestTimeout
        case 413: return .contentTooLarge
        case 414: return .uriTooLong
        case 417: return .expectationFailed
        case 431: return .headerFieldsTooLarge
        case 503: return .overloaded
        case 501: return .notImplemented
        case 505: return .httpVersionNotSupported
        default: return .malformedRequest
        }
    }

    // MARK: - Writing

    func flush() {
        while outputOffset < output.count {
            let written = output.withUnsafeBytes { bytes in
                send(fd, bytes.baseAddress! + outputOffset, bytes.count - outputOffset, Int32(MSG_NOSIGNAL))
            }
            if written > 0 {
                outputOffset += written
            } else if written < 0, errno == EINTR {
                continue
            } else if written < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                deadline = System.monotonicNanos() + configuration.writeTimeout.nanoseconds
                updateInterest(writing: true)
                return
            } else {
                close()
                return
            }
        }
        if output.capacity > 256 * 1024 {
            output = []
        } else {
            output.removeAll(keepingCapacity: true)
        }
        outputOffset = 0
        updateInterest(writing: false)
        writeCompleted()
    }

    func writeCompleted() {
        switch state {
        case .writingResponse:
            state = .readingHead
            if peerClosed {
                // Answer what is already buffered; an incomplete request is never handed on.
                process()
                if state == .readingHead || state == .readingBody { close() }
                return
            }
            updateInterest(reading: true)
            deadline = System.monotonicNanos() + configuration.idleTimeout.nanoseconds
            process()
        case .writingFinal:
            startLingering()
        case .streaming:
            deadline = 0  // everything sent; the producer may take its time
            resumeDrainWaiter(throwing: false)
        default:
            // A 100 Continue went out; the body is still being read.
            if state == .readingBody { deadline = System.monotonicNanos() + configuration.bodyReadTimeout.nanoseconds }
        }
    }

    func startLingering() {
        if peerClosed {
            close()
            return
        }
        shutdown(fd, Int32(SHUT_WR))
        state = .lingering
        deadline = System.monotonicNanos() + Self.lingerNanos
        input.clear()
        updateInterest(reading: true)
    }

    func discardInput() {
        while true {
            input.clear()
            switch input.read(from: fd, scratch: loop.scratch) {
            case .data: continue
            case .wouldBlock: return
            case .endOfFile, .error:
                close()
                return
            }
        }
    }
}
