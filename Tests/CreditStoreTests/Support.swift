import CreditLine
import CreditStore
import Foundation
@_exported import TestSupport

/// A fresh database file in a temporary folder, migrated from the repository's migrations/.
func temporaryStore(time: any TimeSource = SystemTimeSource(), synchronous: StoreOptions.Synchronous = .full) throws
    -> (Store, String)
{
    let folder = NSTemporaryDirectory() + "creditline-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    var options = StoreOptions()
    options.migrationsDirectory = repositoryRoot + "/migrations/sqlite"
    options.synchronous = synchronous
    let path = folder + "/test.sqlite"
    return (try Store.open(path: path, options: options, time: time), path)
}


/// A clock the test moves by hand.
final class ManualTime: TimeSource, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Timestamp
    init(_ start: Timestamp = Timestamp(rfc3339: "2026-11-25T10:00:00.000Z")!) { current = start }
    func now() -> Timestamp { lock.lock(); defer { lock.unlock() }; return current }
    func advance(days: Int) { lock.lock(); current = current.adding(days: days); lock.unlock() }
}

let testActor = Actor(keyID: "key-test", role: "service", requestID: "req-test")
