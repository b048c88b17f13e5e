#if canImport(Glibc)
import Glibc
#endif
import CLinux
import HTTPTypes
import Logging
import Synchronization

/// What every loop shares: configuration, the responder, and the counters.
final class ServerCore: Sendable {
    let configuration: ServerConfiguration
    let limits: ParserLimits
    let responder: any HTTPResponder
    let logger: Logger
    private let open = Atomic<Int>(0)
    private let draining = Atomic<Bool>(false)
    private let requestIDCounter = Atomic<Int>(0)
    private let requestIDPrefix: String = {
        var generator = SystemRandomNumberGenerator()
        return "srv_" + String(generator.next() & 0xFFFF_FFFF_FFFF, radix: 36) + "-"
    }()
    let requestIDField: HTTPField.Name?
    /// `maxConnections`, lowered if need be to fit under the process's descriptor limit.
    let maxConnections: Int
    /// How long accepting pauses when descriptors run out, and how often that is logged at most.
    static let acceptPause: Duration = .milliseconds(100)
    static let exhaustionLogInterval: Duration = .seconds(10)
    private let exhaustion = Mutex<(lastLogged: UInt64?, suppressed: Int)>((nil, 0))

    init(configuration: ServerConfiguration, responder: any HTTPResponder, logger: Logger) {
        self.configuration = configuration
        self.maxConnections = DescriptorLimit.connectionCap(configured: configuration.maxConnections, logger: logger)
        self.limits = ParserLimits(configuration)
        self.responder = responder
        self.logger = logger
        self.requestIDField = configuration.requestIDField.flatMap { HTTPField.Name($0) }
        self.bufferedBodies = ByteBudget(limit: configuration.maxBufferedBodyBytes)
        self.spooledBodies = ByteBudget(limit: configuration.maxSpooledBodyBytes)
    }

    /// Adds a fresh request id to a response the server answers on its own.
    func stampRequestID(_ response: inout Response) {
        guard let requestIDField else { return }
        let value = requestIDCounter.wrappingAdd(1, ordering: .relaxed).newValue
        response.headerFields[requestIDField] = requestIDPrefix + String(value, radix: 36)
    }

    var openConnections: Int { open.load(ordering: .relaxed) }
    var isDraining: Bool { draining.load(ordering: .relaxed) }

    func reserveConnection() -> Bool {
        let now = open.wrappingAdd(1, ordering: .relaxed).newValue
        if now > maxConnections {
            open.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        if now > peakSinceTrim.load(ordering: .relaxed) { peakSinceTrim.store(now, ordering: .relaxed) }
        return true
    }

    /// The most connections open at once since memory was last handed back.
    private let peakSinceTrim = Atomic<Int>(0)

    /// After a crowd of connections has gone (a flood, a slowloris attack), hands the memory
    /// their buffers used back to the operating system: glibc's allocator keeps freed memory for
    /// reuse, so without this the process would stay at its high-water mark.
    func returnMemoryIfCrowdLeft() {
        let peak = peakSinceTrim.load(ordering: .relaxed)
        guard peak >= 256, openConnections <= peak / 4 else { return }
        guard peakSinceTrim.compareExchange(expected: peak, desired: 0, ordering: .relaxed).exchanged else { return }
        _ = malloc_trim(0)
    }

    func releaseConnection() { open.wrappingSubtract(1, ordering: .relaxed) }

    /// Request-body bytes held in memory by every connection together, and spooled to disk by
    /// every admitted upload together (README "Hostile clients and faults").
    let bufferedBodies: ByteBudget
    let spooledBodies: ByteBudget

    func startDraining() -> Bool { !draining.exchange(true, ordering: .relaxed) }

    /// One log line per interval while descriptors are exhausted, with how many times it
    /// happened since the last one: a flood of identical lines would fill the disk next.
    func reportDescriptorExhaustion(now: UInt64) {
        let report = exhaustion.withLock { state -> Int? in
            if let last = state.lastLogged, now - last < Self.exhaustionLogInterval.nanoseconds {
                state.suppressed += 1
                return nil
            }
            defer { state = (now, 0) }
            return state.suppressed
        }
        guard let suppressed = report else { return }
        logger.error("out of file descriptors; accepting paused", metadata: [
            "open_connections": .stringConvertible(openConnections), "max_connections": .stringConvertible(maxConnections),
            "since_last_report": .stringConvertible(suppressed),
        ])
    }
}

/// The process's descriptor limit (RLIMIT_NOFILE) and what it leaves for connections.
enum DescriptorLimit {
    /// Descriptors kept for everything that is not a client connection: the database and its
    /// WAL, the listeners, epoll and eventfd per loop, logs, and one spare per loop to accept a
    /// connection over the cap and answer it 503.
    static let reserve = 64

