import ArgumentParser
import CreditAPI
import CreditLine
import CreditStore
import Foundation

/// `creditline bureau report`: the day's credit reporting run, as `serve` makes it once a day
/// (README "Credit reporting"). A day already run is read back, never run twice.
struct Bureau: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Credit reporting.", subcommands: [Report.self])

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run today's report (or read back a day already run) and write its JSON Lines file (docs/bureau-format.md).")
        @Option(help: "The day, YYYY-MM-DD (default: today). A past day is read back only if it was run then.") var date: String?
        @Option(help: "Write the file here (default: the day's file under bureau_dir).") var out: String?
        @OptionGroup var options: StoreOptionGroup

        func run() async throws {
            do {
                let configuration = try options.load()
                let store = try options.openStore(configuration)
                defer { try? store.close() }
                let now = try serviceNow(store)
                let today = CivilDate(now)
                guard let day = date.map({ CivilDate($0) }) ?? today else { throw Failure("--date must be a date, YYYY-MM-DD") }
                if day > today { throw Failure("--date \(day) is in the future") }
                if day < today, try await store.bureauRun(date: day) == nil {
                    throw Failure("--date \(day): no run was made that day, and the state of that day cannot be reported now")
                }
                var run = try await store.reportToBureau(date: day, directory: configuration.effectiveBureauDir,
                                                         noticeDays: configuration.bureauNoticeDays, at: now)
                if let out {
                    try BureauFile.write(run.reports, to: out)
                    run.file = out
                }
                print("\(run.ranNow ? "reported" : "already reported:") \(day): \(run.reports.count) reports, file \(run.file ?? "")")
            } catch let exit as ExitCode {
                throw exit
            } catch {
                throw fail(error)
            }
        }
    }
}
