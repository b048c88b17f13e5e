import ArgumentParser
import CreditAPI
import CreditStore
import Foundation

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check or export the audit log from the database file, read-only (safe while the service runs).",
        subcommands: [Verify.self, Export.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the hash chain. Exit 0 intact, 1 broken (naming the first broken seq), 2 cannot read.")
        @Option(help: "The database file.") var db: String = "data/creditline.sqlite"
        @Option(help: "A saved checkpoint's seq: prove the log still extends it.") var fromSeq: Int?
        @Option(help: "A saved checkpoint's hash.") var fromHash: String?

        func run() throws {
            let checkpoint: AuditHead?
            switch (fromSeq, fromHash) {
            case (nil, nil): checkpoint = nil
            case (let seq?, let hash?): checkpoint = AuditHead(seq: seq, hash: hash.lowercased())
            default:
                FileHandle.standardError.write(Data("creditline: --from-seq and --from-hash go together\n".utf8))
                throw ExitCode(2)
            }
            let started = ContinuousClock.now
            let result: AuditChain.Verification
            do {
                result = try AuditFile(path: db).verify(from: checkpoint)
            } catch {
                FileHandle.standardError.write(Data("creditline: cannot read \(db): \(error)\n".utf8))
                throw ExitCode(2)
            }
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            switch result {
            case .intact(let checked, let head):
                let rate = seconds > 0 ? Int(Double(checked) / seconds) : checked
                print("intact: \(checked) entries checked in \(String(format: "%.3f", seconds)) s (\(rate) entries/s); head seq \(head.seq) hash \(head.hash)")
            case .broken(let seq, let reason):
                print("broken at seq \(seq): \(reason)")
                throw ExitCode(1)
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the audit log as NDJSON to standard output.")
        @Option(help: "The database file.") var db: String = "data/creditline.sqlite"
        @Option(help: "Only this account's entries.") var account: String?

        func run() throws {
            let file: AuditFile
            do {
                file = try AuditFile(path: db)
            } catch {
                FileHandle.standardError.write(Data("creditline: cannot read \(db): \(error)\n".utf8))
                throw ExitCode(2)
            }
            var buffer: [UInt8] = []
            try file.export(accountID: account) { entry in
                buffer.append(contentsOf: try AuditExport.line(entry))
                if buffer.count > 1 << 16 {
                    FileHandle.standardOutput.write(Data(buffer))
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            FileHandle.standardOutput.write(Data(buffer))
        }
    }
}
