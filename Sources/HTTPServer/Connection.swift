#if canImport(Glibc)
import Glibc
#endif
import CLinux
import HTTPTypes
import Logging

/// One client socket and its request/response state machine. One request is handled at a time;
/// pipelined requests wait in the input buffer, so responses leave in request order
/// (RFC 9112 §9.3.2).
///
/// `@unchecked Sendable`: it owns a socket descriptor and is touched only on its loop's thread,
/// including from handler tasks, which run with that loop as their executor preference.
final class Connection: @unchecked Sendable {
    enum State {
        case readingHead
        /// An upload's head is in; the responder decides whether its body is taken.
        case admitting
        case readingBody
        case handling
        case writingResponse
        /// Writing a final answer (an error, or a response before close); then lingering.
        case writingFinal
        /// Sending a streamed body as its producer hands over parts.
        case streaming
        /// Our side is shut for writing; reading and discarding until the client closes, so
        /// the kernel does not reset the connection and destroy the answer in flight.
        case lingering
        case closed
    }

    let fd: Int32
    unowned let loop: EventLoop
    var state = State.readingHead
    /// Monotonic nanoseconds at which the current state times out; 0 for none.
    var deadline: UInt64 = 0

    var input: InputBuffer
    private var scannedForHeadEnd = 0
    var output: [UInt8] = []
    var outputOffset = 0
    private var interest: UInt32 = EPOLLIN.rawValue
    var peerClosed = false
    /// Read once per connection, when its first request is handed on.
    private lazy var peerAddress: String? = Socket.peerAddress(fd)
    var draining = false

    var head: RequestHead?
    var body: [UInt8] = []
    private var bodyRemaining = 0
    var chunked: ChunkedDecoder?
    /// An admitted upload's file; the body goes there instead of into `body`.
    var spool: SpooledBody?
    /// The spool of the request being handled, finished when its answer is out.
    private var handedSpool: SpooledBody?
    /// Bytes of `body` counted against the server's budget of buffered bodies.
    private var bufferedBytes = 0

    static let lingerNanos: UInt64 = 2_000_000_000

    /// Unsent bytes above which a streaming producer waits for the client.
    static let streamHighWater = 256 * 1024
    var drainWaiter: CheckedContinuation<Void, any Error>?
    var streamKeepAlive = false
    struct ConnectionGone: Error {}

    init(fd: Int32, loop: EventLoop) {
        self.fd = fd
        self.loop = loop
        let configuration = loop.core.configuration
        input = InputBuffer(
            initialCapacity: 4096,
            maximumCapacity: configuration.maxRequestLineBytes + configuration.maxHeaderBytes + 64 * 1024)
    }

    var configuration: ServerConfiguration { loop.core.configuration }

    func startIdle(now: UInt64) {
        deadline = now + configuration.idleTimeout.nanoseconds
    }

    // MARK: - Events

    func handle(events: UInt32) {
        if events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0, events & EPOLLIN.rawValue == 0 {
            close()
            return
        }
        if events & EPOLLOUT.rawValue != 0 {
            flush()
            if state == .closed { return }
        }
        if events & EPOLLIN.rawValue != 0 {
            readable()
        }
    }

    private func readable() {
        // Bytes are read into the loop's shared buffer; whatever is left unparsed is copied out
        // before returning, so an idle connection owns no buffer at all.
        defer { input.settle() }
        switch state {
        case .closed:
            return
        case .lingering:
            discardInput()
            return
        case .admitting, .handling, .writingResponse, .writingFinal, .streaming:
            // Pipelined bytes wait in the buffer; once it is full, stop reading until the
            // current response is out (back-pressure instead of unbounded memory).
            if input.isFull {
                updateInterest(reading: false)
                return
            }
        case .readingHead, .readingBody:
            break
        }
        let result = input.read(from: fd, scratch: loop.scratch)
        switch result {
        case .data:
            break
        case .wouldBlock:
            return
        case .endOfFile:
            peerClosed = true
            updateInterest(reading: false)
        case .error:
            close()
            return
        }
        switch state {
        case .readingHead, .readingBody:
            process()
            if peerClosed, state == .readingHead || state == .readingBody {
                // RFC 9112 §8: an incomplete message is never handed on; nothing to answer.
                close()
            }
        default:
            break
        }
    }

