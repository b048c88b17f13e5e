import CreditLine
import Foundation
import GRDB
import Testing
@testable import CreditStore

/// A row whose column holds a value the code does not know is read loudly, never as a default
/// (an unknown status read as `active` would be the most permissive guess). These run in memory:
/// what they check does not depend on a file.
@Suite struct TypedRowTests {
    static let hash = String(repeating: "0f", count: 32)

    /// An account with a consent of each purpose, a decision, and a contest review.
    func populated() async throws -> (Store, accountID: String) {
        let store = try Store.inMemory(migrationsDirectory: repositoryRoot + "/migrations/sqlite", time: ManualTime())
        let now = store.time.now()
        let (account, _) = try await store.perform(CreateAccount(customerRef: "typed-1"), by: testActor)
        for purpose in ConsentPurpose.allCases {
            _ = try await store.perform(GrantConsent(accountID: account.id, grant: ConsentRules.Grant(
                purpose: purpose, noticeVersion: "2026-11", noticeSHA256: Self.hash, channel: .app, method: .explicitOptIn,
                evidence: nil, expiresAt: now.adding(days: 30))), by: testActor)
        }
        let card = try Scorecard(json: Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/config/scorecards/v1.json")),
                                 sha256: "00")
        let decision = try await store.perform(
            ScoreAccount(accountID: account.id, result: card.score([:]), modelVersion: card.modelVersion, validityDays: 30),
            by: testActor)
        _ = try await store.perform(RequestReview(decisionID: decision.id, statement: nil), by: testActor)
        return (store, account.id)
    }

    @Test(arguments: [
        ("accounts", "status", "'dormant'"), ("accounts", "tier", "'F'"), ("accounts", "created_at", "'yesterday'"),
        ("accounts", "terms", "'{not json'"),
        ("consents", "purpose", "'marketing'"), ("consents", "method", "'pre_ticked'"), ("consents", "status", "'paused'"),
        ("consents", "channel", "'fax'"), ("consents", "expires_at", "'soon'"),
        ("decisions", "tier", "'Z'"), ("decisions", "outcome", "'maybe'"), ("decisions", "reasons", "'['"),
        ("reviews", "kind", "'appeal'"), ("reviews", "status", "'pending'"),
    ])
    func unknownValuesThrowNamingTableColumnAndRow(table: String, column: String, value: String) async throws {
        let (store, accountID) = try await populated()
        let id = try await store.database.write { db -> String in
            // The migrations' CHECK constraints would refuse these; a row written by another
            // version or by hand is exactly what they cannot promise against.
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            try db.execute(sql: "DROP TRIGGER consents_no_reactivation; DROP TRIGGER consents_evidence_fixed")
            let id = try String.fetchOne(db, sql: "SELECT id FROM \(table) LIMIT 1")!
            try db.execute(sql: "UPDATE \(table) SET \(column) = \(value) WHERE id = ?", arguments: [id])
            try db.execute(sql: "PRAGMA ignore_check_constraints = OFF")
            return id
        }
        let expected = StoreError.unreadableRow(table: table, column: column, id: id)
        await #expect(throws: expected) {
            switch table {
            case "accounts": _ = try await store.account(id: accountID)
            case "consents": _ = try await store.consents(accountID: accountID)
            case "decisions": _ = try await store.decision(id: id)
            default: _ = try await store.reviews(status: nil, kind: nil)
            }
        }
    }

    @Test func knownValuesReadBack() async throws {
        let (store, accountID) = try await populated()
        #expect(try await store.account(id: accountID)?.status == .prospect)
        #expect(Set(try await store.consents(accountID: accountID)?.map(\.purpose) ?? []) == Set(ConsentPurpose.allCases))
        #expect(try await store.reviews(status: .open, kind: .contest).count == 1)
    }
}

/// The store's own row, on whichever engine the run uses: columns in the query's order (a
/// PostgreSQL row once came through a dictionary and lost it), and a read that does not convert
/// throws instead of trapping as GRDB's non-optional subscripts do.
@Suite struct StoreRowTests {
    @Test func columnsKeepTheirOrderAndBadReadsThrow() async throws {
        let (store, _) = try temporaryStore()
        defer { try? store.close() }
        let row = try await store.read { db in
            try #require(try StoreRow.fetchOne(db, sql: "SELECT 3 AS c, 'b' AS b, NULL AS a, 1 AS c, 'z' AS y, 7 AS x"))
        }
        #expect(row.columns == ["c", "b", "a", "c", "y", "x"])
        let (fourth, sixth, c, a): (Int, Int, Int, String?) = (try row[position: 3], try row[position: 5], try row["c"], try row["a"])
        #expect(fourth == 1 && sixth == 7)
        // By name, the leftmost of a repeated name, as SQL names it; NULL is nil where nil may be.
        #expect(c == 3 && a == nil)
        #expect(throws: StoreError.unreadableRow(table: "query", column: "a", id: "?")) { try row["a"] as String }
        #expect(throws: StoreError.unreadableRow(table: "query", column: "b", id: "?")) { try row["b"] as Int }
        #expect(throws: StoreError.unreadableRow(table: "query", column: "w", id: "?")) { try row["w"] as Int? }
        #expect(throws: StoreError.unreadableRow(table: "query", column: "6", id: "?")) { try row[position: 6] as Int? }
        // A typed read names the table and the row.
        #expect(throws: StoreError.unreadableRow(table: "accounts", column: "a", id: "?")) {
            try TypedRow(row, table: "accounts")["a"] as Int
        }
    }
}
