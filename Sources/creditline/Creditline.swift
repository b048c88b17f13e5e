import ArgumentParser
import CreditAPI
import CreditApp
import CreditLine
import CreditStore
import Foundation
import Logging

@main
struct Creditline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Consumer credit lines with explicit consent, explainable scoring and a verifiable audit log.",
        subcommands: [Serve.self, Migrate.self, MigrateData.self, Seed.self, Keys.self, Audit.self, Review.self, Model.self, Compliance.self, Bureau.self, Healthcheck.self])
}

/// `--config` and `--db`, shared by every command that opens the database.
/// `--progress` / `--no-progress` of the long commands (README "Command line", "Progress").
struct ProgressOptions: ParsableArguments {
    @Flag(inversion: .prefixedNo,
          help: "Show progress on standard error (default: when standard error is a terminal); the final line is written either way.")
    var progress: Bool?

    func reporter(_ command: String, unit: String = "rows") -> CommandProgress {
        CommandProgress(command: command, unit: unit, mode: .choose(flag: progress))
    }
}

struct StoreOptionGroup: ParsableArguments {
    @Option(help: "Configuration file (default config/creditline.json, or CREDITLINE_CONFIG).")
    var config: String?
    @Option(help: "SQLite database file (default data/creditline.sqlite, or CREDITLINE_DB).")
    var db: String?

    func load(flags extra: [String: String] = [:]) throws -> ServiceConfiguration {
        var flags = extra
        if let db { flags["db"] = db }
        do {
            return try ServiceConfiguration.load(file: config, environment: ProcessInfo.processInfo.environment,
                                                 flags: flags)
        } catch let error as ConfigurationError {
            throw Failure("\(error)")
        }
    }

    /// The configured store; `writingNotices` for a command whose writes may owe a customer a
    /// notice (serve, seed, review), which then loads the notice templates as the service does.
    func openStore(_ configuration: ServiceConfiguration, time: any TimeSource = SystemTimeSource(),
                   writingNotices: Bool = false) throws -> Store
    {
        do {
            let options = writingNotices ? try Application.storeOptions(configuration) : configuration.storeOptions
            return try Store.open(url: configuration.effectiveDatabaseURL, options: options, time: time)
        } catch let error as StoreError {
            throw Failure("\(error)")
        } catch let error as DatabaseURL.Invalid {
            throw Failure("\(error)")
        }
    }
}

/// A message for the operator and exit status 1.
struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

func fail(_ error: any Error) -> ExitCode {
    FileHandle.standardError.write(Data("creditline: \(error)\n".utf8))
    return ExitCode(1)
}

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending migrations without serving.")
    @OptionGroup var options: StoreOptionGroup

    func run() throws {
        do {
            let configuration = try options.load()
            let store = try options.openStore(configuration)
            print("migrations current at \(String(format: "%04d", store.migrations.latestVersion)) in \(store.path)")
        } catch {
            throw fail(error)
        }
    }
}

struct MigrateData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-data",
        abstract: "Copy every row from one database into another, empty one; then verify the chain and the counts there.")
    @Option(help: "The database to copy: sqlite:PATH.") var from: String
    @Option(help: "The empty database to copy into: postgres://user@host[:port]/database (or sqlite:PATH).") var to: String
    @Option(help: "Configuration file (default config/creditline.json, or CREDITLINE_CONFIG).") var config: String?
    @OptionGroup var progress: ProgressOptions

    func run() throws {
        do {
            let configuration = try ServiceConfiguration.load(
                file: config, environment: ProcessInfo.processInfo.environment, flags: [:])
            guard case .sqlite(let path) = try DatabaseURL(from) else { throw Failure("--from must be sqlite:PATH") }
            // The source is read as it is: a missing file is an error, not a new empty database.
            guard FileManager.default.fileExists(atPath: path) else { throw Failure("no database at \(path)") }
            let source = try Store.open(url: from, options: configuration.storeOptions)
            let target = try Store.open(url: to, options: configuration.storeOptions)
            defer {
                try? source.close()
                try? target.close()
            }
            let reporter = progress.reporter("migrate-data")
            var copied = 0
            let report = try DataMigration.copy(from: source, to: target) { done, total in
                copied = done
                reporter.update(done: done, total: total)
            }
            reporter.finish(done: copied, detail: "verifying on the target")
            for (table, count) in report.rows.sorted(by: { $0.key < $1.key }) { print("\(table): \(count) rows") }
            guard report.mismatched.isEmpty else {
                throw Failure("row counts differ between source and target: \(report.mismatched.joined(separator: ", "))")
            }
            guard case .intact(let checked, let heads) = report.chain else {
                throw Failure("the audit chains do not verify on the target: \(report.chain)")
            }
            print("audit chains intact on the target: \(checked) entries")
            for head in heads { print("chain \(head.chain): head \(head.seq) \(head.hash)") }
        } catch let error as Failure {
            throw fail(error)
        } catch {
            throw fail(Failure("\(error)"))
        }
    }
}

