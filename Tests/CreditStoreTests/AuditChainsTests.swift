import CreditLine
import Foundation
import GRDB
import Testing
@testable import CreditStore

/// The log as several chains under a signed root (docs/audit-chain.md, "Chains" and
/// "Checkpoints"): accounts spread over the account chains and stay in theirs, entries of no
/// account go to chain 0, and against a saved root any entry of any chain edited, deleted or
/// moved, or any chain's tail dropped, fails verification naming that chain.
@Suite struct AuditChainsTests {
    /// Three account chains, key entries in chain 0, and accounts until each account chain holds
    /// at least five entries.
    func spreadStore() async throws -> Store {
        let (store, _) = try temporaryStore()
        try store.database.write { db in try db.execute(sql: "UPDATE audit_chains SET account_chains = 3 WHERE id = 1") }
        for index in 0..<5 { _ = try store.createKey(role: .service, name: "chain-0-\(index)") }
        var index = 0
        while try await store.auditHeads().dropFirst().contains(where: { $0.seq < 5 }) {
            _ = try await store.perform(CreateAccount(customerRef: "spread-\(index)"), by: testActor)
            index += 1
        }
        return store
    }

    @Test func accountsSpreadOverTheAccountChainsAndStayInTheirs() async throws {
        let store = try await spreadStore()
        let rows = try store.database.read { db in
            try StoreRow.fetchAll(db, sql: """
                SELECT a.audit_chain, e.chain, e.action FROM audit_log e LEFT JOIN accounts a ON a.id = e.account_id
                """)
        }
        for row in rows {
            let accountChain: Int? = try row["audit_chain"]
            let chain: Int = try row["chain"]
            let action: String = try row["action"]
            // An account's entries are in its chain; an entry of no account in chain 0.
            #expect(chain == (accountChain ?? 0), "\(action)")
        }
        let heads = try await store.auditHeads()
        #expect(heads.map(\.chain) == [0, 1, 2, 3])
        #expect(heads[0].seq == 5)
        #expect(try store.verifyAudit() == .intact(checked: heads.reduce(0) { $0 + $1.seq }, heads: heads))
        // The rule picks by the id alone: the same id, the same chain, on any machine.
        #expect(AuditChains.chain(forNewAccount: "acc_example", accountChains: 16)
                == AuditChains.chain(forNewAccount: "acc_example", accountChains: 16))
        #expect((1...16).contains(AuditChains.chain(forNewAccount: "acc_example", accountChains: 16)))
        #expect(AuditChains.chain(forNewAccount: "acc_example", accountChains: 1) == 1)
    }

    @Test func anEntryOfAnotherChainHashesWithItsChain() {
        let entry = AuditEntry(chain: 3, seq: 1, at: "2026-11-25T10:00:00.000Z", actor: "k", role: "service",
                               action: "account.created", accountID: "acc_1", subjectID: nil,
                               detail: #"{"status":"prospect"}"#, requestID: "r", prevHash: AuditChain.genesisHash)
        #expect(entry.canonicalJSON == #"{"account_id":"acc_1","action":"account.created","actor":"k","#
            + #""at":"2026-11-25T10:00:00.000Z","chain":3,"detail":{"status":"prospect"},"request_id":"r","#
            + #""role":"service","seq":1,"subject_id":null}"#)
        var moved = entry
        moved.chain = 2
        #expect(moved.expectedHash != entry.hash, "an entry moved to another chain must not hash the same")
    }

    enum Tampering: String, CaseIterable, Sendable { case edit, delete, swap, dropTail }

    @Test(arguments: Tampering.allCases, [0, 1, 2, 3])
    func tamperingWithAnyChainFailsAgainstTheRoot(_ tampering: Tampering, chain: Int) async throws {
        let store = try await spreadStore()
        let root = try await store.auditHeads()
        let signer = try AuditSigner.loadOrCreate(path: NSTemporaryDirectory() + "root-key-" + UUID().uuidString,
                                                  databasePath: "unused")
        let signed = try signer.sign(heads: root, at: "2026-12-07T00:00:00.000Z")
        #expect(SignedRoot.isValid(at: signed.at, heads: signed.heads, signature: signed.signature, publicKey: signer.publicKey))
        // Writes after the root, in every chain.
        _ = try store.createKey(role: .service, name: "after-root")
        for index in 0..<6 { _ = try await store.perform(CreateAccount(customerRef: "after-\(index)"), by: testActor) }
        guard case .intact = try store.verifyAudit(from: signed.heads) else {
            Issue.record("the log extends its root before any tampering")
            return
        }
        let head = try #require(root.first { $0.chain == chain }).seq
        let seq = tampering == .dropTail ? 1 : 3
        try store.database.write { db in
            try db.execute(sql: liftingGuard("audit_log_no_update", on: store))
            try db.execute(sql: liftingGuard("audit_log_no_delete", on: store))
            switch tampering {
            case .edit:
                try db.execute(sql: "UPDATE audit_log SET actor = 'someone-else' WHERE chain = ? AND seq = ?", arguments: [chain, seq])
            case .delete:
                try db.execute(sql: "DELETE FROM audit_log WHERE chain = ? AND seq = ?", arguments: [chain, seq])
            case .swap:
                try db.execute(sql: "UPDATE audit_log SET seq = 1000 WHERE chain = ? AND seq = ?", arguments: [chain, seq])
                try db.execute(sql: "UPDATE audit_log SET seq = ? WHERE chain = ? AND seq = ?", arguments: [seq, chain, seq + 1])
                try db.execute(sql: "UPDATE audit_log SET seq = ? WHERE chain = ? AND seq = 1000", arguments: [seq + 1, chain])
            case .dropTail:
                // The whole chain, root head and all: it verifies alone as an empty chain.
                try db.execute(sql: "DELETE FROM audit_log WHERE chain = ?", arguments: [chain])
            }
        }
        guard case .broken(let brokenChain, let first, let reason) = try store.verifyAudit(from: signed.heads) else {
            Issue.record("\(tampering) in chain \(chain) not detected against the root")
            return
        }
        #expect(brokenChain == chain, "\(tampering): \(reason)")
        #expect(first == seq, "\(tampering) in chain \(chain) (head \(head)): named \(first) (\(reason))")
    }

    /// `audit_chains` raises the database's account chains and never lowers them; 0 keeps them.
    @Test func theAccountChainsAreRaisedNeverLowered() async throws {
        let (store, _) = try temporaryStore()
        let (old, _) = try await store.perform(CreateAccount(customerRef: "before-the-raise"), by: testActor)
        try store.raiseAuditChains(to: 4)
        try store.raiseAuditChains(to: 0)
        #expect(try await store.auditHeads().map(\.chain) == [0, 1, 2, 3, 4])
        #expect(throws: StoreError.auditChainsLowered(configured: 2, stored: 4)) { try store.raiseAuditChains(to: 2) }
        #expect("\(StoreError.auditChainsLowered(configured: 2, stored: 4))".contains("audit_chains"))
        var chains: Set<Int> = []
        for index in 0..<40 {
            let (account, _) = try await store.perform(CreateAccount(customerRef: "after-\(index)"), by: testActor)
            chains.insert(try store.database.read { db in try Int.fetchOne(db, sql: "SELECT audit_chain FROM accounts WHERE id = ?", arguments: [account.id]) } ?? -1)
        }
        #expect(chains == [1, 2, 3, 4], "new accounts spread over every account chain")
        #expect(try store.database.read { db in try Int.fetchOne(db, sql: "SELECT audit_chain FROM accounts WHERE id = ?", arguments: [old.id]) } == 1)
        guard case .intact = try store.verifyAudit() else {
            Issue.record("the chains do not verify after a raise")
            return
        }
    }

    /// A write that names one account and reaches another chain (another account's, and chain
    /// 0's) appends there too: on PostgreSQL it locks those chains as it reaches them.
    struct ReachingWrite: BusinessWrite {
        var accountID: String
        var other: String
        var chainAccountID: String? { accountID }
        func apply(_ db: SQLConnection, now: Timestamp) throws -> ((), [AuditRecord]) {
            ((), [AuditRecord(.service(.demoClockAdvanced(days: 0)), accountID: accountID),
                  AuditRecord(.service(.demoClockAdvanced(days: 1)), accountID: other),
                  AuditRecord(.service(.demoClockAdvanced(days: 2)))])
        }
    }

    @Test func aWriteThatReachesOtherChainsAppendsThere() async throws {
        let (store, _) = try temporaryStore()
        try store.raiseAuditChains(to: 4)
        var accounts: [String: Int] = [:]
        var index = 0
        while Set(accounts.values).count < 2 {
            let (account, _) = try await store.perform(CreateAccount(customerRef: "reach-\(index)"), by: testActor)
            accounts[account.id] = try store.database.read { db in
                try Int.fetchOne(db, sql: "SELECT audit_chain FROM accounts WHERE id = ?", arguments: [account.id])
            }
            index += 1
        }
        let first = try #require(accounts.first)
        let second = try #require(accounts.first { $0.value != first.value })
        let before = try await store.auditHeads()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { _ = try await store.perform(ReachingWrite(accountID: first.key, other: second.key), by: testActor) }
                group.addTask { _ = try await store.perform(ReachingWrite(accountID: second.key, other: first.key), by: testActor) }
            }
            try await group.waitForAll()
        }
        let after = try await store.auditHeads()
        #expect(after[0].seq - before[0].seq == 16)
        #expect(after[first.value].seq - before[first.value].seq == 16)
        #expect(after[second.value].seq - before[second.value].seq == 16)
        guard case .intact = try store.verifyAudit(from: before) else {
            Issue.record("the chains a write reached do not verify")
            return
        }
    }
}
