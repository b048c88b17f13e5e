import ArgumentParser
import CreditAPI
import CreditLine
import CreditStore
import Foundation
import Logging

@main
struct Creditline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Consumer credit lines with explicit consent, explainable scoring and a verifiable audit log.",
        subcommands: [Serve.self, Migrate.self, Seed.self, Keys.self, Audit.self, Healthcheck.self])
}

/// `--config` and `--db`, shared by every command that opens the database.
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

    func openStore(_ configuration: ServiceConfiguration) throws -> Store {
        do {
            return try Store.open(path: configuration.db, options: configuration.storeOptions)
        } catch let error as StoreError {
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
            print("migrations current at \(String(format: "%04d", store.migrations.latestVersion)) in \(configuration.db)")
        } catch {
            throw fail(error)
        }
    }
}

struct Seed: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load the demo data in seeds/ (idempotent).")
    @OptionGroup var options: StoreOptionGroup

    func run() throws {
        do {
            let configuration = try options.load()
            let store = try options.openStore(configuration)
            let created = try Seeds.load(directory: configuration.seedsDir, into: store)
            print("seeded \(created) new account(s) into \(configuration.db)")
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
        @Option(help: "service, operator or auditor.") var role: String
        @Option(help: "A label to recognise the key by.") var name: String?
        @OptionGroup var options: StoreOptionGroup

        func run() throws {
            do {
                guard let role = Role(rawValue: role) else {
                    throw Failure("--role must be service, operator or auditor, not '\(self.role)'")
                }
                let store = try options.openStore(try options.load())
                let issued = try store.createKey(role: role, name: name ?? role.rawValue)
                print("created \(role.rawValue) key \(issued.key.id) (\(issued.key.name)); store it now, it is not shown again:")
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
                    print("\(key.id)\t\(key.role.rawValue)\t\(key.name)\tcreated \(key.createdAt)"
                        + (key.revokedAt.map { "\trevoked \($0)" } ?? ""))
                }
            } catch {
                throw fail(error)
            }
        }
    }
}
