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