    /// Raises the soft limit to the hard one (the common soft default of 1,024 is far below the
    /// default cap of 10,000 connections), then caps connections below what it allows.
    static func connectionCap(configured: Int, logger: Logger) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return configured }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let available = limit.rlim_cur == rlim_t.max ? Int.max : Int(clamping: limit.rlim_cur)
        let cap = max(1, available - reserve)
        guard configured > cap else { return configured }
        logger.warning("max_connections lowered to fit the descriptor limit", metadata: [
            "configured": .stringConvertible(configured), "max_connections": .stringConvertible(cap),
            "descriptor_limit": .stringConvertible(available),
        ])
        return cap
    }
}

/// An HTTP/1.1 server on epoll: `eventLoopThreads` loops, each with its own listener on the
/// same port, its connections, and its handler tasks.
public final class HTTPServer: Sendable {
    private let core: ServerCore
    private let state = Mutex<(loops: [EventLoop], port: Int, claimed: Int?)>(([], 0, nil))

    public init(configuration: ServerConfiguration = ServerConfiguration(), responder: some HTTPResponder,
                logger: Logger = Logger(label: "http"))
    {
        core = ServerCore(configuration: configuration, responder: responder, logger: logger)
    }

    /// Binds and starts the loops; returns once the port accepts connections.
    public func start() throws {
        let configuration = core.configuration
        let threads = max(1, configuration.eventLoopThreads)
        var loops: [EventLoop] = []
        var port = configuration.port
        var claimedPort: Int? = nil
        do {
            for _ in 0..<threads {
                var listener = try Socket.listen(host: configuration.host, port: port, backlog: configuration.backlog)
                if port == 0 {
                    // Port 0: the first bind picks the port and the other loops join it. With
                    // SO_REUSEPORT the kernel may pick a port another server of this process
                    // already listens on, and the two would share connections; pick again.
                    for _ in 0..<16 {
                        if EphemeralPorts.claim(listener.port) {
                            claimedPort = listener.port
                            break
                        }
                        let taken = listener
                        listener = try Socket.listen(host: configuration.host, port: 0, backlog: configuration.backlog)
                        close(taken.fd)
                    }
                }
                port = listener.port
                loops.append(try EventLoop(core: core, listenFD: listener.fd))
            }
        } catch {
            for loop in loops { loop.beginDrain(deadline: 0) }
            if let claimedPort { EphemeralPorts.release(claimedPort) }
            throw error
        }
        state.withLock { $0 = (loops, port, claimedPort) }
        // Ignoring SIGPIPE is belt and braces: sends already pass MSG_NOSIGNAL.
        signal(SIGPIPE, SIG_IGN)
        for (index, loop) in loops.enumerated() { loop.start(name: "http-loop-\(index)") }
        core.logger.info("listening", metadata: ["host": "\(configuration.host)", "port": "\(port)"])
    }

    /// The bound port (useful with port 0).
    public var port: Int { state.withLock { $0.port } }
    public var openConnections: Int { core.openConnections }
    /// True from the moment shutdown begins; readiness probes should then fail.
    public var isDraining: Bool { core.isDraining }

    /// Graceful shutdown: stop accepting, close idle connections, let in-flight requests finish
    /// (each answered with `Connection: close`) until the grace period ends, then close the rest.
    public func shutdown() async {
        let loops = state.withLock { $0.loops }
        if core.startDraining() {
            let deadline = System.monotonicNanos() + core.configuration.shutdownGracePeriod.nanoseconds
            for loop in loops { loop.execute { loop.beginDrain(deadline: deadline) } }
        }
        for loop in loops { await loop.waitUntilFinished() }
        if let claimed = state.withLock({ state in defer { state.claimed = nil }; return state.claimed }) {
            EphemeralPorts.release(claimed)
        }
    }

    /// Runs until `shutdown()` completes.
    public func waitUntilStopped() async {
        let loops = state.withLock { $0.loops }
        for loop in loops { await loop.waitUntilFinished() }
    }
}

/// Ports picked by the kernel for this process's servers (port 0), so that two of them never
/// share one through SO_REUSEPORT.
enum EphemeralPorts {
    private static let taken = Mutex<Set<Int>>([])

    static func claim(_ port: Int) -> Bool { taken.withLock { $0.insert(port).inserted } }
    static func release(_ port: Int) { _ = taken.withLock { $0.remove(port) } }
}
