#if canImport(Glibc)
import Glibc
#endif
import CLinux
import HTTPTypes

/// A streamed response: its head, then each part the producer writes as a chunk, the producer
/// held back while the client is slow to read (README "HTTP server").
extension Connection {
    // MARK: - Streamed bodies



    /// Runs on the loop thread (the handler task's executor preference), like `complete`.
    func stream(_ response: Response, _ stream: BodyStream, for head: RequestHead) async {
        guard state == .handling else { return }
        releaseBody()
        streamKeepAlive = head.keepAlive && !draining && !loop.core.isDraining && !(peerClosed && input.readableCount == 0)
        let isHead = head.request.method == .head
        ResponseEncoder.encode(response, keepAlive: streamKeepAlive, omitBody: true, chunked: true,
                               date: loop.dateCache.current(), serverName: configuration.serverName, into: &output)
        self.head = nil
        state = .streaming
        flush()
        if !isHead {
            do {
                try await stream.produce(ChunkWriter(connection: self))
            } catch {
                // The status is sent already: a cut-off body (no last chunk) tells the client.
                close()
                return
            }
        }
        guard state == .streaming else { return }
        if !isHead { output.append(contentsOf: ResponseEncoder.lastChunk) }
        state = streamKeepAlive ? .writingResponse : .writingFinal
        flush()
    }

    func writeChunk(_ bytes: [UInt8]) async throws {
        guard state == .streaming else { throw ConnectionGone() }
        guard !bytes.isEmpty else { return }
        ResponseEncoder.appendChunk(bytes, to: &output)
        flush()
        while state == .streaming, output.count - outputOffset > Self.streamHighWater {
            try await withCheckedThrowingContinuation { drainWaiter = $0 }
        }
        guard state == .streaming else { throw ConnectionGone() }
    }

    func resumeDrainWaiter(throwing: Bool) {
        guard let waiter = drainWaiter else { return }
        drainWaiter = nil
        if throwing { waiter.resume(throwing: ConnectionGone()) } else { waiter.resume() }
    }
}

/// Hands a streaming producer's parts to its connection. `@unchecked Sendable`: it is used only
/// from the handler task, which runs on the connection's loop thread.
private struct ChunkWriter: BodyWriter, @unchecked Sendable {
    let connection: Connection

    func write(_ bytes: [UInt8]) async throws {
        try await connection.writeChunk(bytes)
    }
}
