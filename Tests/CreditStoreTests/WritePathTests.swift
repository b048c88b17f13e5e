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
