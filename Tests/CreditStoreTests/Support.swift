import CreditLine
@testable import CreditStore
import Foundation
import Testing
import GRDB
@_exported import TestSupport

/// What lifts one of the audit log's guards, as someone with the owner's rights could: the
/// tests of what the verifier finds after such a change.
func liftingGuard(_ trigger: String, on store: Store) -> String {
    store.dialect == .sqlite ? "DROP TRIGGER \(trigger)" : "ALTER TABLE audit_log DISABLE TRIGGER \(trigger)"
}

/// True for a statement the database itself refused (a trigger, a CHECK), on either engine.
func refusedByTheDatabase(_ error: any Error, saying text: String? = nil) -> Bool {
    let message: String
    if let error = error as? DatabaseError {
        message = error.message ?? ""
    } else if let error = error as? PostgresServerError {
        message = error.message
    } else {
        return false
    }
    return text.map { message.contains($0) } ?? true
}

/// Where a test's store lives. Typed, so that a PostgreSQL database's name can never be opened
/// as a file path (which once left SQLite files named after databases in the working tree).
enum StoreLocation: Sendable {
    case sqliteFile(String)
    case postgresDatabase(String)

    /// The SQLite file, for the tests of the file itself; nil on PostgreSQL.
    var sqlitePath: String? {
        if case .sqliteFile(let path) = self { path } else { nil }
    }
}

/// A fresh database (a file in a temporary folder, or a database of its own on the PostgreSQL
/// server of `CREDITLINE_TEST_DATABASE_URL`), migrated from the repository's migrations/.
func temporaryStore(time: any TimeSource = SystemTimeSource(), synchronous: StoreOptions.Synchronous = .full) throws
    -> (Store, StoreLocation)
{
    if let server = TestDatabase.postgres {
        let name = "creditline_store_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try PostgresEngine.createDatabase(named: name, at: server)
        var options = StoreOptions()
        options.migrationsDirectory = repositoryRoot + "/migrations"
        options.notices = try testNoticeComposer()
        return (try Store.open(postgres: server.with(database: name), options: options, time: time), .postgresDatabase(name))
    }
    let folder = NSTemporaryDirectory() + "creditline-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    var options = StoreOptions()
    options.migrationsDirectory = repositoryRoot + "/migrations/sqlite"
    options.notices = try testNoticeComposer()
    options.synchronous = synchronous
    let path = folder + "/test.sqlite"
    try TestDatabase.placeMigratedSQLite(at: path)
    return (try Store.open(path: path, options: options, time: time), .sqliteFile(path))
}


/// A clock the test moves by hand.
final class ManualTime: TimeSource, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Timestamp
    init(_ start: Timestamp = Timestamp(rfc3339: "2026-11-25T10:00:00.000Z")!) { current = start }
    func now() -> Timestamp { lock.lock(); defer { lock.unlock() }; return current }
    func advance(days: Int) { lock.lock(); current = current.adding(days: days); lock.unlock() }
    func advance(milliseconds: Int64) {
        lock.lock()
        current = Timestamp(milliseconds: current.milliseconds + milliseconds)
        lock.unlock()
    }
}

let testActor = Actor(keyID: "key-test", role: .key(.service), requestID: "req-test")
