import CreditLine
import Foundation
import GRDB
import Testing
@testable import CreditAPI
@testable import CreditStore

/// Storage faults (README "Operations"): 503 `storage-unavailable` with `Retry-After` and nothing
/// half-written, reads going on where they can, readiness saying why, recovery by itself.
@Suite(.sqliteFile) struct FaultTests {
    func create(_ service: TestService, _ ref: String) async throws -> RawClient.Reply {
        try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"\#(ref)"}"#)
    }

    func writer(_ service: TestService, _ sql: String) async throws {
        try await service.store.sqliteWriter!.writeWithoutTransaction { db in try db.execute(sql: sql) }
    }

    /// A full disk, made by capping the database's pages: nothing is acknowledged that was not
    /// written, and writes work again as soon as there is room, with no restart.
    @Test func aFullDiskIs503AndRecovers() async throws {
        let service = try TestService { $0.rateLimitService = 0 }
        let kept = try #require(try await create(service, "full-0").json["id"] as? String)
        let pages = try await service.store.sqliteWriter!.read { db in try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0 }
        try await writer(service, "PRAGMA max_page_count = \(pages)")
        var refused: RawClient.Reply?
        var acknowledged: [String] = []
        for index in 1...500 {
            let reply = try await create(service, "full-\(index)")
            if reply.status == 503 {
                refused = reply
                break
            }
            acknowledged.append("full-\(index)")
        }
        let reply = try #require(refused, "the page cap never filled")
        #expect(reply.json["code"] as? String == "storage-unavailable")
        #expect(reply.header("Retry-After") == "5")
        let ready = try await service.call("GET", "/readyz", role: nil)
        #expect(ready.status == 503)
        #expect(ready.json["reason"] as? String == "disk-full")
        // Reads go on.
        #expect(try await service.call("GET", "/v1/accounts/\(kept)").status == 200)
        #expect(try await service.call("GET", "/healthz", role: nil).status == 200)

        try await writer(service, "PRAGMA max_page_count = 1073741823")
        #expect(try await service.call("GET", "/readyz", role: nil).status == 200)
        #expect(try await create(service, "full-after").status == 201)
        // Every acknowledged create is there, each with its audit entry, and the chain holds.
        let stored = try await service.store.database.read { db in
            try String.fetchAll(db, sql: "SELECT customer_ref FROM accounts")
        }
        for ref in acknowledged { #expect(stored.contains(ref)) }
        #expect(try await service.store.database.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_log WHERE action = 'account.created'")
        } == stored.count)
        #expect(try service.store.verifyAudit() == .intact(checked: try await service.store.auditLength(),
                                                           heads: try await service.store.auditHeads()))
        await service.stop()
    }

    @Test func aReadOnlyDatabaseIs503AndRecovers() async throws {
        let service = try TestService()
        try await writer(service, "PRAGMA query_only = ON")
        let refused = try await create(service, "ro-1")
        #expect(refused.status == 503)
        #expect(refused.json["code"] as? String == "storage-unavailable")
        #expect(try await service.call("GET", "/readyz", role: nil).json["reason"] as? String == "read-only")
        try await writer(service, "PRAGMA query_only = OFF")
        #expect(try await service.call("GET", "/readyz", role: nil).status == 200)
        #expect(try await create(service, "ro-2").status == 201)
        await service.stop()
    }

    /// Another process holding the write lock: 503 with `Retry-After: 1` once the busy timeout
    /// passes, reads unaffected (WAL), writes again once the lock is gone.
    @Test func aLockHeldElsewhereIs503AndRecovers() async throws {
        let service = try TestService { $0.busyTimeoutMs = 200 }
        let kept = try #require(try await create(service, "lock-0").json["id"] as? String)
        // The other process waits its turn for the lock (the service's start-up sweep may be
        // writing), and every wait here is bounded: a lock never taken fails the test, not the run.
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        let other = try DatabaseQueue(path: service.databasePath, configuration: configuration)
        let held = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        // A thread of its own, as another process would be: not one of the few cooperative
        // threads, which the blocking waits below would otherwise take from it.
        DispatchQueue.global().async {
            try? other.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                held.signal()
                _ = release.wait(timeout: .now() + 10)
                try db.execute(sql: "ROLLBACK")
            }
            finished.signal()
        }
        guard held.wait(timeout: .now() + 10) == .success else {
            Issue.record("the other connection never took the write lock")
            return
        }
        let refused = try await create(service, "lock-1")
        #expect(refused.status == 503)
        #expect(refused.header("Retry-After") == "1")
        #expect(try await service.call("GET", "/v1/accounts/\(kept)").status == 200)
        release.signal()
        #expect(finished.wait(timeout: .now() + 10) == .success)
        #expect(try await create(service, "lock-2").status == 201)
        #expect(try await service.call("GET", "/readyz", role: nil).status == 200)
        await service.stop()
    }
}
