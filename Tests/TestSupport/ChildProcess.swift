#if canImport(Glibc)
import Glibc
#endif
import CSpawn
import Foundation

/// A child process the tests start: `posix_spawn`, never `Foundation.Process`, whose start-up in
/// Swift 6.3 can read past a `dirent` and take the whole test process down (README
/// "Development").
///
/// Every child gets a pipe as its standard input whose writing end only this process holds (the
/// "lifeline"): when this process ends, however it ends, the pipe closes, and
/// `creditline serve --stop-when-stdin-closes` drains and exits. Nothing started by a test
/// outlives the test run.
public final class ChildProcess: @unchecked Sendable {
    public enum Termination: Equatable, Sendable {
        case exited(Int32)
        case signalled(Int32)

        /// The exit code, or 128 plus the signal's number, as a shell reports it.
        public var status: Int32 {
            switch self {
            case .exited(let code): code
            case .signalled(let signal): 128 + signal
            }
        }
    }

    public struct Result: Sendable {
        public var termination: Termination
        public var stdout: String
        public var stderr: String
        /// True when the deadline passed and the child was killed.
        public var timedOut: Bool
        public var status: Int32 { termination.status }
    }

    public enum Output: Sendable {
        case discard
        /// Appended to this file (created when missing).
        case file(String)
    }

    public struct SpawnError: Error, CustomStringConvertible {
        public let call: String
        public let code: Int32
        public var description: String { "\(call) failed: \(String(cString: strerror(code)))" }
    }

    public let pid: pid_t
    private let lock = NSLock()
    private var lifeline: Int32
    private var ended: Termination?

    private init(pid: pid_t, lifeline: Int32) {
        self.pid = pid
        self.lifeline = lifeline
    }

    /// Runs a command to its end and returns what it printed. stdout and stderr are drained
    /// together, so neither pipe can fill and stall the child; past `deadline` the child is
    /// killed, so a hung command fails its test instead of holding the run.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                           directory: String? = nil, deadline: Duration = .seconds(120)) throws -> Result
    {
        let out = try Pipe.make()
        let err = try Pipe.make()
        let child: ChildProcess
        do {
            child = try spawn(executable, arguments, environment: environment, directory: directory,
                              stdout: .descriptor(out.write), stderr: .descriptor(err.write))
        } catch {
            for fd in [out.read, out.write, err.read, err.write] { close(fd) }
            throw error
        }
        close(out.write)
        close(err.write)
        defer {
            close(out.read)
            close(err.read)
        }
        let (stdout, stderr, timedOut) = drain(out.read, err.read, child: child, deadline: deadline)
        return Result(termination: child.wait(), stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self), timedOut: timedOut)
    }

    /// Starts a command and returns at once; its stderr is discarded.
    public static func start(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                             directory: String? = nil, output: Output = .discard) throws -> ChildProcess
    {
        let stdout: Stream = switch output {
        case .discard: .null
        case .file(let path): .file(path)
        }
        return try spawn(executable, arguments, environment: environment, directory: directory,
                         stdout: stdout, stderr: .null)
    }

    public func signal(_ number: Int32) {
        lock.withLock {
            if ended == nil { _ = kill(pid, number) }
        }
    }

    public func terminate() { signal(SIGTERM) }

    /// Waits for the child to end and reaps it.
    @discardableResult
    public func wait() -> Termination {
        if let ended = lock.withLock({ ended }) { return ended }
        var status: Int32 = 0
        var reaped: pid_t
        repeat { reaped = waitpid(pid, &status, 0) } while reaped == -1 && errno == EINTR
        return record(reaped == pid ? Self.termination(status) : .exited(-1))
    }

    public var isRunning: Bool {
        if lock.withLock({ ended }) != nil { return false }
        var status: Int32 = 0
        let reaped = waitpid(pid, &status, WNOHANG)
        if reaped == 0 { return true }
        record(reaped == pid ? Self.termination(status) : .exited(-1))
        return false
    }

    @discardableResult
    private func record(_ termination: Termination) -> Termination {
        lock.withLock {
            if ended == nil {
                ended = termination
                close(lifeline)
                lifeline = -1
            }
            return ended!
        }
    }

    private static func termination(_ status: Int32) -> Termination {
        // WIFEXITED / WTERMSIG, which Swift cannot import as macros.
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }

    private enum Stream {
        case null
        case file(String)
        case descriptor(Int32)
    }

    private enum Pipe {
        static func make() throws -> (read: Int32, write: Int32) {
            var fds: [Int32] = [0, 0]
            guard cspawn_pipe_cloexec(&fds) == 0 else { throw SpawnError(call: "pipe2", code: errno) }
            return (fds[0], fds[1])
        }
    }

    private static func spawn(_ executable: String, _ arguments: [String], environment: [String: String],
                              directory: String?, stdout: Stream, stderr: Stream) throws -> ChildProcess
    {
        let lifeline = try Pipe.make()
        defer { close(lifeline.read) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var checked: [(String, Int32)] = [("dup2 stdin", posix_spawn_file_actions_adddup2(&actions, lifeline.read, 0))]
        for (target, stream) in [(Int32(1), stdout), (2, stderr)] {
            switch stream {
            case .null:
                checked.append(("open /dev/null", posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)))
            case .file(let path):
                checked.append(("open \(path)", posix_spawn_file_actions_addopen(
                    &actions, target, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)))
            case .descriptor(let fd):
                checked.append(("dup2", posix_spawn_file_actions_adddup2(&actions, fd, target)))
            }
        }
        checked.append(("closefrom", cspawn_file_actions_addclosefrom(&actions, 3)))
        if let directory { checked.append(("chdir", cspawn_file_actions_addchdir(&actions, directory))) }
        if let failed = checked.first(where: { $0.1 != 0 }) { throw SpawnError(call: failed.0, code: failed.1) }

        // A child starts with default signal dispositions and nothing blocked, whatever this
        // process ignores or blocks (an ignored SIGPIPE or SIGTERM survives exec otherwise).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD] { sigaddset(&defaults, number) }
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let merged = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            close(lifeline.write)
            throw SpawnError(call: "posix_spawn \(executable)", code: result)
        }
        return ChildProcess(pid: pid, lifeline: lifeline.write)
    }

    /// Reads both pipes to their ends; kills the child once the deadline passes.
    private static func drain(_ out: Int32, _ err: Int32, child: ChildProcess, deadline: Duration)
        -> (Data, Data, Bool)
    {
        let clock = ContinuousClock()
        let end = clock.now + deadline
        var collected = [Data(), Data()]
        var open = [true, true]
        var killed = false
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while open.contains(true) {
            let left = end - clock.now
            if left <= .zero && !killed {
                child.signal(SIGKILL)
                killed = true
            }
            var fds = [pollfd(fd: open[0] ? out : -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: open[1] ? err : -1, events: Int16(POLLIN), revents: 0)]
            // After the kill, a grandchild may still hold a pipe: give it ten seconds, then stop.
            let wait = killed ? 10_000 : max(1, Int32(min(left.components.seconds * 1000 + 1, 60_000)))
            let ready = poll(&fds, 2, Int32(wait))
            if ready == 0 && killed { break }
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            for index in 0..<2 where open[index] && fds[index].revents != 0 {
                let count = read(fds[index].fd, &buffer, buffer.count)
                if count > 0 {
                    collected[index].append(contentsOf: buffer[0..<count])
                } else if count == 0 || errno != EINTR {
                    open[index] = false
                }
            }
        }
        return (collected[0], collected[1], killed)
    }
}
