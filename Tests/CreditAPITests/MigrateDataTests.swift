import CreditLine
import Foundation
import Testing
@testable import CreditAPI
@testable import CreditStore

/// `creditline migrate-data` from a SQLite file into an empty PostgreSQL database (README
/// "Running on PostgreSQL"): everything copied, the chain verified and the counts compared there,
/// the same answers from a service on the copy, and a second copy refused.
@Suite(.enabled(if: TestDatabase.postgres != nil, "copies into PostgreSQL"))
struct MigrateDataTests {
    @Test func aSQLiteFileMovesToPostgreSQLWhole() async throws {
        // The source stays on SQLite whatever the suite runs on.
        let source = try TestService { $0.databaseURL = nil }
        let lines = LineInUseTests()
        let id = try await lines.openLine(source, "moving-1", limit: 100_000)
        for amount in [3_000, 4_000] {
            #expect(try await lines.draw(source, id, #"{"amount":\#(amount),"customer_selected":true}"#).status == 201)
        }
        #expect(try await lines.repay(source, id, 2_000).status == 201)
        _ = try await source.call("POST", "/v1/accounts", body: #"{"customer_ref":"moving-2"}"#)
        let before = try await source.call("GET", "/v1/accounts/\(id)").json
        let statement = try await source.call("GET", "/v1/accounts/\(id)/statement?from=2026-01-01&to=2027-12-31").body
        await source.application.shutdown()

        let server = try #require(TestDatabase.postgres)
        let name = "creditline_move_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try PostgresEngine.createDatabase(named: name, at: server)
        defer { PostgresEngine.dropDatabase(named: name, at: server) }
        let target = server.with(database: name).url
        let copied = try CommandLine_.run(["migrate-data", "--from", "sqlite:" + source.databasePath, "--to", target])
        #expect(copied.status == 0, "\(copied.stderr)")
        #expect(copied.stdout.contains("audit chains intact on the target: \(try await source.store.auditLength()) entries"))
        #expect(copied.stdout.contains("draws: 2 rows"))
        // Standard error is a pipe: one final line, the rows copied (README "Command line", "Progress").
        let finals = copied.stderr.split(separator: "\n").filter { $0.hasPrefix("migrate-data: ") }
        #expect(finals.count == 1 && finals.first?.contains(" rows in ") == true && !copied.stderr.contains("\r"),
                "\(copied.stderr)")

        // A service on the copy answers as the original did.
        let moved = try TestService { $0.databaseURL = target; $0.auditKey = source.databasePath + ".audit-key" }
        let after = try await moved.call("GET", "/v1/accounts/\(id)").json
        #expect(after["balance"] as? Int == before["balance"] as? Int)
        #expect(after["version"] as? Int == before["version"] as? Int)
        #expect(try await moved.call("GET", "/v1/accounts/\(id)/statement?from=2026-01-01&to=2027-12-31").body == statement)
        #expect(try await moved.call("GET", "/v1/audit/verify", role: .auditor).json["ok"] as? Bool == true)
        // New writes continue the copied chain and the copied event numbering.
        #expect(try await lines.draw(moved, id, #"{"amount":1000,"customer_selected":true}"#).status == 201)
        #expect(try await moved.call("GET", "/v1/audit/verify", role: .auditor).json["ok"] as? Bool == true)
        await moved.application.shutdown()

        // Into a database that has rows: refused, nothing written.
        let again = try CommandLine_.run(["migrate-data", "--from", "sqlite:" + source.databasePath, "--to", target])
        #expect(again.status == 1)
        #expect(again.stderr.contains("the target is not empty"))
        #expect(try CommandLine_.run(["migrate-data", "--from", "sqlite:/nonexistent/x.sqlite", "--to", target]).status == 1)
        try? moved.store.close()
        await source.stop()
    }
}
