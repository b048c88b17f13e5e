import CreditLine
import Testing
@testable import CreditAPI

@Suite struct AccountTests {
    @Test func createThenReadAccount() async throws {
        let service = try TestService()
        let created = try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"shop-42"}"#)
        #expect(created.status == 201)
        let id = try #require(created.json["id"] as? String)
        #expect(created.json["status"] as? String == "prospect")
        let read = try await service.call("GET", "/v1/accounts/\(id)", role: .operator)
        #expect(read.status == 200)
        #expect(read.json["customer_ref"] as? String == "shop-42")
        await service.stop()
    }
}
