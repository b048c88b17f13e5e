import ArgumentParser
import CreditAPI
import CreditLine
import CreditStore
import Dispatch
import Foundation
import Logging
import Synchronization

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP service.")

    @Option(help: "TCP port (0 picks a free one). Default 8080, or CREDITLINE_PORT.") var port: Int?
    @Option(help: "Address to bind. Default 127.0.0.1, or CREDITLINE_HOST.") var host: String?
    @Flag(help: "Load seeds/, install the public demo keys and print them. Uses data/demo.sqlite unless a database is named.")
    var demo = false
    @Flag(help: "Start on a database that holds the public demo keys or was made by --demo (refused otherwise: anyone may use those keys).")
    var allowDemoKeys = false
    @Flag(help: "Drain and exit when standard input reaches its end: for a parent that holds a pipe to the service and must not leave it running if the parent dies (README \"Development\").")
    var stopWhenStdinCloses = false
    @OptionGroup var options: StoreOptionGroup

    func run() async throws {
        var flags: [String: String] = [:]
        if let port { flags["port"] = String(port) }
        if let host { flags["host"] = host }
        let configuration: ServiceConfiguration
        let store: Store
        var logger = Logger(label: "creditline")
        do {
            var loaded = try options.load(flags: flags)
            // Demo data and public keys never land in the production database by accident.
            if demo, loaded.db == ServiceConfiguration().db { loaded.db = "data/demo.sqlite" }
            configuration = loaded
            let level = configuration.logLevel
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
            logger = Logger(label: "creditline")
            // Under --demo the clock can be moved forward (POST /v1/demo/clock); it goes on from
            // the last time the audit log recorded, so a restart never takes it back.
            let clock = demo ? DemoClock() : nil
            store = try options.openStore(configuration, time: clock ?? SystemTimeSource(), writingNotices: true)
            if let clock, let last = try store.lastAuditTime() { clock.catchUp(to: last) }
            if demo {
                // The public keys go only into a new or a demo database (README "Try it").
                if let refusal = try store.acceptForDemo() {
                    throw Failure("serve --demo refuses \(store.path): \(refusal)")
                }
                let created = try Seeds.load(directory: configuration.seedsDir, into: store)
                let keys = try store.ensureDemoKeys()
                printDemoBanner(keys, seeded: created)
            } else {
                guard try store.activeKeyCount() > 0 else {
                    throw Failure("""
                        no API key exists in \(store.path), so no request could be authorised. \
                        Create one with `creditline keys create --role service --db \(configuration.db)`, \
                        or try the service with `creditline serve --demo`.
                        """)
                }
                if try store.isDemoDatabase() {
                    guard allowDemoKeys else {
                        throw Failure("""
                            \(store.path) is a demo database (made by serve --demo, or holding its public keys, which anyone \
                            may use): it must not serve real customers. Start with --demo, or revoke the demo keys and start \
                            with --allow-demo-keys if you mean it.
                            """)
                    }
                    logger.warning("this is a demo database holding public keys; started because --allow-demo-keys was given",
                                   metadata: ["db": .string(store.path)])
                }
            }
        } catch {
            throw fail(error)
        }

        let traces = try TraceExport.start(configuration.otelEndpoint, logger: logger)
        let application: Application
        do {
            application = try Application(configuration: configuration, store: store, logger: logger)
            // The demo journey activates lines: its champion is reviewed for it (README "Periodic review").
            if demo { try store.ensureModelReviewed(application.scoring.scorecard, by: "serve --demo") }
        } catch {
            throw fail(error)
        }
        do {
            try application.start()
        } catch {
            throw fail(Failure("cannot listen on \(configuration.host):\(configuration.port): \(error)"))
        }
        logServing(logger, configuration, store, port: application.port)

        let signal = await Self.firstTerminationSignal(orEndOfStandardInput: stopWhenStdinCloses)
        logger.info("draining", metadata: ["signal": .stringConvertible(signal)])
        await application.shutdown()
        await traces?.stop()
        logger.info("stopped")
        LogSink.standardOutput.flush()
    }

    private func logServing(_ logger: Logger, _ configuration: ServiceConfiguration, _ store: Store, port: Int) {
        let durability = (try? store.durabilitySettings()) ?? (journalMode: "?", synchronous: "?")
        logger.info("serving", metadata: [
            "host": .string(configuration.host), "port": .stringConvertible(port),
            "db": .string(store.path), "journal_mode": .string(durability.journalMode),
            "synchronous": .string(durability.synchronous),
            "traces": .string(configuration.otelEndpoint.map { $0 + "/v1/traces" } ?? "off"),
        ])
    }

    private func printDemoBanner(_ keys: [IssuedKey], seeded: Int) {
        var lines = ["", "creditline demo: public keys, for trying the API only (never in production):"]
        for issued in keys {
            lines.append("  \(issued.key.role.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(issued.token)")
        }
        lines.append("  seeded \(seeded) new demo account(s); try:")
        lines.append("  curl -s -H 'Authorization: Bearer \(DemoKeys.tokens[0].token)' -d '{\"customer_ref\":\"shop-42\"}' http://127.0.0.1:\(port ?? 8080)/v1/accounts")
        lines.append("")
        FileHandle.standardError.write(Data(lines.joined(separator: "\n").utf8))
    }

    /// Waits for SIGTERM or SIGINT (the default handlers are replaced so we can drain), or, when
    /// asked, for standard input to reach its end: the parent's end of the pipe closes when the
    /// parent ends, however it ends (a crash included), and the service drains as on SIGTERM.
    static func firstTerminationSignal(orEndOfStandardInput watchInput: Bool) async -> Int32 {
        Glibc.signal(SIGTERM, SIG_IGN)
        Glibc.signal(SIGINT, SIG_IGN)
        let fired = Mutex(false)
        return await withCheckedContinuation { continuation in
            let fire: @Sendable (Int32) -> Void = { number in
                let first = fired.withLock { done -> Bool in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: number) }
            }
            var sources: [any DispatchSourceSignal] = []
            for number in [SIGTERM, SIGINT] {
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { fire(number) }
                source.resume()
                sources.append(source)
            }
            SignalSources.keep(sources)
            if watchInput {
                Thread.detachNewThread {
                    var buffer = [UInt8](repeating: 0, count: 512)
                    while true {
                        let count = read(0, &buffer, buffer.count)
                        if count > 0 || (count < 0 && errno == EINTR) { continue }
                        break
                    }
                    fire(SIGTERM)
                }
            }
        }
    }
}

/// Dispatch sources stop when released; these live as long as the process. `nonisolated(unsafe)`:
/// written once, from the single call in `serve`, before any signal can arrive.
enum SignalSources {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []
    static func keep(_ new: [any DispatchSourceSignal]) { sources.append(contentsOf: new) }
}
