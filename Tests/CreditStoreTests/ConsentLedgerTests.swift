import CreditLine
import Foundation
import GRDB
import Testing
@testable import CreditStore

@Suite struct ConsentLedgerTests {
    static let hash = String(repeating: "0f", count: 32)

    func grant(_ purpose: ConsentPurpose, days: Int = 365, now: Timestamp) -> ConsentRules.Grant {
        ConsentRules.Grant(purpose: purpose, noticeVersion: "2026-11", noticeSHA256: Self.hash, channel: .app,
                           method: .explicitOptIn, evidence: nil, expiresAt: now.adding(days: days))
    }

    func entries(_ store: Store) async throws -> [AuditEntry] {
        try store.database.read { db in
            try StoreRow.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY seq").map(AuditEntry.init(row:))
        }
    }

    @Test func withdrawingCreditLineFreezesAnActiveLineInTheSameTransaction() async throws {
        let time = ManualTime()
        let (store, _) = try temporaryStore(time: time)
        let (account, _) = try await store.perform(CreateAccount(customerRef: "w-1"), by: testActor)
        let consent = try await store.perform(GrantConsent(accountID: account.id, grant: grant(.creditLine, now: time.now())),
                                              by: testActor)
        try store.database.write { db in
            try db.execute(sql: "UPDATE accounts SET status = 'active', credit_limit = 500000 WHERE id = ?",
                           arguments: [account.id])
        }
        let before = try await store.auditLength()
        let outcome = try await store.perform(WithdrawConsent(consentID: consent.id, channel: .web, reason: nil), by: testActor)
        #expect(outcome.effects == [.accountFrozen])
        #expect(outcome.account.status == .frozen)
        #expect(outcome.account.creditLimit == 500000)  // the existing line stays valid
        #expect(outcome.consent.status(at: time.now()) == .withdrawn)
        let added = try await entries(store).suffix(from: before)
        #expect(added.map(\.action) == ["consent.withdrawn", "account.frozen"])
        #expect(added.allSatisfy { $0.requestID == "req-test" })
        #expect(try await store.account(id: account.id)?.status == .frozen)
    }

    @Test func withdrawingCreditLineCancelsAPendingReview() async throws {
        let time = ManualTime()
        let (store, _) = try temporaryStore(time: time)
        let (account, _) = try await store.perform(CreateAccount(customerRef: "w-7"), by: testActor)
        let consent = try await store.perform(GrantConsent(accountID: account.id, grant: grant(.creditLine, now: time.now())),
                                              by: testActor)
        try store.database.write { db in
            try db.execute(sql: "UPDATE accounts SET status = 'pending_review' WHERE id = ?", arguments: [account.id])
            try db.execute(sql: """
                INSERT INTO decisions (id, account_id, score, tier, outcome, recommended_limit, reasons, explanation, model_version,
                                       inputs, inputs_sha256, scored_at, expires_at)
                VALUES ('dec_p', ?, 610, 'D', 'review', 200000, '[]', '[]', 'v1', NULL, 'h',
                                              '2026-11-25T10:00:00.000Z', '2026-12-25T10:00:00.000Z')
                """, arguments: [account.id])
            try db.execute(sql: """
                INSERT INTO reviews (id, kind, status, account_id, decision_id, created_at)
                VALUES ('rev_p', 'activation', 'open', ?, 'dec_p', '2026-11-25T10:00:00.000Z')
                """, arguments: [account.id])
        }
        let outcome = try await store.perform(WithdrawConsent(consentID: consent.id, channel: .app, reason: nil), by: testActor)
        #expect(outcome.effects == [.reviewCancelled, .activationBlocked])
        #expect(outcome.account.status == .prospect)
        let status = try store.database.read { db in
            try String.fetchOne(db, sql: "SELECT status FROM reviews WHERE id = 'rev_p'")
        }
        #expect(status == "cancelled")
    }

    @Test func secondWithdrawalChangesNothing() async throws {
        let time = ManualTime()
        let (store, _) = try temporaryStore(time: time)
        let (account, _) = try await store.perform(CreateAccount(customerRef: "w-2"), by: testActor)
        let consent = try await store.perform(GrantConsent(accountID: account.id, grant: grant(.creditLine, now: time.now())),
                                              by: testActor)
        let first = try await store.perform(WithdrawConsent(consentID: consent.id, channel: .app, reason: nil), by: testActor)
        let length = try await store.auditLength()
        time.advance(days: 1)
        let second = try await store.perform(WithdrawConsent(consentID: consent.id, channel: .phone, reason: nil), by: testActor)
        #expect(second.effects.isEmpty)
        #expect(second.consent == first.consent)
        #expect(try await store.auditLength() == length)
    }

