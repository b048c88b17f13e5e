import CreditLine
import Foundation
import Testing
@testable import CreditStore

/// A refused write in a batch is refused alone, whatever of it was held or sent (docs/
/// architecture.md, "The write path"): on PostgreSQL the batch runs first without a savepoint a
/// write, and must fall back to savepoints when a refused job had already written.
@Suite struct GroupCommitRefusalTests {
    struct Refused: Error {}

    /// With a job refused after it wrote (PostgreSQL falls back to savepoints), and without one
    /// (PostgreSQL keeps its batch without savepoints, dropping the refused job's held entry and
    /// putting the chain's head back).
    @Test(arguments: [true, false])
    func refusedJobsLeaveNothingAndTheOthersCommit(withWritingRefusal: Bool) async throws {
        let (store, _) = try temporaryStore()
        let now = store.time.now()
        let create: @Sendable (String) -> @Sendable (SQLConnection) throws -> String = { creating($0, at: now) }
        let heldOnly: @Sendable (SQLConnection) throws -> String = { db in
            try AuditChain.append([AuditRecord(.accountCreated, accountID: "acc_none")], by: testActor, at: now, in: db)
            throw Refused()
        }
        let afterWriting: @Sendable (SQLConnection) throws -> String = { db in
            _ = try create("refused-after-writing")(db)
            throw Refused()
        }
        // The second refusal: written (an account), or one more with its entry held only.
        let outcomes = try await inOneBatch(store, [create("kept-1"), heldOnly, create("kept-2"),
                                                    withWritingRefusal ? afterWriting : heldOnly, create("kept-3")])
        for index in [1, 3] {
            #expect(throws: Refused.self) { try outcomes[index].get() }
        }
        for index in [0, 2, 4] {
            let id = try outcomes[index].get()
            #expect(try await store.account(id: id) != nil)
        }
        #expect(try await store.read { db in try Store.fetchAccount(db, customerRef: "refused-after-writing", tenant: Tenant.defaultName) } == nil)
        guard case .intact(let checked, _) = try store.verifyAudit() else {
            Issue.record("the chain does not verify")
            return
        }
        #expect(checked == 3)
    }
}

/// A batch's held inserts go together at its end on PostgreSQL (README "Running on PostgreSQL"):
/// what one write holds must still be seen by a later write of the batch that looks for it, and
/// an insert the database refuses at the end must still be one write's refusal.
@Suite struct HeldAcrossABatchTests {
    @Test func aReferenceCreatedTwiceInOneBatchIsOneAccount() async throws {
        let (store, _) = try temporaryStore()
        let now = store.time.now()
        let create: @Sendable (String) -> @Sendable (SQLConnection) throws -> String = { creating($0, at: now) }
        let outcomes = try await inOneBatch(store, [create("twice"), create("other"), create("twice")])
        let answers = try outcomes.map { try $0.get() }
        #expect(!answers[0].hasSuffix(" found") && !answers[1].hasSuffix(" found"))
        #expect(answers[2] == answers[0] + " found")
        guard case .intact(let checked, _) = try store.verifyAudit() else {
            Issue.record("the chain does not verify")
            return
        }
        #expect(checked == 2)
    }

    @Test func anInsertTheDatabaseRefusesAtTheEndIsOneWritesRefusal() async throws {
        let (store, _) = try temporaryStore()
        let now = store.time.now()
        let (first, _) = try await store.perform(CreateAccount(customerRef: "taken"), by: testActor)
        let create: @Sendable (String) -> @Sendable (SQLConnection) throws -> String = { creating($0, at: now) }
        // The account's id again: its unique key refuses it when the held insert is sent.
        let clash: @Sendable (SQLConnection) throws -> String = { db in
            try db.enqueue(cached: "INSERT INTO accounts (id, tenant, customer_ref, status, credit_limit, currency, limit_increase_opt_out, version, created_at, updated_at, locale) VALUES (?, 'default', 'clash', 'prospect', 0, 'CNY', 0, 1, ?, ?, 'zh-CN')",
                           arguments: [first.id, now.rfc3339, now.rfc3339])
            return "clash"
        }
        let outcomes = try await inOneBatch(store, [create("before"), clash, create("after")])
        #expect(throws: (any Error).self) { try outcomes[1].get() }
        for index in [0, 2] {
            #expect(try await store.account(id: try outcomes[index].get()) != nil)
        }
        #expect(try await store.read { db in try Store.fetchAccount(db, customerRef: "clash", tenant: Tenant.defaultName) } == nil)
        guard case .intact = try store.verifyAudit() else {
            Issue.record("the chain does not verify")
            return
        }
    }
}

/// Runs `jobs` as one batch, in order: the writer held busy while they queue up.
func inOneBatch(_ store: Store, _ jobs: [@Sendable (SQLConnection) throws -> String]) async throws -> [Result<String, any Error>] {
    let release = DispatchSemaphore(value: 0)
    let holding = Task { try await store.groupCommit.submit { _ in _ = release.wait(timeout: .now() + 10) } }
    try await Task.sleep(for: .milliseconds(100))
    let outcomes = await withTaskGroup(of: (Int, Result<String, any Error>).self) { group in
        for (index, job) in jobs.enumerated() {
            group.addTask { (index, await Result { try await store.groupCommit.submit(job) }) }
            // In order: the batch runs them as they were queued.
            try? await Task.sleep(for: .milliseconds(20))
        }
        try? await Task.sleep(for: .milliseconds(200))
        release.signal()
        var outcomes: [Int: Result<String, any Error>] = [:]
        for await (index, outcome) in group { outcomes[index] = outcome }
        return outcomes
    }
    try await holding.value
    return jobs.indices.map { outcomes[$0]! }
}

/// A job that creates an account of `reference` and appends its entry: its answer is the
/// account's id, followed by " found" when the reference had one already.
func creating(_ reference: String, at now: Timestamp) -> @Sendable (SQLConnection) throws -> String {
    { db in
        let (output, records) = try CreateAccount(customerRef: reference).apply(db, now: now)
        try AuditChain.append(records, by: testActor, at: now, in: db)
        return output.account.id + (output.created ? "" : " found")
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
