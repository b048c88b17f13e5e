import Foundation

/// `CREDITLINE_TEST_DATABASE_URL`: a PostgreSQL server the store-touching suites run against
/// (`.ci/run` starts a throwaway cluster for it); unset, they run on SQLite.
public let testDatabaseURL: String? = ProcessInfo.processInfo.environment["CREDITLINE_TEST_DATABASE_URL"]
