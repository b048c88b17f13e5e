import CreditStore
import Foundation
import Testing

/// `CREDITLINE_TEST_DATABASE_URL`: a PostgreSQL server the store-touching suites run against
/// (`.ci/run` starts a throwaway cluster for it); unset, they run on SQLite.
public let testDatabaseURL: String? = ProcessInfo.processInfo.environment["CREDITLINE_TEST_DATABASE_URL"]

/// The PostgreSQL server the suites run against when `CREDITLINE_TEST_DATABASE_URL` names one;
/// nil runs everything on SQLite.
public enum TestDatabase {
    public static let postgres = testDatabaseURL.flatMap { PostgresLocation(url: $0) }
}

extension Trait where Self == ConditionTrait {
    /// A test of SQLite's file itself (its pages, its locks, its mode bits, its pragmas, a copy of
    /// it for the command line's `--db`): it has no PostgreSQL counterpart and runs on SQLite only.
    public static var sqliteFile: Self {
        .enabled(if: TestDatabase.postgres == nil, "tests the SQLite file itself")
    }
}

extension TestDatabase {
    /// A SQLite file with every migration of the repository applied, made once per test process:
    /// each test's store starts from a copy of it instead of running twenty migrations again (the
    /// migrations themselves are tested from an empty file in MigrationTests). Opening the copy
    /// still checks every applied migration against its file.
    private static let migratedTemplate: Result<[UInt8], any Error> = Result {
        let folder = NSTemporaryDirectory() + "creditline-template-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var options = StoreOptions()
        options.migrationsDirectory = repositoryRoot + "/migrations/sqlite"
        let store = try Store.open(path: folder + "/template.sqlite", options: options)
        try store.checkpoint()
        try store.close()
        return Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/template.sqlite")))
    }

    /// Writes a migrated database at `path` (owner-only, as the store creates its files).
    public static func placeMigratedSQLite(at path: String) throws {
        let bytes = try migratedTemplate.get()
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o600])
        else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
    }
}
