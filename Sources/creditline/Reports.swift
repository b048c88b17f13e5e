import ArgumentParser
import CreditAPI
import CreditApp
import CreditLine
import CreditStore
import Foundation
import Synchronization

/// `creditline review`: a periodic review run offline against the database file, the same rules
/// and the same answer as `POST /v1/portfolio-reviews` (README "Periodic review").
struct Review: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score accounts again from a file (NDJSON or a JSON array of {account_id, features}) and apply the review policy.")
    @Option(help: "The rows: NDJSON or a JSON array.") var input: String
    @OptionGroup var options: StoreOptionGroup
    @OptionGroup var progress: ProgressOptions

    func run() async throws {
        do {
            let configuration = try options.load()
            guard let data = FileManager.default.contents(atPath: input) else { throw Failure("cannot read \(input)") }
            let scoring = try ScoringModel.load(configuration)
            let store = try options.openStore(configuration, writingNotices: true)
            let started = ContinuousClock.now
            let reporter = progress.reporter("review")
            // The first report comes before any row: a review cut short says where it resumes.
            let heard = Mutex(false)
            let (review, isNew) = try await PortfolioReviewRunner.run(
                data, store: store, settings: PortfolioReviewRunner.settings(scoring, configuration), scope: .all,
                actor: .cli("review"), createdBy: "cli:review") { record in
                    let first = heard.withLock { heard in defer { heard = true }; return !heard }
                    if first, record.status == .running, record.rowsDone > 0 {
                        reporter.note("resuming \(record.id) at row \(record.rowsDone + 1) of \(record.rowsTotal) "
                            + "(the rows before it were applied by an earlier run)")
                    }
                    reporter.update(done: record.rowsDone, total: record.rowsTotal)
                }
            reporter.finish(done: review.rowsDone)
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let summary = String(decoding: try encoder.encode(review.summary), as: UTF8.self)
            print("\(isNew ? "review" : "already reviewed:") \(review.id) \(review.status.rawValue): \(review.rowsDone) of "
                + "\(review.rowsTotal) rows in \(String(format: "%.2f", seconds)) s "
                + "(\(seconds > 0 && isNew ? Int(Double(review.rowsTotal) / seconds) : 0) rows/s)")
            print(summary)
            try store.close()
        } catch let error as DomainError {
            throw fail(Failure("\(input): \(error.message)"))
        } catch {
            throw fail(error)
        }
    }
}

/// `creditline model report`: the stability report of the champion (or a named version) as a table.
struct Model: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The scoring models.", subcommands: [Report.self])

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Population and characteristic stability, outcome rates and challenger agreement, as a table.")
        @Option(help: "The model version (default: the champion).") var version: String?
        @OptionGroup var window: WindowOptions
        @OptionGroup var options: StoreOptionGroup

        func run() async throws {
            try await window.report(options) { _, scoring, store in
                guard let card = version.map({ scoring.registry.scorecard(version: $0) }) ?? scoring.registry.champion else {
                    throw Failure("no scorecard has version \(version ?? "")")
                }
                let (start, end) = try window.resolve(now: try serviceNow(store))
                guard var report = StabilityReport(try await store.stabilityCounts(of: card, from: start, to: end)) else {
                    throw Failure("scorecard \(card.version) carries no development distribution")
                }
                (report.from, report.to) = (start.rfc3339, end.rfc3339)
                print("window \(start.rfc3339) to \(end.rfc3339)")
                print(report.table)
            }
        }
    }
}

/// `creditline compliance report`: the same signed report as `GET /v1/compliance/report`.
struct Compliance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Compliance checks.", subcommands: [Report.self])

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The checks of README 'Data governance' over a window, signed with the checkpoint key, as JSON.")
        @OptionGroup var window: WindowOptions
        @OptionGroup var options: StoreOptionGroup

        func run() async throws {
            try await window.report(options) { configuration, scoring, store in
                let now = try serviceNow(store)
                let (start, end) = try window.resolve(now: now)
                let report = try await store.complianceReport(from: start, to: end, settings: scoring.complianceSettings(configuration),
                                                              now: now)
                let signer = try AuditSigner.loadOrCreate(path: configuration.auditKeyPath, databasePath: store.path)
                print(try signer.signReport(report).canonicalJSON)
                // Exit 1 when a check that is a rule (not an anomaly) does not hold.
                if !report.holds { throw ExitCode(1) }
            }
        }
    }
}

/// `--from` and `--to` of a report's window, `[from, to)` (`ReportWindow`).
struct WindowOptions: ParsableArguments {
    @Option(help: "Start of the window, RFC 3339 (default: 30 days before --to).") var from: String?
    @Option(help: "End of the window, RFC 3339, exclusive (default: now).") var to: String?

    func resolve(now: Timestamp) throws -> (Timestamp, Timestamp) {
        try ReportWindow.resolve(from: from, to: to, now: now)
    }

    /// Runs a report's command on the configured store, closed after: a window that does not
    /// read names its option; an exit code the report chose passes through; anything else is
    /// reported and exits 1.
    func report(_ options: StoreOptionGroup,
                _ body: (ServiceConfiguration, ScoringModel, Store) async throws -> Void) async throws
    {
        do {
            let configuration = try options.load()
            let scoring = try ScoringModel.load(configuration)
            let store = try options.openStore(configuration)
            do {
                try await body(configuration, scoring, store)
            } catch {
                try? store.close()
                throw error
            }
            try store.close()
        } catch let exit as ExitCode {
            throw exit
        } catch let error as DomainError {
            throw fail(Failure("--\(error.field ?? "from"): \(error.message)"))
        } catch {
            throw fail(error)
        }
    }
}

/// The service's "now" for a report made offline: this machine's clock, or just after the audit
/// log's last entry if that lies ahead (a demo clock moved forward), so that the window and "now"
/// are what the API would use and the window `[from, to)` holds that entry (README "Data
/// governance").
func serviceNow(_ store: Store) throws -> Timestamp {
    let clock = store.time.now()
    guard let last = try store.lastAuditTime() else { return clock }
    return max(clock, Timestamp(milliseconds: last.milliseconds + 1))
}
