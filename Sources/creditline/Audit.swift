import ArgumentParser
import CreditAPI
import CreditApp
import CreditStore
import Foundation

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check or export the audit log from the database file, read-only (safe while the service runs).",
        subcommands: [Verify.self, Export.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every hash chain. Exit 0 intact, 1 broken (naming the chain and first broken seq), 2 cannot read.")
        @Option(help: "The database file.") var db: String = "data/creditline.sqlite"
        @Option(help: "A saved root checkpoint (the JSON GET /v1/audit/head answered): every chain must pass through its head there.")
        var root: String?
        @Option(help: "The service's public key (base64, GET /v1/audit/public-key): the root's signature is checked against it.")
        var publicKey: String?
        @Option(help: "One chain's saved checkpoint: its chain (0 unless given).") var fromChain: Int = 0
        @Option(help: "One chain's saved checkpoint: its seq.") var fromSeq: Int?
        @Option(help: "One chain's saved checkpoint: its hash.") var fromHash: String?

        func fail(_ message: String, _ code: Int32) -> ExitCode {
            FileHandle.standardError.write(Data("creditline: \(message)\n".utf8))
            return ExitCode(code)
        }

        func checkpoint() throws -> [AuditChainHead] {
            if let root {
                struct Saved: Decodable {
                    var at: String
                    var heads: [AuditChainHead]
                    var signature: String
                }
                guard let data = FileManager.default.contents(atPath: root),
                      let saved = try? JSONDecoder().decode(Saved.self, from: data)
                else { throw fail("cannot read the root checkpoint \(root): it must be the JSON GET /v1/audit/head answered", 2) }
                if let publicKey {
                    guard let key = Data(base64Encoded: publicKey),
                          SignedRoot.isValid(at: saved.at, heads: saved.heads, signature: saved.signature, publicKey: key)
                    else { throw fail("the root's signature is not the service's: the root was altered, or signed by another key", 1) }
                }
                return saved.heads.map { AuditChainHead(chain: $0.chain, seq: $0.seq, hash: $0.hash.lowercased()) }
            }
            switch (fromSeq, fromHash) {
            case (nil, nil): return []
            case (let seq?, let hash?): return [AuditChainHead(chain: fromChain, seq: seq, hash: hash.lowercased())]
            default: throw fail("--from-seq and --from-hash go together", 2)
            }
        }

        func run() throws {
            let root = try checkpoint()
            let started = ContinuousClock.now
            let result: AuditChain.Verification
            do {
                result = try AuditFile(path: db).verify(from: root)
            } catch {
                throw fail("cannot read \(db): \(error)", 2)
            }
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            switch result {
            case .intact(let checked, let heads):
                let rate = seconds > 0 ? Int(Double(checked) / seconds) : checked
                print("intact: \(checked) entries checked in \(String(format: "%.3f", seconds)) s (\(rate) entries/s)")
                for head in heads { print("chain \(head.chain): head seq \(head.seq) hash \(head.hash)") }
            case .broken(let chain, let seq, let reason):
                print("broken at chain \(chain) seq \(seq): \(reason)")
                throw ExitCode(1)
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the audit log as NDJSON to standard output.")
        @Option(help: "The database file.") var db: String = "data/creditline.sqlite"
        @Option(help: "Only this account's entries.") var account: String?
        @OptionGroup var progress: ProgressOptions

        func run() throws {
            let file: AuditFile
            do {
                file = try AuditFile(path: db)
            } catch {
                FileHandle.standardError.write(Data("creditline: cannot read \(db): \(error)\n".utf8))
                throw ExitCode(2)
            }
            // Standard output is the NDJSON alone; progress goes to standard error.
            let reporter = progress.reporter("audit export", unit: "entries")
            let total = reporter.mode == .live ? try file.count(accountID: account) : nil
            var buffer: [UInt8] = []
            var written = 0
            try file.export(accountID: account) { entry in
                buffer.append(contentsOf: try AuditExport.line(entry))
                written += 1
                if buffer.count > 1 << 16 {
                    FileHandle.standardOutput.write(Data(buffer))
                    buffer.removeAll(keepingCapacity: true)
                    reporter.update(done: written, total: total)
                }
            }
            FileHandle.standardOutput.write(Data(buffer))
            reporter.finish(done: written)
        }
    }
}
