import CreditLine
import Foundation
import GRDB
import Testing
@testable import CreditStore

/// A write that changes a row, asks for an audit entry, then fails: neither may remain.
struct FailingWrite: BusinessWrite {
    struct Boom: Error {}
    func apply(_ db: SQLConnection, now: Timestamp) throws -> (Int, [AuditRecord]) {
        _ = try CreateAccount(customerRef: "half-written").apply(db, now: now)
        throw Boom()
    }
}

@Suite struct AuditChainTests {
    func storeWithEntries(_ count: Int) async throws -> (Store, StoreLocation) {
        let (store, location) = try temporaryStore()
        for index in 0..<count {
            _ = try await store.perform(CreateAccount(customerRef: "c-\(index)"), by: testActor)
        }
        return (store, location)
    }

    @Test func entriesLinkEachToThePrevious() async throws {
        let (store, _) = try await storeWithEntries(3)
        let entries = try store.database.read { db in
            try StoreRow.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY seq").map(AuditEntry.init(row:))
        }
        #expect(entries.map(\.seq) == [1, 2, 3])
        #expect(entries[0].prevHash == AuditChain.genesisHash)
        #expect(entries[1].prevHash == entries[0].hash)
        #expect(entries[2].prevHash == entries[1].hash)
        for entry in entries { #expect(entry.hash == entry.expectedHash) }
        #expect(entries[0].action == "account.created")
        #expect(entries[0].actor == "key-test")
        #expect(entries[0].requestID == "req-test")
        #expect(entries.allSatisfy { $0.chain == 1 }, "an account's entries go to its chain")
        #expect(try store.verifyAudit() == .intact(checked: 3, heads: [
            AuditChainHead(chain: 0, seq: 0, hash: AuditChain.genesisHash), AuditChainHead(chain: 1, seq: 3, hash: entries[2].hash)]))
    }

    @Test func hashIsSHA256OfPreviousHashAndCanonicalJSON() {
        let entry = AuditEntry(seq: 1, at: "2026-11-25T10:00:00.000Z", actor: "k", role: "service",
                               action: "account.created", accountID: "acc_1", subjectID: nil,
                               detail: #"{"status":"prospect"}"#, requestID: "r", prevHash: AuditChain.genesisHash)
        #expect(entry.canonicalJSON == #"{"account_id":"acc_1","action":"account.created","actor":"k","#
            + #""at":"2026-11-25T10:00:00.000Z","detail":{"status":"prospect"},"request_id":"r","role":"service","#
            + #""seq":1,"subject_id":null}"#)
        // sha256(64 zeros ‖ canonical JSON), computed independently with coreutils.
        #expect(entry.hash == "ba80f8421c570e3f618bf31418b804ccc53695123b4a9a15a7263634c9f17c03")
    }

    @Test(arguments: ["UPDATE audit_log SET detail = '{}' WHERE seq = 1", "DELETE FROM audit_log WHERE seq = 1"])
    func triggersRefuseRewritingHistory(sql: String) async throws {
        let (store, _) = try await storeWithEntries(1)
        let queue = store.database
        #expect {
            try queue.write { db in try db.execute(sql: sql) }
        } throws: { error in
            refusedByTheDatabase(error, saying: "append-only")
        }
    }

    @Test func failedBusinessWriteLeavesNeitherRowNorEntry() async throws {
        let (store, _) = try await storeWithEntries(1)
        await #expect(throws: FailingWrite.Boom.self) { try await store.perform(FailingWrite(), by: testActor) }
        let (accounts, entries) = try store.database.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM accounts")!, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_log")!)
        }
        #expect(accounts == 1)
        #expect(entries == 1)
        #expect(try await store.auditLength() == 1)
    }

    @Test func tamperedDetailIsFoundAtItsSeq() async throws {
        let (store, _) = try await storeWithEntries(4)
        try store.database.write { db in
            try db.execute(sql: liftingGuard("audit_log_no_update", on: store))
            try db.execute(sql: #"UPDATE audit_log SET detail = '{"status":"active"}' WHERE seq = 3"#)
        }
        guard case .broken(_, let seq, _) = try store.verifyAudit() else {
            Issue.record("tampering not detected")
            return
        }
        #expect(seq == 3)
    }

    @Test func deletedEntryIsFoundAtItsSeq() async throws {
        let (store, _) = try await storeWithEntries(4)
        try store.database.write { db in
            try db.execute(sql: liftingGuard("audit_log_no_delete", on: store))
            try db.execute(sql: "DELETE FROM audit_log WHERE seq = 2")
        }
        #expect(try store.verifyAudit() == .broken(chain: 1, firstBrokenSeq: 2, reason: "entry 2 is missing"))
    }

    /// Verification and export read the same rows: an entry planted below the chain's numbering
    /// breaks verification and is not exported as part of the log.
    @Test(.sqliteFile, arguments: [0, -5])
    func entriesBelowOneBreakTheChain(seq: Int) async throws {
        let (store, location) = try await storeWithEntries(3)
        try store.database.write { db in
            // Someone with write access to the file can drop the trigger that refuses this.
            try db.execute(sql: liftingGuard("audit_log_seq_from_one", on: store))
            try db.execute(sql: """
                INSERT INTO audit_log (chain, seq, at, actor, role, action, account_id, subject_id, detail, request_id, prev_hash, hash)
                SELECT chain, ?, at, actor, role, action, account_id, subject_id, detail, request_id, prev_hash, hash
                FROM audit_log WHERE seq = 1
                """, arguments: [seq])
        }
        guard case .broken(_, let broken, _) = try store.verifyAudit() else {
            Issue.record("a planted entry was not detected")
            return
        }
        #expect(broken == seq)
        var exported: [Int] = []
        try AuditFile(path: try #require(location.sqlitePath)).export(accountID: nil) { exported.append($0.seq) }
        #expect(exported == [1, 2, 3])
    }

    @Test func truncatedTailFailsAgainstASavedCheckpoint() async throws {
        let (store, _) = try await storeWithEntries(4)
        let checkpoint = try await store.auditHeads()
        try store.database.write { db in
            try db.execute(sql: liftingGuard("audit_log_no_delete", on: store))
            try db.execute(sql: "DELETE FROM audit_log WHERE seq = 4")
        }
        // Alone, a truncated chain still links; only the saved checkpoint can tell.
        guard case .intact = try store.verifyAudit() else {
            Issue.record("a clean prefix should verify")
            return
        }
        guard case .broken(_, let seq, _) = try store.verifyAudit(from: checkpoint) else {
            Issue.record("truncation not detected")
            return
        }
        #expect(seq == 4)
    }

    @Test func verificationFromACheckpointRecomputesEverything() async throws {
        let (store, _) = try await storeWithEntries(2)
        let checkpoint = try await store.auditHeads()
        _ = try await store.perform(CreateAccount(customerRef: "later"), by: testActor)
        guard case .intact(let checked, let heads) = try store.verifyAudit(from: checkpoint) else {
            Issue.record("should be intact")
            return
        }
        #expect(checked == 3, "the entries before the checkpoint were taken on trust")
        #expect(heads.first { $0.chain == 1 }?.seq == 3)
    }

    /// Verifying against a checkpoint (entry 8 of 12) proves the log still extends it: an edit, a
    /// deletion or two entries swapped, before, at or after entry 8, each fails and is named by
    /// the first entry that no longer holds (docs/audit-chain.md).
    enum Tampering: String, CaseIterable, Sendable { case edit, delete, swap }

    @Test(arguments: Tampering.allCases, [5, 8, 10])
    func tamperingAnywhereFailsAgainstACheckpoint(_ tampering: Tampering, at seq: Int) async throws {
        let (store, _) = try await storeWithEntries(8)
        let checkpoint = try await store.auditHeads()
        #expect(checkpoint.first { $0.chain == 1 }?.seq == 8)
        for index in 0..<4 { _ = try await store.perform(CreateAccount(customerRef: "after-\(index)"), by: testActor) }
        try store.database.write { db in
            try db.execute(sql: liftingGuard("audit_log_no_update", on: store))
            try db.execute(sql: liftingGuard("audit_log_no_delete", on: store))
            switch tampering {
            case .edit:
                try db.execute(sql: #"UPDATE audit_log SET detail = '{"status":"active"}' WHERE seq = ?"#, arguments: [seq])
            case .delete:
                try db.execute(sql: "DELETE FROM audit_log WHERE seq = ?", arguments: [seq])
            case .swap:
                try db.execute(sql: "UPDATE audit_log SET seq = 1000 WHERE seq = ?", arguments: [seq])
                try db.execute(sql: "UPDATE audit_log SET seq = ? WHERE seq = ?", arguments: [seq, seq + 1])
                try db.execute(sql: "UPDATE audit_log SET seq = ? WHERE seq = 1000", arguments: [seq + 1])
            }
        }
        guard case .broken(_, let first, let reason) = try store.verifyAudit(from: checkpoint) else {
            Issue.record("\(tampering) at \(seq) not detected against the checkpoint")
            return
        }
        #expect(first == seq, "\(tampering) at \(seq): named \(first) (\(reason))")
    }

    /// A rewrite that keeps the chain linked (entry 5 edited, and every hash from it recomputed)
    /// verifies alone; against a checkpoint at entry 8 it fails there, where the saved hash no
    /// longer comes out.
    @Test func aRelinkedRewriteFailsAtTheCheckpoint() async throws {
        let (store, _) = try await storeWithEntries(8)
        let checkpoint = try await store.auditHeads()
        for index in 0..<4 { _ = try await store.perform(CreateAccount(customerRef: "after-\(index)"), by: testActor) }
        try store.database.write { db in
            try db.execute(sql: liftingGuard("audit_log_no_update", on: store))
            var previous = try String.fetchOne(db, sql: "SELECT hash FROM audit_log WHERE seq = 4") ?? ""
            for seq in 5...12 {
                let row = try #require(try StoreRow.fetchOne(db, sql: "SELECT * FROM audit_log WHERE seq = ?", arguments: [seq]))
                var entry = try AuditEntry(row: row)
                if seq == 5 { entry.detail = #"{"status":"active"}"# }
                entry.prevHash = previous
                try db.execute(sql: "UPDATE audit_log SET detail = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                               arguments: [entry.detail, entry.prevHash, entry.expectedHash, seq])
                previous = entry.expectedHash
            }
        }
        guard case .intact = try store.verifyAudit() else {
            Issue.record("the relinked chain should link by itself; the test rewrote it wrongly")
            return
        }
        #expect(try store.verifyAudit(from: checkpoint)
                == .broken(chain: 1, firstBrokenSeq: 8, reason: AuditChain.checkpointMismatch))
    }

    /// The signing key's folder is made when it does not exist (on PostgreSQL the default
    /// data/creditline.audit-key has no database file beside it), owner-only; a path that cannot
    /// be written says which setting to give.
    @Test func theSigningKeysFolderIsMadeForIt() throws {
        let root = NSTemporaryDirectory() + "creditline-key-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/data/creditline.audit-key"
        let signer = try AuditSigner.loadOrCreate(path: path, databasePath: "unused")
        #expect(FileManager.default.fileExists(atPath: path))
        let mode = try FileManager.default.attributesOfItem(atPath: root + "/data")[.posixPermissions] as? Int
        #expect(mode == 0o700)
        #expect(try AuditSigner.loadOrCreate(path: path, databasePath: "unused").publicKey == signer.publicKey)
        #expect(throws: StoreError.signingKeyUnwritable("/proc/creditline/key")) {
            try AuditSigner.loadOrCreate(path: "/proc/creditline/key", databasePath: "unused")
        }
        #expect("\(StoreError.signingKeyUnwritable("/x"))".contains("audit_key"))
    }

    /// A database written by the code of 2026-12-06 (a demo journey: keys, accounts, consents, a
    /// decision, an activation, a draw, a repayment, a freeze, a withdrawal, notices) still opens
    /// under today's code, migrations and all, and its chain verifies to the same head: the bytes
    /// of entries already written never change meaning (docs/audit-chain.md).
    @Test(.sqliteFile) func aDatabaseWrittenByEarlierCodeStillVerifies() throws {
        let folder = NSTemporaryDirectory() + "creditline-fixture-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/old.sqlite"
        try FileManager.default.copyItem(
            atPath: repositoryRoot + "/Tests/CreditStoreTests/Fixtures/written-by-2026-12-06.sqlite-fixture", toPath: path)
        var options = StoreOptions()
        options.migrationsDirectory = repositoryRoot + "/migrations/sqlite"
        let store = try Store.open(path: path, options: options, time: SystemTimeSource())
        defer { try? store.close() }
        #expect(try store.verifyAudit() == .intact(checked: 23, heads: [
            AuditChainHead(chain: 0, seq: 23, hash: "328cdd369d2b6703d37056cc66bb9ac1baa0ec19b67a6f9f7a62203a34bcb786"),
            AuditChainHead(chain: 1, seq: 0, hash: AuditChain.genesisHash)]))
        // Every entry of an action that has a typed event reads back as that event, and the event
        // writes the entry's bytes again: the types are the same currency the old code wrote.
        let rows = try DatabaseQueue(path: path).read { db in
            try Row.fetchAll(db, sql: "SELECT action, detail FROM audit_log ORDER BY seq")
        }
        var typed: Set<AuditAction> = []
        for row in rows {
            let action = try #require(AuditAction(rawValue: row["action"]))
            let stored: String = row["detail"]
            let detail = try StoredJSON.value([String: JSONValue].self, from: stored)
            let event = try DomainEvent.decode(action, auditDetail: detail)
            typed.insert(action)
            #expect(JSONValue.object(event.auditDetail).canonicalJSON == stored)
        }
        #expect(typed == [.accountCreated, .keyCreated, .modelReviewed, .consentGranted, .decisionScored, .accountActivated,
                          .noticeCreated, .drawCreated, .repaymentReceived, .accountFrozen, .accountUnfrozen, .consentWithdrawn])
    }
}
