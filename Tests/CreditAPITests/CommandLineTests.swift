#if canImport(Glibc)
import Glibc
#endif
import Foundation
import CreditApp
import GRDB
import Testing

/// The built `creditline` executable, run as an operator would run it.
struct CommandLine_ {
    static var executable: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("creditline").path
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess.Result {
        try ChildProcess.run(executable, arguments, environment: environment, directory: repositoryRoot)
    }

    /// A database with one service key, and `creditline serve` on it at a random port, ready.
    /// `wrapper` runs before the executable (`prlimit --nofile=…`), as a launcher would.
    static func startServe(environment: [String: String] = [:], output: ChildProcess.Output = .discard,
                           wrapper: [String] = []) async throws
        -> (process: ChildProcess, db: String, key: String, port: Int)
    {
        let db = try temporaryDatabase()
        let key = try run(["keys", "create", "--role", "service", "--db", db]).stdout
            .split(separator: "\n").last.map(String.init) ?? ""
        let port = 20_000 + Int.random(in: 0..<10_000)
        let process = try serve(["--port", String(port), "--db", db], environment: environment, output: output,
                                wrapper: wrapper)
        _ = await eventually { CommandLine_.isReady(port: port) }
        return (process, db, key, port)
    }

    /// `creditline serve` with these arguments, told to stop when this process ends (its stdin
    /// closes), so that no server outlives a crashed test run.
    static func serve(_ arguments: [String], environment: [String: String] = [:], output: ChildProcess.Output = .discard,
                      wrapper: [String] = []) throws -> ChildProcess
    {
        let command = wrapper + [executable, "serve", "--stop-when-stdin-closes"] + arguments
        return try ChildProcess.start(command[0], Array(command.dropFirst()), environment: environment,
                                      directory: repositoryRoot, output: output)
    }

    /// Whether a server on `port` answers /readyz with 200, as `healthcheck` asks (waiting up to
    /// its 3 s: a server taking back a backlog of connections answers late), over a socket:
    /// polling for a starting server by running the executable each time cost more than the start.
    static func isReady(port: Int) -> Bool {
        guard let client = try? RawClient(port: port, receiveTimeout: 3) else { return false }
        client.send("GET /readyz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        return client.read()?.status == 200
    }

    static func temporaryDatabase() throws -> String {
        let folder = NSTemporaryDirectory() + "creditline-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder + "/cli.sqlite"
    }
}

@Suite(.serialized) struct CommandLineTests {
    @Test func executableIsBuilt() {
        #expect(FileManager.default.isExecutableFile(atPath: CommandLine_.executable))
    }

    /// `bureau report` (README "Credit reporting"): today's run once, read back after; a past day
    /// that never ran and a future day refused; --out writes the same lines elsewhere.
    @Test func bureauReportRunsADayOnce() throws {
        let db = try CommandLine_.temporaryDatabase()
        let folder = (db as NSString).deletingLastPathComponent
        _ = try CommandLine_.run(["keys", "create", "--role", "service", "--db", db])
        let first = try CommandLine_.run(["bureau", "report", "--db", db])
        #expect(first.status == 0 && first.stdout.hasPrefix("reported "), "\(first.stdout) \(first.stderr)")
        let file = try #require(first.stdout.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        #expect(file.hasPrefix(folder + "/bureau/creditline-bureau-") && FileManager.default.fileExists(atPath: file))
        let again = try CommandLine_.run(["bureau", "report", "--db", db, "--out", folder + "/copy.jsonl"])
        #expect(again.status == 0 && again.stdout.hasPrefix("already reported:"), "\(again.stdout)")
        #expect(FileManager.default.contents(atPath: folder + "/copy.jsonl") == FileManager.default.contents(atPath: file))
        let past = try CommandLine_.run(["bureau", "report", "--db", db, "--date", "2020-01-01"])
        #expect(past.status == 1 && past.stderr.contains("no run was made that day"), "\(past.stderr)")
        let future = try CommandLine_.run(["bureau", "report", "--db", db, "--date", "2999-01-01"])
        #expect(future.status == 1 && future.stderr.contains("in the future"))
    }