struct Seed: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load the demo data in seeds/ (idempotent).")
    @OptionGroup var options: StoreOptionGroup
    @Option(help: "Instead, create N synthetic accounts (customer_ref bulk-1 … bulk-N), audited as any other, 10,000 to a transaction; for benchmarks (scripts/bench).")
    var generate: Int?
    @Option(help: "The tenant of the generated accounts.") var tenant: String = Tenant.defaultName
    @OptionGroup var progress: ProgressOptions

    func run() throws {
        do {
            let configuration = try options.load()
            let store = try options.openStore(configuration, writingNotices: true)
            if let generate {
                let tenant = try Tenant.validate(tenant)
                let reporter = progress.reporter("seed", unit: "accounts")
                let created = try Seeds.generate(generate, tenant: tenant, into: store) { done, total in
                    reporter.update(done: done, total: total)
                }
                reporter.finish(done: generate, detail: "\(created) new")
                print("generated \(created) new account(s) into \(store.path)")
                return
            }
            let created = try Seeds.load(directory: configuration.seedsDir, into: store)
            print("seeded \(created) new account(s) into \(store.path)")
        } catch {
            throw fail(error)
        }
    }
}

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage API keys (only their hashes are stored).",
        subcommands: [Create.self, Revoke.self, List.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a key; the key itself is printed once, alone on the last line.")
        @Option(help: "service, operator, auditor or risk.") var role: String
        @Option(help: "A label to recognise the key by.") var name: String?
        @Option(help: "The tenant the key acts for (default: default).") var tenant: String?
        @Flag(help: "An operator, auditor or risk key for every tenant.") var allTenants = false
        @Option(help: "The person the key belongs to; four eyes need two different persons (default: the key itself).")
        var person: String?
        @OptionGroup var options: StoreOptionGroup

        func run() throws {
            do {
                guard let role = Role(rawValue: role) else {
                    throw Failure("--role must be service, operator, auditor or risk, not '\(self.role)'")
                }
                guard !(allTenants && tenant != nil) else { throw Failure("--tenant and --all-tenants exclude each other") }
                guard !(allTenants && role == .service) else {
                    throw Failure("a service key acts for one tenant; --all-tenants is for operator, auditor and risk keys")
                }
                let scope: String?
                do {
                    scope = allTenants ? nil : try Tenant.validate(tenant ?? Tenant.defaultName)
                } catch {
                    throw Failure("--tenant: \(error.message)")
                }
                if let person, !(1...64).contains(person.count) || person.contains(where: { $0.isNewline }) {
                    throw Failure("--person must be 1–64 characters on one line")
                }
                let store = try options.openStore(try options.load())
                let issued = try store.createKey(role: role, name: name ?? role.rawValue, tenant: scope, person: person)
                print("created \(role.rawValue) key \(issued.key.id) (\(issued.key.name)) for "
                    + (scope.map { "tenant \($0)" } ?? "every tenant") + "; store it now, it is not shown again:")
                print(issued.token)
            } catch {
                throw fail(error)
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by its id; it stops working at once.")
        @Argument(help: "The key id (the part after clk_ and before the next _).") var id: String
        @OptionGroup var options: StoreOptionGroup

        func run() throws {
            do {
                let store = try options.openStore(try options.load())
                let key = try store.revokeKey(id: id)
                print("revoked \(key.role.rawValue) key \(key.id) at \(key.revokedAt ?? "?")")
            } catch is DomainError {
                throw fail(Failure("no key with id \(id)"))
            } catch {
                throw fail(error)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (ids, names, roles; never secrets).")
        @OptionGroup var options: StoreOptionGroup

        func run() throws {
            do {
                let store = try options.openStore(try options.load())
                for key in try store.listKeys() {
                    print("\(key.id)\t\(key.role.rawValue)\t\(key.tenant ?? "*")\t\(key.name)\tcreated \(key.createdAt)"
                        + (key.revokedAt.map { "\trevoked \($0)" } ?? ""))
                }
            } catch {
                throw fail(error)
            }
        }
    }
}
