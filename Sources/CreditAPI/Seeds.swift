import CreditLine
import CreditStore
import Foundation

/// Loads `seeds/*.json` through the ordinary business writes (so seeded rows are audited like any
/// other). Loading twice changes nothing: accounts are found by `customer_ref`.
public enum Seeds {
    struct File: Decodable {
        struct SeedAccount: Decodable {
            var customerRef: String
            enum CodingKeys: String, CodingKey { case customerRef = "customer_ref" }
        }
        var accounts: [SeedAccount]?
    }

    /// - Returns: how many accounts were created now.
    @discardableResult
    public static func load(directory: String, into store: Store) throws -> Int {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return 0 }
        var created = 0
        for name in files.filter({ $0.hasSuffix(".json") }).sorted() {
            let path = directory + "/" + name
            let file: File
            do {
                file = try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw SeedError(file: path, reason: "\(error)")
            }
            for account in file.accounts ?? [] {
                let customerRef = try CustomerRef.validate(account.customerRef)
                let (_, isNew) = try store.performNow(CreateAccount(customerRef: customerRef), by: .cli("seed"))
                if isNew { created += 1 }
            }
        }
        return created
    }

    /// Creates accounts `bulk-1` … `bulk-count` in `tenant` (those that exist are found, not
    /// made again), 10,000 to a transaction: a database of realistic size for benchmarks.
    /// - Returns: how many accounts were created now.
    @discardableResult
    public static func generate(_ count: Int, tenant: String, into store: Store,
                                progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> Int {
        var created = 0
        var next = 1
        while next <= count {
            let last = min(count, next + 9_999)
            let writes = (next...last).map { CreateAccount(customerRef: "bulk-\($0)", tenant: tenant) }
            created += try store.performNow(writes, by: .cli("seed")).filter(\.created).count
            progress?(last, count)
            next = last + 1
        }
        return created
    }

    public struct SeedError: Error, CustomStringConvertible {
        public var file: String
        public var reason: String
        public var description: String { "seed file \(file): \(reason)" }
    }
}
