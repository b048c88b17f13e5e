import CreditLine
import Foundation
import GRDB
import Testing
@testable import CreditStore

/// Random sequences of draws, repayments, refunds, limit cuts and days passing, run through the store's
/// writes on a real SQLite file; after every step the money adds up (README "The line in use").
@Suite struct LedgerPropertyTests {
    static let terms = #"{"interest_free_days":30,"instalment_plans":[{"months":3,"monthly_fee_bps":50},{"months":6,"monthly_fee_bps":55}]}"#

    /// An active line with a credit_line consent for ten years, opened directly in the rows: the
    /// activation rules have their own tests, and this one is about the ledger.
    func openLine(_ store: Store, _ time: ManualTime, limit: Int) async throws -> String {
        let (account, _) = try await store.perform(CreateAccount(customerRef: "prop"), by: testActor)
        let grant = ConsentRules.Grant(
            purpose: .creditLine, noticeVersion: "2026-11", noticeSHA256: String(repeating: "0f", count: 32), channel: .app,
            method: .explicitOptIn, evidence: nil, expiresAt: time.now().adding(days: 3650))
        _ = try await store.perform(GrantConsent(accountID: account.id, grant: grant), by: testActor)
        try await store.database.write { db in
            try db.execute(sql: """
                UPDATE accounts SET status = 'active', credit_limit = ?, terms = ?, terms_version = '2026-11', tier = 'B',
                    activated_at = ?
                WHERE id = ?
                """, arguments: [limit, Self.terms, time.now().rfc3339, account.id])
        }
        return account.id
    }

