import CreditLine
import Foundation
import GRDB
import Testing
@testable import CreditAPI
@testable import CreditStore

/// One error boundary: every layer's error becomes problem+json in the router's one catch.
@Suite struct ErrorBoundaryTests {
    /// A row the code cannot read answers 500 and names table, column and row in the log, never
    /// guessing a value.
    @Test func anUnreadableRowIs500AndLogged() async throws {
        let logs = LogCapture()
        let service = try TestService(logs: logs)
        let created = try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"boundary-1"}"#)
        let id = try #require(created.json["id"] as? String)
        try service.store.database.write { db in
            try db.execute(sql: db.dialect == .sqlite ? "PRAGMA ignore_check_constraints = ON"
                : "ALTER TABLE accounts DROP CONSTRAINT accounts_status_check")
            try db.execute(sql: "UPDATE accounts SET status = 'dormant' WHERE id = ?", arguments: [id])
        }
        let reply = try await service.call("GET", "/v1/accounts/\(id)")
        #expect(reply.status == 500)
        #expect(reply.header("Content-Type") == "application/problem+json")
        #expect(reply.json["code"] as? String == "internal-error")
        #expect(!String(decoding: reply.body, as: UTF8.self).contains("dormant"))
        let logged = logs.all.filter { $0.contains("server error") }
        #expect(logged.count == 1)
        #expect(logged.first?.contains("row \(id) of accounts has an unreadable status") == true)
        await service.stop()
    }

    /// The domain names its refusal kinds; the API maps each to one status.
    @Test(arguments: [
        (DomainError.Kind.invalid, 422), (.conflict, 409), (.notFound, 404), (.staleVersion, 412),
    ])
    func domainKindsMapToOneStatusEach(kind: DomainError.Kind, status: Int) {
        let problem = DomainError(kind, code: .invalidField, "detail", field: "f").problem
        #expect(problem.status.code == status)
        #expect(problem.code == "invalid-field")
        #expect(problem.field == "f")
    }
}
