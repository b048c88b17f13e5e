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
        // The writer held busy while the jobs queue up, so that they drain as one batch.
        let release = DispatchSemaphore(value: 0)
        let holding = Task { try await store.groupCommit.submit { _ in _ = release.wait(timeout: .now() + 10) } }
        try await Task.sleep(for: .milliseconds(100))
        @Sendable func create(_ reference: String) -> @Sendable (SQLConnection) throws -> String {
            { db in
                let (output, records) = try CreateAccount(customerRef: reference).apply(db, now: now)
                try AuditChain.append(records, by: testActor, at: now, in: db)
                return output.account.id
            }
        }
        let heldOnly: @Sendable (SQLConnection) throws -> String = { db in
            try AuditChain.append([AuditRecord(.accountCreated, accountID: "acc_none")], by: testActor, at: now, in: db)
            throw Refused()
        }
        let afterWriting: @Sendable (SQLConnection) throws -> String = { db in
            _ = try create("refused-after-writing")(db)
            throw Refused()
        }
        // The second refusal: written (an account), or one more with its entry held only.
        let jobs = [create("kept-1"), heldOnly, create("kept-2"), withWritingRefusal ? afterWriting : heldOnly, create("kept-3")]
        let outcomes = await withTaskGroup(of: (Int, Result<String, any Error>).self) { group in
            for (index, job) in jobs.enumerated() {
                group.addTask { (index, await Result { try await store.groupCommit.submit(job) }) }
            }
            try? await Task.sleep(for: .milliseconds(300))
            release.signal()
            var outcomes: [Int: Result<String, any Error>] = [:]
            for await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes
        }
        try await holding.value
        for index in [1, 3] {
            #expect(throws: Refused.self) { try outcomes[index]!.get() }
        }
        for index in [0, 2, 4] {
            let id = try outcomes[index]!.get()
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

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
