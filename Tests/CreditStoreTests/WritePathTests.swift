import CreditLine
import Testing
@testable import CreditStore

@Suite struct WritePathTests {
    @Test func createAccountAsync() async throws {
        let (store, _) = try temporaryStore()
        let (account, created) = try await store.perform(CreateAccount(customerRef: "c-1"), by: testActor)
        #expect(created)
        #expect(account.status == .prospect)
    }
}

/// A store opened without notice templates refuses a write that owes the customer a notice, and
/// commits nothing of it: nothing changes for a customer without telling them (README "Events and
/// notices"). One that owes none goes through.
@Suite struct NoNoticeWithoutTemplatesTests {
    struct Freeze: BusinessWrite {
        var accountID: String
        func apply(_ db: SQLConnection, now: Timestamp) throws -> (Bool, [AuditRecord]) {
            try db.execute(sql: "UPDATE accounts SET status = 'frozen' WHERE id = ?", arguments: [accountID])
            return (true, [AuditRecord(.accountTransitioned(AccountTransitioned(
                action: .accountFrozen, from: .active, to: .frozen, cause: .operatorFreeze,
                reason: .operatorAction(reasonCode: "card_lost", hasNote: false))), accountID: accountID, subjectID: accountID)])
        }
    }

    @Test func aWriteOwingANoticeIsRefused() async throws {
        let store = try Store.inMemory(migrationsDirectory: repositoryRoot + "/migrations/sqlite")
        #expect(!store.writesNotices)
        let (account, _) = try await store.perform(CreateAccount(customerRef: "quiet-1"), by: testActor)
        let before = try await store.auditHeads()
        await #expect(throws: StoreError.noNoticeTemplates(.accountFrozen)) {
            try await store.perform(Freeze(accountID: account.id), by: testActor)
        }
        #expect(try await store.account(id: account.id)?.status == .prospect)
        #expect(try await store.auditHeads() == before)
        // With the templates, the same write commits with its notice.
        let composed = try Store.inMemory(migrationsDirectory: repositoryRoot + "/migrations/sqlite",
                                          notices: try testNoticeComposer())
        let (other, _) = try await composed.perform(CreateAccount(customerRef: "told-1"), by: testActor)
        #expect(try await composed.perform(Freeze(accountID: other.id), by: testActor))
        #expect(try await composed.notices(accountID: other.id).map(\.kind) == [.lineFrozen])
    }
}
