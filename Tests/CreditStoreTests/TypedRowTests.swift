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
        // The language a customer's notices are written in: never guessed.
        ("accounts", "locale", "'fr'"),
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

/// What the compliance report reads and cannot: a finding against its check, or the whole
/// report refused, never a pass (README "Development", rows that fail loudly).
@Suite struct UnreadableReportRowTests {
    @Test func anIncreaseByAnInitiatorNoOneKnowsIsAFinding() async throws {
        let (store, accountID) = try await TypedRowTests().populated()
        let now = store.time.now()
        try await store.database.write { db in
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            // Accepted and confirmed: it would hold if the initiator were anyone the code knows.
            try db.execute(sql: """
                INSERT INTO limit_adjustments (id, account_id, old_limit, new_limit, direction, reason_code, initiated_by,
                                               customer_accepted, notice_due, actor, effective_at)
                VALUES ('adj_martian', ?, 100, 200, 'increase', 'customer_request', 'martian', 1, 0, 'key:x', ?)
                """, arguments: [accountID, now.rfc3339])
            try db.execute(sql: """
                INSERT INTO customer_confirmations (id, account_id, subject_id, channel, method, notice_sha256, confirmed_at)
                VALUES ('cfm_1', ?, 'adj_martian', 'app', 'explicit_opt_in', ?, ?)
                """, arguments: [accountID, TypedRowTests.hash, now.rfc3339])
        }
        let report = try await store.complianceReport(
            from: now.adding(days: -1), to: now.adding(days: 1),
            settings: ComplianceSettings(currentTermsVersion: "2026-11", singleApproverLimit: 500_000), now: now)
        let five = report.checks.first { $0.number == "5" }
        #expect(five?.holds == false)
        #expect(five?.ids == ["adj_martian"])
    }

    @Test func aReviewWhoseTimesDoNotReadRefusesTheReport() async throws {
        let (store, _) = try await TypedRowTests().populated()
        let now = store.time.now()
        let id = try await store.database.write { db -> String in
            let id = try #require(try String.fetchOne(db, sql: "SELECT id FROM reviews LIMIT 1"))
            try db.execute(sql: "UPDATE reviews SET status = 'resolved', resolved_at = ? || 'x' WHERE id = ?",
                           arguments: [now.rfc3339, id])
            return id
        }
        await #expect(throws: StoreError.unreadableRow(table: "reviews", column: "resolved_at", id: id)) {
            _ = try await store.complianceReport(
                from: now.adding(days: -1), to: now.adding(days: 1),
                settings: ComplianceSettings(currentTermsVersion: "2026-11", singleApproverLimit: 500_000), now: now)
        }
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

/// The console's review queue reads each review's decision and consents in one read, and gives
/// each review its own.
@Suite struct ReviewQueueTests {
    @Test func eachReviewGetsItsOwnDecisionAndConsents() async throws {
        let (store, first) = try await TypedRowTests().populated()
        // A second account with one consent, a decision and a contest of it.
        let now = store.time.now()
        let (account, _) = try await store.perform(CreateAccount(customerRef: "queue-2"), by: testActor)
        _ = try await store.perform(GrantConsent(accountID: account.id, grant: ConsentRules.Grant(
            purpose: .creditAssessment, noticeVersion: "2026-11", noticeSHA256: TypedRowTests.hash, channel: .web,
            method: .explicitOptIn, evidence: nil, expiresAt: now.adding(days: 30))), by: testActor)
        let card = try Scorecard(json: Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/config/scorecards/v1.json")),
                                 sha256: "00")
        let decision = try await store.perform(
            ScoreAccount(accountID: account.id, result: card.score([:]), modelVersion: card.modelVersion, validityDays: 30),
            by: testActor)
        _ = try await store.perform(RequestReview(decisionID: decision.id, statement: nil), by: testActor)

        let queue = try await store.reviewQueue(scope: .all)
        // Both were opened at the same instant of the test's clock: ordered by id then.
        #expect(Set(queue.map(\.record.review.accountID)) == [first, account.id])
        for item in queue {
            #expect(item.decision?.id == item.record.review.decisionID)
            #expect(!item.consents.isEmpty && item.consents.allSatisfy { $0.accountID == item.record.review.accountID })
        }
        #expect(queue.first { $0.record.review.accountID == account.id }?.consents.map(\.channel) == [.web])
        #expect(try await store.reviewQueue(scope: .one("elsewhere")).isEmpty)
    }
}
