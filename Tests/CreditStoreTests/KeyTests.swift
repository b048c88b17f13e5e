import CreditLine
import Foundation
import GRDB
import Testing
@testable import CreditStore

@Suite struct KeyTests {
    @Test func onlyTheHashIsStored() async throws {
        let (store, location) = try temporaryStore()
        let issued = try store.createKey(role: .service, name: "shop backend")
        let secret = try #require(KeyToken.parse(issued.token)).secret
        #expect(secret.utf8.count >= 43)  // 256 bits in base64url
        try store.checkpoint()
        let files = location.sqlitePath.map { [$0, $0 + "-wal"] } ?? []
        for file in files where FileManager.default.fileExists(atPath: file) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "the secret must not be in \(file)")
        }
        #expect(try await store.authenticate(token: issued.token)?.role == .service)
    }

    @Test func revokedKeyIsRefusedAndAudited() async throws {
        let (store, _) = try temporaryStore()
        let issued = try store.createKey(role: .operator, name: "ops")
        _ = try store.revokeKey(id: issued.key.id)
        #expect(try await store.authenticate(token: issued.token) == nil)
        let verification = try store.verifyAudit()
        #expect(verification == .intact(checked: 2, heads: try await store.auditHeads()))
    }

    @Test(arguments: ["", "clk_", "clk_x", "Bearer x", "clk_unknown_secret"])
    func malformedOrUnknownTokensAreRefused(token: String) async throws {
        let (store, _) = try temporaryStore()
        _ = try store.createKey(role: .service, name: "s")
        #expect(try await store.authenticate(token: token) == nil)
    }

    @Test func wrongSecretForAnExistingIdIsRefused() async throws {
        let (store, _) = try temporaryStore()
        let issued = try store.createKey(role: .service, name: "s")
        #expect(try await store.authenticate(token: "clk_\(issued.key.id)_wrong") == nil)
    }

    @Test func constantTimeComparison() {
        #expect(KeyToken.constantTimeEqual(Data([1, 2, 3]), Data([1, 2, 3])))
        #expect(!KeyToken.constantTimeEqual(Data([1, 2, 3]), Data([1, 2, 4])))
        #expect(!KeyToken.constantTimeEqual(Data([1, 2]), Data([1, 2, 3])))
    }

    @Test func demoKeysAreInstalledOnce() throws {
        let (store, _) = try temporaryStore()
        #expect(try !store.hasActiveDemoKeys())
        _ = try store.ensureDemoKeys()
        _ = try store.ensureDemoKeys()
        #expect(try store.activeKeyCount() == DemoKeys.tokens.count)
        #expect(try store.hasActiveDemoKeys())
    }
}