    /// The public demo keys stay in demo databases (README "Try it"): `serve --demo` refuses a
    /// database with a key of its own and installs nothing there; it marks a new one, which it
    /// accepts again; a normal start refuses a demo database unless told `--allow-demo-keys`.
    @Test func demoKeysStayInDemoDatabases() async throws {
        func serve(_ arguments: [String], deadline: Duration = .seconds(30)) throws -> ChildProcess.Result {
            try ChildProcess.run(CommandLine_.executable, ["serve", "--port", "0", "--stop-when-stdin-closes"] + arguments,
                                 environment: ["CREDITLINE_LOG_LEVEL": "error"], directory: repositoryRoot, deadline: deadline)
        }
        let real = try CommandLine_.temporaryDatabase()
        #expect(try CommandLine_.run(["keys", "create", "--role", "service", "--db", real]).status == 0)
        let refused = try serve(["--demo", "--db", real])
        #expect(refused.status != 0 && !refused.timedOut, "serve --demo started on a database with a key of its own")
        #expect(refused.stderr.contains("serve --demo refuses"), "\(refused.stderr)")
        #expect(!(try CommandLine_.run(["keys", "list", "--db", real]).stdout.contains("demo")), "demo keys were installed")

        let demo = try CommandLine_.temporaryDatabase()
        for _ in 0..<2 {  // made, then accepted again
            let port = 20_000 + Int.random(in: 0..<10_000)
            let process = try CommandLine_.serve(["--demo", "--port", String(port), "--db", demo])
            #expect(await eventually(seconds: 20) { CommandLine_.isReady(port: port) })
            process.terminate()
            process.wait()
        }
        let normal = try serve(["--db", demo])
        #expect(normal.status != 0 && !normal.timedOut, "a normal start served a demo database")
        #expect(normal.stderr.contains("is a demo database"), "\(normal.stderr)")
        let port = 20_000 + Int.random(in: 0..<10_000)
        let allowed = try CommandLine_.serve(["--allow-demo-keys", "--port", String(port), "--db", demo])
        #expect(await eventually(seconds: 20) { CommandLine_.isReady(port: port) })
        allowed.terminate()
        allowed.wait()
    }

    @Test func keysCreatePrintsTheKeyAloneOnTheLastLine() throws {
        let db = try CommandLine_.temporaryDatabase()
        let result = try CommandLine_.run(["keys", "create", "--role", "operator", "--name", "ops", "--db", db])
        #expect(result.status == 0)
        let last = try #require(result.stdout.split(separator: "\n").last)
        #expect(last.hasPrefix("clk_"))
        #expect(!last.contains(" "))
        let listed = try CommandLine_.run(["keys", "list", "--db", db])
        #expect(listed.stdout.contains("operator"))
        #expect(!listed.stdout.contains(String(last)))
    }

    @Test func keysBelongToATenantOrToAll() throws {
        let db = try CommandLine_.temporaryDatabase()
        #expect(try CommandLine_.run(["keys", "create", "--role", "service", "--all-tenants", "--db", db]).status != 0)
        #expect(try CommandLine_.run(["keys", "create", "--role", "service", "--tenant", "Beta!", "--db", db]).status != 0)
        let global = try CommandLine_.run(["keys", "create", "--role", "operator", "--all-tenants", "--person", "ana",
                                           "--db", db])
        #expect(global.status == 0)
        #expect(global.stdout.contains("for every tenant"))
        let beta = try CommandLine_.run(["keys", "create", "--role", "service", "--tenant", "beta", "--db", db])
        #expect(beta.stdout.contains("for tenant beta"))
        let plain = try CommandLine_.run(["keys", "create", "--role", "auditor", "--db", db])
        #expect(plain.stdout.contains("for tenant default"))
        let list = try CommandLine_.run(["keys", "list", "--db", db]).stdout
        #expect(list.contains("\toperator\t*\t"))
        #expect(list.contains("\tservice\tbeta\t"))
        #expect(list.contains("\tauditor\tdefault\t"))
    }

    @Test func unknownRoleIsRefused() throws {
        let result = try CommandLine_.run(["keys", "create", "--role", "admin", "--db", try CommandLine_.temporaryDatabase()])
        #expect(result.status == 1)
        #expect(result.stderr.contains("--role"))
    }

    @Test func serveRefusesToStartWithoutAnyKey() throws {
        let result = try CommandLine_.run(["serve", "--port", "0", "--db", try CommandLine_.temporaryDatabase()])
        #expect(result.status == 1)
        #expect(result.stderr.contains("no API key"))
        #expect(result.stderr.contains("keys create"))
    }