    /// Advances the state machine over buffered bytes until it needs more or hands a request on.
    func process() {
        while true {
            switch state {
            case .readingHead:
                guard input.readableCount > 0 else {
                    if !draining { deadline = System.monotonicNanos() + configuration.idleTimeout.nanoseconds }
                    return
                }
                if !readHead() { return }
            case .readingBody:
                if !readBody() { return }
            default:
                return
            }
        }
    }

    /// Returns true when a head was parsed (and the state moved on).
    private func readHead() -> Bool {
        let limits = loop.core.limits
        let headEnd = findHeadEnd()
        guard headEnd || input.readableCount > limits.maxRequestLineBytes else {
            startRequestClockIfNeeded()
            return false
        }
        let parsed: (head: RequestHead, consumed: Int)?
        do {
            parsed = try input.withReadableBytes { (bytes) throws(HTTPParseError) in
                try RequestParser.parseHead(bytes, limits: limits)
            }
        } catch {
            fail(error)
            return false
        }
        guard let (head, consumed) = parsed else {
            startRequestClockIfNeeded()
            return false
        }
        input.consume(consumed)
        scannedForHeadEnd = 0
        self.head = head
        body = []
        if head.framing == .none {
            dispatch()
            return false
        }
        // A body that may be larger than max_body_bytes (an upload) is not read until the
        // responder has looked at the head: a request without the right key is answered from it,
        // and nothing of its body is held.
        if head.maxBodyBytes > limits.maxBodyBytes {
            admit(head)
            return false
        }
        beginBody(head)
        return true
    }

    private func beginBody(_ head: RequestHead) {
        switch head.framing {
        case .none:
            break
        case .length(let length):
            // No capacity is reserved from Content-Length: the client's number is a claim, and
            // memory is taken only as bytes arrive.
            bodyRemaining = length
        case .chunked:
            chunked = ChunkedDecoder(maxBodyBytes: head.maxBodyBytes, maxTrailerBytes: loop.core.limits.maxHeaderBytes)
        }
        state = .readingBody
        deadline = System.monotonicNanos() + configuration.bodyReadTimeout.nanoseconds
        // RFC 9110 §10.1.1: the client waits for 100 before sending the body; skip it when the
        // body has already started to arrive.
        if head.expectsContinue, head.version == .http1_1, input.readableCount == 0 {
            output.append(contentsOf: ResponseEncoder.continueLine)
            flush()
        }
    }

    private func admit(_ head: RequestHead) {
        state = .admitting
        // No clock while the responder decides (as while a handler runs); the body's clock
        // starts when it is admitted.
        deadline = 0
        headClockRunning = false
        let core = loop.core
        var request = Request(head: head.request, version: head.version, target: head.target)
        request.remoteAddress = peerAddress
        Task(executorPreference: loop) {
            let admission = await core.responder.admit(request, context: RequestContext(logger: core.logger))
            self.admitted(admission, head)
        }
    }

    /// Called on the loop thread with the responder's answer.
    private func admitted(_ admission: BodyAdmission, _ head: RequestHead) {
        guard state == .admitting else { return }
        switch admission {
        case .answer(let response):
            // The body is never read: the answer goes out and the connection is closed after it
            // (lingering discards what the client still sends, RFC 9112 §9.6).
            self.head = nil
            ResponseEncoder.encode(response, keepAlive: false, omitBody: head.request.method == .head,
                                   date: loop.dateCache.current(), serverName: configuration.serverName, into: &output)
            state = .writingFinal
            flush()
            return
        case .spool:
            do {
                spool = try SpooledBody(directory: configuration.spoolDirectory, budget: loop.core.spooledBodies)
            } catch {
                fail(HTTPParseError(.serviceUnavailable, "the upload cannot be stored now; retry later"))
                return
            }
        case .buffer:
            break
        }
        beginBody(head)
        updateInterest(reading: true)
        process()
        if peerClosed, state == .readingBody { close() }
    }

