import CreditLine
import Foundation
import GRDB

/// A returned purchase refunded onto its draw (README "Refunds and the credit balance"), applied
/// by `RefundRules.apply` to the draw's instalments as they are inside the write transaction.
/// What the refund cannot reduce goes to the account's credit balance, which then pays whatever
/// the account owes, in the same transaction.
public struct MakeRefund: BusinessWrite {
    public var accountID: String
    public var drawID: String
    public var amount: Int
    public var merchantRef: String

    public init(accountID: String, drawID: String, amount: Int, merchantRef: String) {
        (self.accountID, self.drawID, self.amount, self.merchantRef) = (accountID, drawID, amount, merchantRef)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> ((RefundRecord, Account), [AuditRecord]) {
        let found = try Store.fetchAccount(db, id: accountID)
        let drawAmount = try Int.fetchOne(db, cached: "SELECT amount FROM draws WHERE id = ? AND account_id = ?",
                                          arguments: [drawID, accountID])
        let used = try Int.fetchOne(db, cached: "SELECT 1 FROM refunds WHERE draw_id = ? AND merchant_ref = ?",
                                    arguments: [drawID, merchantRef]) != nil
        try RefundRules.check(accountStatus: found?.status, drawAmount: drawAmount, amount: amount, merchantRefUsed: used)
        var account = try Existence.require(found, "account")
        let refundedBefore = try Int.fetchOne(db, cached: "SELECT coalesce(sum(amount), 0) FROM refunds WHERE draw_id = ?",
                                              arguments: [drawID]) ?? 0
        var instalments = try StoreRow.fetchAll(
            db, cached: "SELECT \(Store.instalmentColumns.list) FROM instalments WHERE draw_id = ? ORDER BY number",
            arguments: [drawID]).map(Store.instalmentState(from:))
        let outcome = RefundRules.apply(amount: amount, drawAmount: drawAmount ?? 0, refundedBefore: refundedBefore,
                                        to: &instalments)
        let refundID = Identifier.make("rfd")
        try db.execute(
            cached: """
                INSERT INTO refunds (id, account_id, draw_id, amount, merchant_ref, principal_to_credit, received_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [refundID, accountID, drawID, amount, merchantRef, outcome.principalToCredit, now.rfc3339])
        for part in outcome.allocations {
            try db.execute(
                cached: """
                    INSERT INTO refund_allocations (refund_id, instalment_id, principal, fee_cancelled, fee_credited)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [refundID, part.instalmentID, part.principal, part.feeCancelled, part.feeCredited])
        }
        let touched = Set(outcome.allocations.map(\.instalmentID))
        for instalment in instalments where touched.contains(instalment.id) {
            try db.execute(cached: "UPDATE instalments SET principal = ?, fee = ?, fee_paid = ? WHERE id = ?",
                           arguments: [instalment.principal, instalment.fee, instalment.feePaid, instalment.id])
        }
        account.creditBalance += outcome.toCreditBalance
        var open = try Store.openInstalments(db, accountID: accountID)
        let applied = try Store.applyCreditBalance(db, &account, to: &open, now: now).reduce(0) { $0 + $1.fee + $1.principal }
        let (saved, changed) = try Store.settle(db, account, position: LedgerPosition(open), today: CivilDate(now), now: now)
        let refund = RefundRecord(id: refundID, accountID: accountID, drawID: drawID, amount: amount, merchantRef: merchantRef,
                                  outcome: outcome, creditApplied: applied, receivedAt: now)
        // merchant_ref stays out of the audit log, as a draw's does.
        let entry = AuditRecord(.drawRefunded(DrawRefunded(
            refundID: refundID, amount: amount, principalReduced: outcome.principalReduced,
            feesCancelled: outcome.feesCancelled, feesCredited: outcome.feesCredited, creditApplied: applied,
            balance: saved.balance, feesOutstanding: saved.feesOutstanding, creditBalance: saved.creditBalance)),
            accountID: accountID, subjectID: drawID)
        return ((refund, saved), [entry] + changed)
    }
}