    @Test func badEnvironmentValueStopsStartUp() throws {
        let result = try CommandLine_.run(["serve", "--db", try CommandLine_.temporaryDatabase()],
                                          environment: ["CREDITLINE_PORT": "http"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("'port'"))
        #expect(result.stderr.contains("CREDITLINE_PORT"))
    }

    @Test func migrateAppliesWithoutServing() throws {
        let db = try CommandLine_.temporaryDatabase()
        let result = try CommandLine_.run(["migrate", "--db", db])
        #expect(result.status == 0)
        #expect(FileManager.default.fileExists(atPath: db))
    }

    /// Bulk accounts for benchmarks go through the audited write path: each has its entry, the
    /// chain verifies, and generating again makes only the ones missing.
    @Test func generatedAccountsAreAuditedAndMadeOnce() async throws {
        let db = try CommandLine_.temporaryDatabase()
        let first = try CommandLine_.run(["seed", "--generate", "25", "--tenant", "shop-a", "--db", db])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("generated 25 new account(s)"))
        let second = try CommandLine_.run(["seed", "--generate", "30", "--tenant", "shop-a", "--db", db])
        #expect(second.stdout.contains("generated 5 new account(s)"))
        let (accounts, entries, tenants) = try await DatabaseQueue(path: db).read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM accounts WHERE customer_ref LIKE 'bulk-%'") ?? 0,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_log WHERE action = 'account.created'") ?? 0,
             try String.fetchAll(db, sql: "SELECT DISTINCT tenant FROM accounts"))
        }
        #expect(accounts == 30)
        #expect(entries == 30)
        #expect(tenants == ["shop-a"])
        #expect(try CommandLine_.run(["audit", "verify", "--db", db]).status == 0)
        #expect(try CommandLine_.run(["seed", "--generate", "5", "--tenant", "no spaces", "--db", db]).status != 0)
    }

    /// A server started with `--stop-when-stdin-closes` does not outlive its parent, even one
    /// killed with SIGKILL: the parent here is a small program that starts the server with a pipe
    /// as its stdin, prints the server's pid and kills itself.
    @Test func aServerEndsWhenItsParentIsKilled() async throws {
        let db = try CommandLine_.temporaryDatabase()
        #expect(try CommandLine_.run(["keys", "create", "--role", "service", "--db", db]).status == 0)
        let log = db + ".log"
        let parent = """
            import os, subprocess, sys
            read, write = os.pipe()
            server = subprocess.Popen(sys.argv[1:], stdin=read, stdout=open(sys.argv[-1] + ".log", "w"),
                                      stderr=subprocess.DEVNULL, start_new_session=True)
            print(server.pid, flush=True)
            import socket, time
            for _ in range(1000):  # killed once the server accepts connections, or after 20 s
                try:
                    socket.create_connection(("127.0.0.1", int(sys.argv[-3])), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.02)
            os.kill(os.getpid(), 9)
            """
        let port = 20_000 + Int.random(in: 0..<10_000)
        let started = try ChildProcess.run(
            "/usr/bin/env", ["python3", "-c", parent, CommandLine_.executable, "serve", "--stop-when-stdin-closes",
                             "--port", String(port), "--db", db], directory: repositoryRoot, deadline: .seconds(60))
        #expect(started.termination == .signalled(SIGKILL))
        let pid = try #require(Int32(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        func gone() -> Bool {
            // Ended, or ended and not yet reaped by whoever inherited it.
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
            return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
        }
        #expect(await eventually(seconds: 20, gone), "the server outlived its parent")
        if !gone() { kill(pid, SIGKILL) }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(text.contains(#""message":"draining""#) && text.contains(#""message":"stopped""#), "\(text)")
    }

    @Test func sigtermDrainsCheckpointsAndExitsZero() async throws {
        let (logPath, _) = try Self.logFile()
        let (process, db, key, port) = try await CommandLine_.startServe(output: .file(logPath))
        #expect((try CommandLine_.run(["healthcheck", "--port", String(port)])).status == 0)
        let client = try RawClient(port: port)
        let body = #"{"customer_ref":"sigterm-1"}"#
        client.send("POST /v1/accounts HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(key)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        #expect(client.read()?.status == 201)

        process.terminate()
        #expect(process.wait() == .exited(0))
        let log = try String(contentsOfFile: logPath, encoding: .utf8)
        #expect(log.contains(#""message":"draining""#))
        #expect(log.contains(#""message":"stopped""#))
        #expect(log.contains(#""message":"request""#))
        #expect(!log.contains(key))
        #expect(!log.contains("sigterm-1"))
        // The WAL was checkpointed into the main file and truncated.
        let wal = (try? FileManager.default.attributesOfItem(atPath: db + "-wal")[.size] as? Int) ?? 0
        #expect(wal == 0)
        #expect(try CommandLine_.run(["healthcheck", "--port", String(port)]).status == 1)
    }

    /// No acknowledged write is lost on kill -9 (README "Storage"). Writes are acknowledged only after their
    /// transaction commits; killing the process mid-stream must leave every acknowledged account
    /// (and its audit entry) in the file, with the chain intact. (This proves commit-before-
    /// acknowledge, not fsync: the OS still flushes after a process dies.)
    @Test func killNineLosesNoAcknowledgedWrite() async throws {
        let (process, db, key, port) = try await CommandLine_.startServe(
            environment: ["CREDITLINE_RATE_LIMIT_SERVICE": "0"])
        #expect((try CommandLine_.run(["healthcheck", "--port", String(port)])).status == 0)

        // 300 creates in flight on 300 connections; the process dies while they are answered.
        let clients = try (0..<300).map { _ in try RawClient(port: port, receiveTimeout: 5) }
        for (index, client) in clients.enumerated() {
            let body = #"{"customer_ref":"kill-\#(index)"}"#
            client.send("POST /v1/accounts HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(key)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        }
        var acknowledged: [String] = []
        for (index, client) in clients.enumerated() {
            if index == 100 { process.signal(SIGKILL) }
            if let reply = client.read(), reply.status == 201 { acknowledged.append("kill-\(index)") }
        }
        #expect(process.wait() == .signalled(SIGKILL))
        #expect(acknowledged.count >= 1)

        let stored = try Set(await DatabaseQueue(path: db).read { db in
            try String.fetchAll(db, sql: "SELECT customer_ref FROM accounts")
        })
        for ref in acknowledged { #expect(stored.contains(ref), "acknowledged \(ref) was lost") }
        let verify = try CommandLine_.run(["audit", "verify", "--db", db])
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    /// CPU seconds the process has used (user + system), from /proc.
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // Fields 14 and 15 of stat(5), counted after the command name: utime and stime in ticks.
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func logFile() throws -> (path: String, output: ChildProcess.Output) {
        let path = try CommandLine_.temporaryDatabase() + ".log"
        FileManager.default.createFile(atPath: path, contents: nil)
        return (path, .file(path))
    }

    /// At start the process raises its descriptor soft limit to the hard one and caps
    /// max_connections below it; connections past the cap are answered 503 at once, and /healthz
    /// is served again as soon as connections leave.
    @Test func theConnectionCapFitsTheDescriptorLimit() async throws {
        let (logPath, log) = try Self.logFile()
        let (process, _, _, port) = try await CommandLine_.startServe(
            output: log, wrapper: ["/usr/bin/prlimit", "--nofile=256:256", "--"])
        defer { process.terminate() }
        let clients = (0..<300).compactMap { _ in try? RawClient(port: port, receiveTimeout: 2) }
        #expect(clients.count == 300)
        // 256 descriptors less the reserve of 64: 192 held, the rest refused with a 503.
        var refused = 0
        for client in clients.suffix(100) {
            client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            if client.read()?.status == 503 { refused += 1 }
        }
        #expect(refused >= 100 - (300 - 192))
        for client in clients { client.hangUp() }
        #expect(await eventually(seconds: 10) { CommandLine_.isReady(port: port) })
        let text = try String(contentsOfFile: logPath, encoding: .utf8)
        #expect(text.contains("max_connections lowered to fit the descriptor limit"))
    }

    /// Out of descriptors (the limit lowered under a running server): accepting pauses instead of
    /// spinning, the log says so once per interval, and service resumes when connections leave.
    @Test func descriptorExhaustionPausesAcceptingQuietly() async throws {
        let (logPath, log) = try Self.logFile()
        let (process, _, _, port) = try await CommandLine_.startServe(output: log)
        defer { process.terminate() }
        let pid = process.pid
        #expect(try CommandLine_.run(["healthcheck", "--port", String(port)]).status == 0)
        let lowered = try ChildProcess.run("/usr/bin/prlimit", ["--pid", String(pid), "--nofile=128:128"])
        #expect(lowered.status == 0, "\(lowered.stderr)")

        let clients = (0..<300).compactMap { _ in try? RawClient(port: port, receiveTimeout: 1) }
        let before = Self.cpuSeconds(pid)
        try await Task.sleep(for: .seconds(1))
        let busy = Self.cpuSeconds(pid) - before
        #expect(busy < 0.5, "a core \(busy * 100) % busy while out of descriptors")
        for client in clients { client.hangUp() }
        // Seconds, not milliseconds, of slack: a suite running child servers beside this one can
        // slow the server's return to a second or more.
        #expect(await eventually(seconds: 10) { CommandLine_.isReady(port: port) })
        let text = try String(contentsOfFile: logPath, encoding: .utf8)
        #expect(text.utf8.count < 1_000_000)
        let reports = text.split(separator: "\n").filter { $0.contains("out of file descriptors") }.count
        #expect((1...2).contains(reports), "\(reports) reports")
    }
}

/// Progress on long commands (README "Command line", "Progress"): live on a terminal, a final
/// line alone otherwise, the choice overridden by `--progress` / `--no-progress`, and standard
/// output left to the data.
@Suite struct CommandProgressTests {
    static let redraw = "\r\u{1B}[K"

    @Test func aFinalLineAloneUnlessAskedOrOnATerminal() throws {
        let db = try CommandLine_.temporaryDatabase()
        // Standard error is a pipe here: one line, the final one.
        let quiet = try CommandLine_.run(["seed", "--generate", "25000", "--db", db])
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(quiet.stderr.split(separator: "\n") == [
            Substring(quiet.stderr.trimmingCharacters(in: .newlines)),
        ] && quiet.stderr.hasPrefix("seed: 25,000 accounts in ") && quiet.stderr.hasSuffix("; 25000 new\n"),
                "\(quiet.stderr)")
        #expect(!quiet.stderr.contains(Self.redraw))
        #expect(quiet.stdout.hasPrefix("generated 25000 new account(s)"))
        // Asked for: drawn in place, then the final line on a line of its own.
        let shown = try CommandLine_.run(["seed", "--generate", "25000", "--db", db, "--progress"])
        #expect(shown.stderr.hasPrefix(Self.redraw + "seed: 10,000 of 25,000 accounts (40 %)"), "\(shown.stderr)")
        #expect(shown.stderr.hasSuffix("; 0 new\n") && shown.stderr.components(separatedBy: "\n").count == 2)

        // audit export: standard output is the NDJSON alone, whatever is shown.
        let export = try CommandLine_.run(["audit", "export", "--db", db, "--progress"])
        let lines = export.stdout.split(separator: "\n")
        #expect(lines.count == 25_000)
        #expect(lines.allSatisfy { $0.hasPrefix("{") && $0.hasSuffix("}") })
        #expect(export.stderr.contains(Self.redraw + "audit export: ") && export.stderr.contains(" of 25,000 entries"))
        #expect(export.stderr.hasSuffix("\n") && export.stderr.contains("audit export: 25,000 entries in "))
    }

    /// On a terminal (script(1) gives the command one) progress is live by default, and
    /// `--no-progress` leaves only the final line.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "needs script(1)"))
    func liveOnATerminalUnlessTold() throws {
        let db = try CommandLine_.temporaryDatabase()
        #expect(try CommandLine_.run(["seed", "--generate", "12000", "--db", db]).status == 0)
        func onATerminal(_ extra: String) throws -> String {
            let command = "'\(CommandLine_.executable)' audit export --db '\(db)' \(extra) > /dev/null"
            return try ChildProcess.run("/usr/bin/script", ["-qec", command, "/dev/null"], directory: repositoryRoot).stdout
        }
        let live = try onATerminal("")
        #expect(live.contains(Self.redraw + "audit export: ") && live.contains("of 12,000 entries"), "\(live)")
        let told = try onATerminal("--no-progress")
        #expect(!told.contains(Self.redraw) && told.contains("audit export: 12,000 entries in "), "\(told)")
    }

    @Test(arguments: [
        (0, 1000 as Int?, 0.0, "x: 0 of 1,000 rows (0 %)"),
        (250, 1000, 1.0, "x: 250 of 1,000 rows (25 %), 250 rows/s, 3 s left"),
        (1_234_567, nil, 2.0, "x: 1,234,567 rows, 617,284 rows/s"),
        (90, 100_000, 1.0, "x: 90 of 100,000 rows (0 %), 90 rows/s, 18 min 31 s left"),
        (1, 100_000, 1.0, "x: 1 of 100,000 rows (0 %), 1 rows/s, 27 h 46 min left"),
        (1000, 1000, 4.0, "x: 1,000 of 1,000 rows (100 %), 250 rows/s"),
    ])
    func theProgressLine(done: Int, total: Int?, seconds: Double, expected: String) {
        #expect(CommandProgress.line(command: "x", done: done, total: total, unit: "rows",
                                     elapsed: .milliseconds(Int64(seconds * 1000))) == expected)
    }
}
