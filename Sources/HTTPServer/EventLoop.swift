#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Foundation
import Synchronization

/// One thread, one epoll set, one listener. It also serves as the task executor for the
/// handlers of its connections, so a request's parsing, handling and writing stay on one
/// thread unless a handler awaits something elsewhere.
///
/// `@unchecked Sendable`: the descriptors are immutable after init, the job queue is behind a
/// Mutex, and every other field is touched only on the loop's own thread.
final class EventLoop: TaskExecutor, @unchecked Sendable {
    let core: ServerCore
    let epollFD: Int32
    private let wakeFD: Int32
    private var listenFD: Int32
    private let jobs = Mutex<[UnownedJob]>([])
    private let threadID = Atomic<UInt>(0)
    private let finished = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    var connections: [Int32: Connection] = [:]
    /// Every read lands here first (see `InputBuffer`); one per loop, used by one connection at a time.
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    var dateCache = DateCache()
    private var drainDeadline: UInt64? = nil
    private var stopped = false
    private let tickMillis: Int32
    private var nextSweep: UInt64 = 0
    /// While out of descriptors the listener is out of the epoll set until this time: a pending
    /// connection we cannot accept would otherwise wake the loop at once, forever.
    private var acceptPausedUntil: UInt64? = nil

    init(core: ServerCore, listenFD: Int32) throws {
        self.core = core
        self.listenFD = listenFD
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw SystemError.last("epoll_create1") }
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wakeFD >= 0 else { throw SystemError.last("eventfd") }
        let configuration = core.configuration
        // Deadlines are checked each tick; a quarter of the shortest timeout keeps them accurate
        // to 25 % without waking idle loops more than four times a second.
        let shortest = [configuration.headerReadTimeout, configuration.idleTimeout, configuration.bodyReadTimeout,
                        configuration.writeTimeout].map(\.nanoseconds).min() ?? 1_000_000_000
        tickMillis = Int32(min(250, max(5, shortest / 4 / 1_000_000)))
        register(wakeFD, events: EPOLLIN.rawValue)
        register(listenFD, events: EPOLLIN.rawValue)
    }

    deinit { scratch.deallocate() }

    // MARK: - Executor

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        jobs.withLock { $0.append(unowned) }
        if !inLoopThread { wake() }
    }

    var inLoopThread: Bool {
        threadID.load(ordering: .relaxed) == UInt(pthread_self())
    }

    /// Runs `body` on the loop thread (now, if already there).
    func execute(_ body: @escaping @Sendable () -> Void) {
        Task(executorPreference: self) { body() }
    }

    private func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    private func runJobs() {
        // Bounded rounds, so tasks that keep re-enqueueing cannot starve socket events.
        for _ in 0..<4 {
            let batch = jobs.withLock { queue -> [UnownedJob] in
                let batch = queue
                queue.removeAll(keepingCapacity: true)
                return batch
            }
            if batch.isEmpty { return }
            for job in batch {
                job.runSynchronously(on: asUnownedTaskExecutor())
            }
        }
    }

    private var hasJobs: Bool { jobs.withLock { !$0.isEmpty } }

    // MARK: - Loop

    func start(name: String) {
        let thread = Thread { [self] in
            run()
        }
        thread.name = name
        thread.start()
    }

    private func run() {
        threadID.store(UInt(pthread_self()), ordering: .relaxed)
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        while !stopped {
            let timeout = hasJobs ? 0 : tickMillis
            let count = epoll_wait(epollFD, &events, Int32(events.count), timeout)
            if count < 0 {
                if errno == EINTR { continue }
                core.logger.critical("epoll_wait failed", metadata: ["error": "\(System.errnoDescription)"])
                break
            }
            for index in 0..<Int(count) {
                let event = events[index]
                let fd = event.data.fd
                if fd == wakeFD {
                    var value: UInt64 = 0
                    _ = Glibc.read(wakeFD, &value, 8)
                } else if fd == listenFD {
                    acceptConnections()
                } else if let connection = connections[fd] {
                    connection.handle(events: event.events)
                }
            }
            runJobs()
            let now = System.monotonicNanos()
            if now >= nextSweep {
                nextSweep = now + UInt64(tickMillis) * 1_000_000
                sweep(now: now)
            }
            if let drainDeadline {
                if connections.isEmpty {
                    stopped = true
                } else if now >= drainDeadline {
                    for connection in Array(connections.values) { connection.close() }
                    stopped = true
                }
            }
        }
        runJobs()
        close(epollFD)
        close(wakeFD)
        let waiters = finished.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.done = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func acceptConnections() {
        // A bounded batch per wake-up keeps one burst from delaying the other connections' events.
        for _ in 0..<64 {
            let fd = clinux_accept_nonblocking(listenFD)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if errno == EMFILE || errno == ENFILE { pauseAccepting() }
                return
            }
            if !core.reserveConnection() {
                refuse(fd)
                continue
            }
            Socket.setNoDelay(fd)
            let connection = Connection(fd: fd, loop: self)
            connections[fd] = connection
            register(fd, events: EPOLLIN.rawValue)
            connection.startIdle(now: System.monotonicNanos())
        }
    }

    /// Out of descriptors: stop watching the listener for a while (pending clients wait in the
    /// kernel's backlog), and say so at most once per interval however often it happens.
    private func pauseAccepting() {
        let now = System.monotonicNanos()
        acceptPausedUntil = now + ServerCore.acceptPause.nanoseconds
        epoll_ctl(epollFD, EPOLL_CTL_DEL, listenFD, nil)
        core.reportDescriptorExhaustion(now: now)
    }

    private func resumeAcceptingIfDue(now: UInt64) {
        guard let until = acceptPausedUntil, now >= until, drainDeadline == nil else { return }
        acceptPausedUntil = nil
        register(listenFD, events: EPOLLIN.rawValue)
    }

    /// Over the connection cap: a short 503 and close, so a client learns why, and the process
    /// keeps its descriptors for the connections it already serves.
    private func refuse(_ fd: Int32) {
        var bytes: [UInt8] = []
        let problem = Problem(status: .serviceUnavailable, code: .tooManyConnections,
                              detail: "The server is at its connection limit; retry shortly.",
                              headerFields: [.retryAfter: "1"])
        var response = problem.response
        core.stampRequestID(&response)
        ResponseEncoder.encode(response, keepAlive: false, omitBody: false,
                               date: dateCache.current(), serverName: core.configuration.serverName, into: &bytes)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        close(fd)
    }

    private func sweep(now: UInt64) {
        resumeAcceptingIfDue(now: now)
        core.returnMemoryIfCrowdLeft()
        for connection in connections.values {
            if connection.deadline != 0, now >= connection.deadline {
                connection.deadlinePassed(now: now)
            } else {
                connection.trimIfIdle()
            }
        }
    }

    // MARK: - Shutdown

    /// Stops accepting; idle connections close now, busy ones after their response, all of them
    /// by `deadline` at the latest.
    func beginDrain(deadline: UInt64) {
        guard drainDeadline == nil else { return }
        drainDeadline = deadline
        if listenFD >= 0 {
            epoll_ctl(epollFD, EPOLL_CTL_DEL, listenFD, nil)
            close(listenFD)
            listenFD = -1
        }
        for connection in Array(connections.values) { connection.drain() }
    }

    func waitUntilFinished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = finished.withLock { state -> Bool in
                if !state.done { state.waiters.append(continuation) }
                return state.done
            }
            if done { continuation.resume() }
        }
    }

    // MARK: - epoll

    func register(_ fd: Int32, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event)
    }

    func modify(_ fd: Int32, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event)
    }

    func forget(_ connection: Connection) {
        connections[connection.fd] = nil
        core.releaseConnection()
    }
}