extension Store {
    /// The account's credit balance paying what it owes (`CreditBalance.apply`), recorded as a
    /// repayment from the credit balance so that every fen paid has its allocation.
    /// - Returns: what the credit balance paid of each instalment.
    static func applyCreditBalance(_ db: SQLConnection, _ account: inout Account, to open: inout [InstalmentState],
                                   now: Timestamp) throws -> [RepaymentAllocation.Applied]
    {
        let applied = CreditBalance.apply(account.creditBalance, to: open.map(\.owed))
        let paid = applied.reduce(0) { $0 + $1.fee + $1.principal }
        guard paid > 0 else { return [] }
        try recordRepayment(db, id: Identifier.make("rep"), accountID: account.id, amount: paid, source: .creditBalance,
                            applied: applied, now: now)
        LedgerPosition.apply(applied, to: &open)
        try update(db, open, only: Set(applied.map(\.instalmentID)))
        account.creditBalance -= paid
        return applied
    }

    /// A new draw paid from the credit balance at once: the line's position after it, and the
    /// entry saying what the balance paid. `draw` shows its instalments as paid.
    static func payFromCreditBalance(_ db: SQLConnection, _ line: inout Account, draw: inout DrawRecord,
                                     now: Timestamp) throws -> (LedgerPosition, [AuditRecord])
    {
        var open = try openInstalments(db, accountID: line.id)
        let applied = try applyCreditBalance(db, &line, to: &open, now: now)
        let position = LedgerPosition(open)
        for index in draw.instalments.indices {
            if let paid = open.first(where: { $0.id == draw.instalments[index].state.id }) { draw.instalments[index].state = paid }
        }
        return (position, [AuditRecord(.fact(.creditBalanceApplied(
            amount: applied.reduce(0) { $0 + $1.fee + $1.principal }, instalments: applied.count,
            balance: position.balance, feesOutstanding: position.feesOutstanding, creditBalance: line.creditBalance)),
            accountID: line.id, subjectID: draw.id)])
    }

    /// A repayment's row and its allocations.
    static func recordRepayment(_ db: SQLConnection, id: String, accountID: String, amount: Int, source: RepaymentSource,
                                applied: [RepaymentAllocation.Applied], now: Timestamp) throws
    {
        try db.execute(cached: "INSERT INTO repayments (id, account_id, amount, received_at, source) VALUES (?, ?, ?, ?, ?)",
                       arguments: [id, accountID, amount, now.rfc3339, source.rawValue])
        for part in applied {
            try db.execute(
                cached: "INSERT INTO repayment_allocations (repayment_id, instalment_id, fee, principal) VALUES (?, ?, ?, ?)",
                arguments: [id, part.instalmentID, part.fee, part.principal])
        }
    }

    /// Refunds received in a statement's period, oldest first.
    static func refunds(_ db: SQLConnection, accountID: String, from start: String, to end: String) throws -> [RefundRecord] {
        var refunds: [RefundRecord] = []
        for row in try StoreRow.fetchAll(
            db, cached: """
                SELECT r.id, r.draw_id, r.amount, r.merchant_ref, r.principal_to_credit, r.received_at,
                       a.instalment_id, a.principal, a.fee_cancelled, a.fee_credited
                FROM refunds r LEFT JOIN refund_allocations a ON a.refund_id = r.id
                LEFT JOIN instalments i ON i.id = a.instalment_id
                WHERE r.account_id = ? AND r.received_at >= ? AND r.received_at < ?
                ORDER BY r.received_at, r.id, i.number
                """, arguments: [accountID, start, end])
        {
            var read = ColumnReader(row, table: "refunds")
            let id: String = try read("id")
            if refunds.last?.id != id {
                refunds.append(RefundRecord(
                    id: id, accountID: accountID, drawID: try read("draw_id"), amount: try read("amount"),
                    merchantRef: try read("merchant_ref"),
                    outcome: RefundOutcome(allocations: [], principalToCredit: try read("principal_to_credit")),
                    creditApplied: 0, receivedAt: try read.timestamp("received_at")))
            }
            var part = ColumnReader(row, table: "refund_allocations", from: 6, id: id)
            if let instalment: String = try part("instalment_id") {
                refunds[refunds.count - 1].outcome.allocations.append(RefundAllocation(
                    instalmentID: instalment, principal: try part("principal"), feeCancelled: try part("fee_cancelled"),
                    feeCredited: try part("fee_credited")))
            }
        }
        return refunds
    }
}