    /// Every invariant, read from the rows.
    func checkInvariants(_ store: Store, _ id: String, context: String) async throws {
        let facts = try await store.database.read { db -> [String: Int] in
            func int(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql, arguments: [id]) ?? 0 }
            return [
                "balance": try int("SELECT balance FROM accounts WHERE id = ?"),
                "fees": try int("SELECT fees_outstanding FROM accounts WHERE id = ?"),
                "limit": try int("SELECT credit_limit FROM accounts WHERE id = ?"),
                "drawn": try int("SELECT coalesce(sum(amount), 0) FROM draws WHERE account_id = ?"),
                "repaid": try int("SELECT coalesce(sum(amount), 0) FROM repayments WHERE account_id = ?"),
                "paidIn": try int("SELECT coalesce(sum(amount), 0) FROM repayments WHERE account_id = ? AND source = 'payment'"),
                "refunded": try int("SELECT coalesce(sum(amount), 0) FROM refunds WHERE account_id = ?"),
                "credit": try int("SELECT credit_balance FROM accounts WHERE id = ?"),
                "charged": try int("SELECT coalesce(sum(fee - fee_waived), 0) FROM instalments WHERE account_id = ?"),
                "refundedPrincipal": try int("""
                    SELECT coalesce(sum(a.principal), 0) FROM refund_allocations a
                    JOIN refunds r ON r.id = a.refund_id WHERE r.account_id = ?
                    """),
                "allocatedPrincipal": try int("""
                    SELECT coalesce(sum(a.principal), 0) FROM repayment_allocations a
                    JOIN repayments r ON r.id = a.repayment_id WHERE r.account_id = ?
                    """),
                "allocated": try int("""
                    SELECT coalesce(sum(a.principal + a.fee), 0) FROM repayment_allocations a
                    JOIN repayments r ON r.id = a.repayment_id WHERE r.account_id = ?
                    """),
                "owedPrincipal": try int("SELECT coalesce(sum(principal - principal_paid), 0) FROM instalments WHERE account_id = ?"),
                "owedFees": try int("SELECT coalesce(sum(fee - fee_paid - fee_waived), 0) FROM instalments WHERE account_id = ?"),
                // Instalments whose paid amounts are not exactly what the allocations gave them.
                "misallocated": try int("""
                    SELECT count(*) FROM instalments i WHERE i.account_id = ? AND (
                        i.principal_paid <> (SELECT coalesce(sum(principal), 0) FROM repayment_allocations WHERE instalment_id = i.id)
                        OR i.fee_paid <> (SELECT coalesce(sum(fee), 0) FROM repayment_allocations WHERE instalment_id = i.id)
                                         - (SELECT coalesce(sum(fee_credited), 0) FROM refund_allocations WHERE instalment_id = i.id))
                    """),
                // Draws whose schedule and refunds do not add up to the amount drawn.
                "unsplit": try int("""
                    SELECT count(*) FROM draws d WHERE d.account_id = ?
                      AND d.amount <> (SELECT sum(principal) FROM instalments WHERE draw_id = d.id)
                                      + (SELECT coalesce(sum(a.principal), 0) FROM refund_allocations a
                                         JOIN instalments i ON i.id = a.instalment_id WHERE i.draw_id = d.id)
                    """),
                "oldestDueMatches": try int("""
                    SELECT (SELECT oldest_unpaid_due FROM accounts WHERE id = ?1) IS NOT DISTINCT FROM
                           (SELECT min(due_on) FROM instalments
                            WHERE account_id = ?1 AND (principal_paid < principal OR fee_paid + fee_waived < fee))
                    """),
            ]
        }
        #expect(facts["balance"] == facts["drawn"]! - facts["allocatedPrincipal"]! - facts["refundedPrincipal"]!,
                "\(context): \(facts)")
        // Nothing made or lost (README "Refunds and the credit balance"): drawn and charged, less
        // paid in and refunded, is what is owed less what the customer is owed back.
        #expect(facts["drawn"]! + facts["charged"]! - facts["paidIn"]! - facts["refunded"]!
                    == facts["balance"]! + facts["fees"]! - facts["credit"]!, "\(context): \(facts)")
        #expect(facts["credit"] == 0 || facts["balance"]! + facts["fees"]! == 0, "\(context): \(facts)")
        #expect(facts["balance"] == facts["owedPrincipal"], "\(context): \(facts)")
        #expect(facts["fees"] == facts["owedFees"], "\(context): \(facts)")
        #expect(facts["repaid"] == facts["allocated"], "\(context): nothing lost or created \(facts)")
        #expect(facts["misallocated"] == 0, "\(context): \(facts)")
        #expect(facts["unsplit"] == 0, "\(context): \(facts)")
        #expect(facts["oldestDueMatches"] == 1, "\(context): \(facts)")
        let account = try #require(try await store.account(id: id))
        #expect(account.availableCredit >= 0)
        #expect(account.availableCredit == max(0, facts["limit"]! - facts["balance"]!))
    }

    func code(_ error: any Error) -> String? { (error as? DomainError)?.code.rawValue }

    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func randomHistoriesAddUp(seed: UInt64) async throws {
        let time = ManualTime()
        let (store, _) = try temporaryStore(time: time)
        var random = SeededRandom(seed: seed)
        let id = try await openLine(store, time, limit: 200_000)
        var outcomes: [String: Int] = [:]
        for step in 0..<120 {
            let before = try #require(try await store.account(id: id))
            let today = CivilDate(time.now())
            let context = "seed \(seed) step \(step)"
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<4:
                let amount = Int.random(in: 1...max(1, before.availableCredit + 2_000), using: &random)
                let plan = [nil, 3, 6, 5].randomElement(using: &random)!
                do {
                    _ = try await store.perform(MakeDraw(accountID: id, amount: amount, planMonths: plan, merchantRef: nil,
                                                         customerSelected: true), by: testActor, at: time.now())
                    #expect(amount <= before.availableCredit, "\(context)")
                    #expect(before.delinquency(on: today) < .dpd31To60, "\(context)")
                    outcomes["drawn", default: 0] += 1
                } catch {
                    let expected = before.delinquency(on: today) >= .dpd31To60 ? "line-delinquent"
                        : plan == 5 ? "invalid-plan" : "insufficient-credit"
                    #expect(code(error) == expected, "\(context): \(error)")
                    outcomes[code(error) ?? "?", default: 0] += 1
                }
            case 4..<7:
                let owed = before.balance + before.feesOutstanding
                let amount = Int.random(in: 1...(owed + 300), using: &random)
                do {
                    let (repayment, after) = try await store.perform(MakeRepayment(accountID: id, amount: amount),
                                                                     by: testActor, at: time.now())
                    #expect(amount <= owed, "\(context)")
                    #expect(repayment.applied.reduce(0) { $0 + $1.fee + $1.principal } == amount)
                    #expect(after.balance + after.feesOutstanding == owed - amount, "\(context)")
                    outcomes["repaid", default: 0] += 1
                } catch {
                    #expect(code(error) == "overpayment" && amount > owed, "\(context): \(error)")
                    outcomes["overpayment", default: 0] += 1
                }
            case 7 where Bool.random(using: &random):
                // A returned purchase, sometimes under a reference already used.
                let draws = try await store.database.read { db in
                    try StoreRow.fetchAll(db, sql: "SELECT id, amount FROM draws WHERE account_id = ?", arguments: [id])
                        .map { row -> (String, Int) in (try row["id"], try row["amount"]) }
                }
                guard let (drawID, drawAmount) = draws.randomElement(using: &random) else { continue }
                let amount = Int.random(in: 1...drawAmount, using: &random)
                let ref = "ret-\(Int.random(in: 0..<8, using: &random))"
                do {
                    let (refund, after) = try await store.perform(
                        MakeRefund(accountID: id, drawID: drawID, amount: amount, merchantRef: ref), by: testActor, at: time.now())
                    #expect(refund.outcome.principalReduced + refund.outcome.principalToCredit == amount, "\(context)")
                    #expect(after.availableCredit <= after.creditLimit, "\(context)")
                    outcomes["refunded", default: 0] += 1
                } catch {
                    #expect(code(error) == "duplicate-refund", "\(context): \(error)")
                    outcomes["duplicate-refund", default: 0] += 1
                }
            case 7:
                // A limit cut, sometimes below the balance: nothing is recalled.
                guard before.creditLimit > 1 else { continue }
                let newLimit = Int.random(in: 0..<before.creditLimit, using: &random)
                _ = try await store.perform(
                    AdjustLimit(accountID: id, request: .init(newLimit: newLimit, initiatedBy: .operator, customerAccepted: false),
                                reasonCode: "risk_deterioration", policy: LimitPolicy(), actorKeyID: "key-test"),
                    by: testActor, at: time.now())
                outcomes["cut", default: 0] += 1
            default:
                time.advance(days: Int.random(in: 1...40, using: &random))
                try await store.recordDelinquency(at: time.now())
                let swept = try #require(try await store.account(id: id))
                #expect(swept.recordedDelinquency == swept.delinquency(on: CivilDate(time.now())), "\(context)")
            }
            try await checkInvariants(store, id, context: "seed \(seed) step \(step)")
        }
        // The sequences reached every branch they claim to test.
        #expect(outcomes["drawn", default: 0] > 0 && outcomes["repaid", default: 0] > 0, "\(outcomes)")
        #expect(outcomes["refunded", default: 0] > 0, "\(outcomes)")
        #expect(try store.verifyAudit() == .intact(checked: try await store.auditLength(), heads: try await store.auditHeads()))
        try store.close()
    }

    /// A cancelled line's fees are waived and stay waived: the sums still hold, and a repayment of
    /// the principal alone settles everything.
    @Test func cancellationWaivesFeesAndTheSumsHold() async throws {
        let time = ManualTime()
        let (store, _) = try temporaryStore(time: time)
        let id = try await openLine(store, time, limit: 100_000)
        _ = try await store.perform(MakeDraw(accountID: id, amount: 30_001, planMonths: 6, merchantRef: "m-1",
                                             customerSelected: true), by: testActor)
        _ = try await store.perform(MakeRepayment(accountID: id, amount: 500), by: testActor)
        let cancelled = try await store.perform(CancelLine(accountID: id, channel: .app, confirmation: CustomerConfirmation(channel: .app, noticeSHA256: String(repeating: "a", count: 64)), coolingOffDays: 14), by: testActor)
        #expect(cancelled.status == .closed)
        #expect(cancelled.feesOutstanding == 0)
        // 500 paid the first instalment's fee (165) and 335 of its principal.
        #expect(cancelled.balance == 30_001 - 335)
        try await checkInvariants(store, id, context: "cancelled")
        let (_, settled) = try await store.perform(MakeRepayment(accountID: id, amount: 30_001 - 335), by: testActor)
        #expect(settled.balance == 0 && settled.feesOutstanding == 0 && settled.oldestUnpaidDue == nil)
        try await checkInvariants(store, id, context: "settled")
        try store.close()
    }
}