    @Test func withdrawingAssessmentErasesStoredInputsButKeepsTheDecision() async throws {
        let time = ManualTime()
        let (store, _) = try temporaryStore(time: time)
        let (account, _) = try await store.perform(CreateAccount(customerRef: "w-3"), by: testActor)
        let consent = try await store.perform(
            GrantConsent(accountID: account.id, grant: grant(.creditAssessment, now: time.now())), by: testActor)
        try store.database.write { db in
            for id in ["dec_1", "dec_2"] {
                try db.execute(sql: """
                    INSERT INTO decisions (id, account_id, score, tier, outcome, recommended_limit, reasons, explanation, model_version,
                                           inputs, inputs_sha256, scored_at, expires_at)
                    VALUES (?, ?, 700, 'B', 'approve', 1000000, '[]', '[]', 'v1', '{"orders_12m":3}',
                                                  'abc', '2026-11-25T10:00:00.000Z', '2026-12-25T10:00:00.000Z')
                    """, arguments: [id, account.id])
            }
        }
        let outcome = try await store.perform(WithdrawConsent(consentID: consent.id, channel: .app, reason: "no longer"),
                                              by: testActor)
        #expect(outcome.effects == [.scoringStopped, .scoringInputsErased(decisions: 2)])
        let rows = try store.database.read { db in
            try StoreRow.fetchAll(db, sql: "SELECT inputs, inputs_sha256, score FROM decisions ORDER BY id")
        }
        #expect(rows.count == 2)
        for row in rows {
            let (inputs, hash, score): (String?, String, Int) = (try row["inputs"], try row["inputs_sha256"], try row["score"])
            #expect(inputs == nil && hash == "abc" && score == 700)
        }
    }

    @Test func onlyOneConsentPerPurposeIsInForce() async throws {
        let time = ManualTime()
        let (store, _) = try temporaryStore(time: time)
        let (account, _) = try await store.perform(CreateAccount(customerRef: "w-4"), by: testActor)
        _ = try await store.perform(GrantConsent(accountID: account.id, grant: grant(.creditLine, now: time.now())), by: testActor)
        await #expect(throws: DomainError.self) {
            try await store.perform(GrantConsent(accountID: account.id, grant: grant(.creditLine, now: time.now())), by: testActor)
        }
        // A different purpose is a different consent.
        _ = try await store.perform(GrantConsent(accountID: account.id, grant: grant(.creditAssessment, now: time.now())),
                                    by: testActor)
    }

    @Test func expiryIsRecordedOnceAndFreesThePurpose() async throws {
        let time = ManualTime()
        let (store, _) = try temporaryStore(time: time)
        let (account, _) = try await store.perform(CreateAccount(customerRef: "w-5"), by: testActor)
        let consent = try await store.perform(
            GrantConsent(accountID: account.id, grant: grant(.creditLine, days: 30, now: time.now())), by: testActor)
        #expect(try await store.perform(ExpireConsents(), by: .system("test")) == 0)
        time.advance(days: 30)
        // Reads see it expired before anything is recorded.
        #expect(try await store.consent(id: consent.id)?.status(at: time.now()) == .expired)
        #expect(try await store.perform(ExpireConsents(), by: .system("test")) == 1)
        #expect(try await store.perform(ExpireConsents(), by: .system("test")) == 0)
        #expect(try await entries(store).last?.action == "consent.expired")
        // A new consent may now be granted.
        _ = try await store.perform(GrantConsent(accountID: account.id, grant: grant(.creditLine, now: time.now())), by: testActor)
    }

    @Test(arguments: [
        "UPDATE consents SET status = 'active' WHERE status = 'withdrawn'",
        "UPDATE consents SET method = 'pre_ticked'",
        "UPDATE consents SET notice_sha256 = '\(String(repeating: "1", count: 64))'",
        "INSERT INTO consents VALUES ('con_x', (SELECT id FROM accounts), 'credit_line', 'v', '\(String(repeating: "1", count: 64))', 'app', 'pre_ticked', NULL, 'active', 'x', 'y', NULL, NULL, NULL)",
    ])
    func storageRefusesRewritingOrNonExplicitConsent(sql: String) async throws {
        let time = ManualTime()
        let (store, _) = try temporaryStore(time: time)
        let (account, _) = try await store.perform(CreateAccount(customerRef: "w-6"), by: testActor)
        let consent = try await store.perform(GrantConsent(accountID: account.id, grant: grant(.creditLine, now: time.now())),
                                              by: testActor)
        _ = try await store.perform(WithdrawConsent(consentID: consent.id, channel: .app, reason: nil), by: testActor)
        #expect {
            try store.database.write { db in try db.execute(sql: sql) }
        } throws: { error in
            refusedByTheDatabase(error)
        }
    }
}