    /// Counts `count` more bytes of body held in memory against the server's budget; false (and
    /// the connection answered 503) when the budget has no room for them.
    private func holdBuffered(_ count: Int) -> Bool {
        guard count > 0 else { return true }
        guard loop.core.bufferedBodies.reserve(count) else {
            fail(HTTPParseError(.serviceUnavailable, "the server holds too many request bodies now; retry later"))
            return false
        }
        bufferedBytes += count
        return true
    }

    /// False (and the connection answered 503) when the spool could not take the bytes.
    private func spooled(_ outcome: SpooledBody.Appended) -> Bool {
        switch outcome {
        case .stored:
            return true
        case .overBudget:
            fail(HTTPParseError(.serviceUnavailable, "the server holds too many uploads now; retry later"))
        case .refused:
            fail(HTTPParseError(.serviceUnavailable, "the upload cannot be stored now; retry later"))
        }
        return false
    }

    /// Called when a request is done (answered, failed or its connection closed): its body's
    /// bytes stop counting against the budgets then, not whenever the handler's copy of the
    /// request happens to be released.
    func releaseBody() {
        handedSpool?.finish()
        handedSpool = nil
        guard bufferedBytes > 0 else { return }
        loop.core.bufferedBodies.release(bufferedBytes)
        bufferedBytes = 0
    }

    /// Scans only bytes not seen before for the blank line ending a head, so a client trickling
    /// its header one byte at a time costs linear work.
    private func findHeadEnd() -> Bool {
        input.withReadableBytes { bytes in
            var index = max(0, scannedForHeadEnd - 3)
            while index < bytes.count {
                // RFC 9112 §2.2: a bare CR is invalid; let the parser refuse it now rather than
                // hold the connection until the header time-out.
                if bytes[index] == 13, index + 1 < bytes.count, bytes[index + 1] != 10 { return true }
                if bytes[index] == 10 {
                    // A bare LF is refused by the parser; let it see the head now rather than
                    // wait for a CRLFCRLF that may never come.
                    if index == 0 || bytes[index - 1] != 13 { return true }
                    if index >= 3, bytes[index - 2] == 10, bytes[index - 3] == 13 { return true }
                }
                index += 1
            }
            scannedForHeadEnd = bytes.count
            return false
        }
    }

    /// The header-read clock starts with the first byte of a request (slowloris defence); the
    /// idle clock stops then.
    private func startRequestClockIfNeeded() {
        guard !headClockRunning, input.readableCount > 0 else { return }
        headClockRunning = true
        deadline = System.monotonicNanos() + configuration.headerReadTimeout.nanoseconds
    }

    private var headClockRunning = false

    /// Returns true when the body is complete and the request was handed on.
    private func readBody() -> Bool {
        if var decoder = chunked {
            let consumed: Int
            let before = body.count
            do {
                consumed = try input.withReadableBytes { (bytes) throws(HTTPParseError) in
                    try decoder.decode(bytes, into: &body)
                }
            } catch {
                fail(error)
                return false
            }
            input.consume(consumed)
            chunked = decoder
            if let spool {
                // Decoded pieces go straight to the file; the decoder counts the whole body
                // against the upload cap itself.
                let stored = body.withUnsafeBytes { spool.append($0) }
                body.removeAll(keepingCapacity: true)
                guard spooled(stored) else { return false }
            } else if !holdBuffered(body.count - before) {
                return false
            }
            guard decoder.isDone else { return false }
        } else {
            let take = min(bodyRemaining, input.readableCount)
            if take > 0 {
                if let spool {
                    let stored = input.withReadableBytes { spool.append(UnsafeRawBufferPointer(rebasing: $0[0..<take])) }
                    guard spooled(stored) else { return false }
                } else {
                    guard holdBuffered(take) else { return false }
                    input.withReadableBytes { body.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[0..<take])) }
                }
                input.consume(take)
                bodyRemaining -= take
            }
            guard bodyRemaining == 0 else { return false }
        }
        chunked = nil
        dispatch()
        return false
    }

    // MARK: - Handling

    private func dispatch() {
        guard let head else { return }
        state = .handling
        deadline = 0
        headClockRunning = false
        var request = Request(head: head.request, version: head.version, target: head.target, body: body)
        request.remoteAddress = peerAddress
        request.spooled = spool
        handedSpool = spool
        spool = nil
        body = []
        let core = loop.core
        guard ServerConfiguration.implementedMethods.contains(head.request.method) else {
            // RFC 9110 §9.1: a method the server does not implement is 501. Answered here, before
            // the application, so a made-up method never becomes a metric label or a log field
            // (each new name would be a new series, kept forever). CONNECT lands here too: we are
            // an origin server, not a proxy (RFC 9110 §9.3.6).
            var response = Problem(status: .notImplemented, code: .notImplemented,
                                   detail: "This method is not implemented.").response
            core.stampRequestID(&response)
            complete(response, for: head)
            return
        }
        Task(executorPreference: loop) {
            let response = await core.responder.respond(to: request, context: RequestContext(logger: core.logger))
            if let stream = response.stream {
                await self.stream(response, stream, for: head)
            } else {
                self.complete(response, for: head)
            }
        }
    }

    /// Called on the loop thread with the handler's response.
    private func complete(_ response: Response, for head: RequestHead) {
        guard state == .handling else { return }
        releaseBody()
        let core = loop.core
        var response = response
        // A client that half-closed after pipelining still gets every request it sent answered
        // (RFC 9112 §9.6 closes after the last one, not the first).
        let keepAlive = head.keepAlive && !draining && !core.isDraining && !(peerClosed && input.readableCount == 0)
        if response.body.count >= configuration.gzipMinimumBytes,
            response.headerFields[.contentEncoding] == nil,
            Gzip.isAccepted(by: head.request.headerFields[.acceptEncoding])
        {
            if let compressed = Gzip.compress(response.body, level: configuration.gzipLevel),
                compressed.count < response.body.count
            {
                response.body = compressed
                response.headerFields[.contentEncoding] = "gzip"
            }
            // RFC 9110 §12.5.5: the representation depends on Accept-Encoding.
            response.headerFields[.vary] = "Accept-Encoding"
        }
        ResponseEncoder.encode(response, keepAlive: keepAlive,
                               omitBody: head.request.method == .head, date: loop.dateCache.current(),
                               serverName: configuration.serverName, into: &output)
        self.head = nil
        state = keepAlive ? .writingResponse : .writingFinal
        flush()
    }

    // MARK: - Timeouts, drain, close

    func deadlinePassed(now: UInt64) {
        switch state {
        case .readingHead where input.readableCount == 0:
            close()  // idle keep-alive connection
        case .readingHead, .readingBody:
            fail(HTTPParseError(.requestTimeout, "the request was not received in time"))
        case .writingResponse, .writingFinal, .lingering, .streaming:
            close()
        case .admitting, .handling, .closed:
            deadline = 0
        }
    }

    /// Called by the loop's periodic sweep: an idle connection keeps no buffers.
    func trimIfIdle() {
        guard state == .readingHead, input.readableCount == 0, output.isEmpty else { return }
        input.releaseIfEmpty()
        if output.capacity > 0 { output = [] }
    }

    func drain() {
        draining = true
        if state == .readingHead, input.readableCount == 0 { close() }
    }

    func close() {
        guard state != .closed else { return }
        state = .closed
        deadline = 0
        spool = nil
        releaseBody()
        resumeDrainWaiter(throwing: true)
        Glibc.close(fd)
        loop.forget(self)
    }

    func updateInterest(reading: Bool? = nil, writing: Bool? = nil) {
        var wanted = interest
        if let reading {
            wanted = reading && !peerClosed ? wanted | EPOLLIN.rawValue : wanted & ~EPOLLIN.rawValue
        }
        if let writing {
            wanted = writing ? wanted | EPOLLOUT.rawValue : wanted & ~EPOLLOUT.rawValue
        }
        if wanted != interest {
            interest = wanted
            loop.modify(fd, events: wanted)
        }
    }
}
