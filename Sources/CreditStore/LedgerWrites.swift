import CreditLine
import Foundation
import GRDB

/// One instalment of a draw, with what has been paid or waived of it.
public struct LedgerInstalment: Sendable, Equatable {
    public var drawID: String
    public var number: Int
    public var state: InstalmentState
}

/// A draw as recorded, with its schedule.
public struct DrawRecord: Sendable, Equatable {
    public var id: String
    public var accountID: String
    public var amount: Int
    public var plan: Terms.Plan?
    public var merchantRef: String?
    public var drawnAt: Timestamp
    public var instalments: [LedgerInstalment]

    /// Every fee of the schedule, paid or not.
    public var totalFees: Int { instalments.reduce(0) { $0 + $1.state.fee } }
}

/// A repayment as recorded, with how it was applied.
public struct RepaymentRecord: Sendable, Equatable {
    public var id: String
    public var accountID: String
    public var amount: Int
    public var receivedAt: Timestamp
    public var applied: [RepaymentAllocation.Applied]
    /// The customer's money, or their credit balance paying (README "Refunds and the credit balance").
    public var source: RepaymentSource = .payment
}

/// A draw the customer chose to pay with, checked by `DrawRules.check` against the rows inside
/// the write transaction: of concurrent draws, exactly the ones that fit the available credit
/// succeed, since each sees the balance the one before it committed.
public struct MakeDraw: BusinessWrite {
    public var accountID: String
    /// Its rule reads and changes this account's rows alone (`BusinessWrite.chainAccountID`).
    public var chainAccountID: String? { accountID }
    public var amount: Int
    public var planMonths: Int?
    public var merchantRef: String?
    public var customerSelected: Bool
    /// The cost cap (README "The cost cap").
    public var aprCapBps: Int

    public init(accountID: String, amount: Int, planMonths: Int?, merchantRef: String?, aprCapBps: Int = CostCap.defaultBps,
                customerSelected: Bool)
    {
        self.aprCapBps = aprCapBps
        self.accountID = accountID
        self.amount = amount
        self.planMonths = planMonths
        self.merchantRef = merchantRef
        self.customerSelected = customerSelected
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> ((DrawRecord, Account), [AuditRecord]) {
        // Not selected is refused before the account is looked at: a pre-selected payment
        // method learns nothing about the line.
        try DrawRules.requireSelected(customerSelected)
        let account = try Existence.require(try Store.fetchAccount(db, id: accountID), "account")
        let today = CivilDate(now)
        let plan = try DrawRules.check(DrawRules.Facts(
            customerSelected: customerSelected, status: account.status,
            creditLineConsentActive: try Store.hasActiveConsent(db, accountID: accountID, purpose: .creditLine, now: now),
            delinquency: account.delinquency(on: today), amount: amount, planMonths: planMonths,
            plans: account.terms?.instalmentPlans ?? [], availableCredit: account.availableCredit, aprCapBps: aprCapBps))
        // A line the rules let draw has the terms its activation gave it; one without them is a
        // row that does not read, never a line with no interest-free days.
        guard let terms = account.terms else {
            throw StoreError.unreadableRow(table: "accounts", column: "terms", id: accountID)
        }
        let schedule = Schedule.make(amount: amount, drawnOn: today, plan: plan, interestFreeDays: terms.interestFreeDays)
        let drawID = Identifier.make("drw")
        var draw = DrawRecord(
            id: drawID, accountID: accountID, amount: amount, plan: plan, merchantRef: merchantRef, drawnAt: now,
            instalments: schedule.map {
                LedgerInstalment(drawID: drawID, number: $0.number, state: InstalmentState(
                    id: Identifier.make("ins"), due: $0.due, principal: $0.principal, fee: $0.fee))
            })
        try db.execute(
            cached: """
                INSERT INTO draws (id, account_id, amount, plan_months, monthly_fee_bps, merchant_ref, drawn_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [draw.id, accountID, amount, plan?.months, plan?.monthlyFeeBps ?? 0, merchantRef, now.rfc3339])
        for instalment in draw.instalments {
            let state = instalment.state
            try db.execute(
                cached: """
                    INSERT INTO instalments (id, draw_id, account_id, number, due_on, principal, fee)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [state.id, draw.id, accountID, instalment.number, state.due.description, state.principal,
                            state.fee])
        }
        // merchant_ref stays out of the audit log: it can say what was bought. The draw's entry
        // says what it drew; a credit balance then pays what it brought due, at once, in an
        // entry of its own (README "Refunds and the credit balance").
        let drawn = account.position.adding(schedule)
        let entry = AuditRecord(.fact(.drawCreated(
            amount: amount, planMonths: plan?.months, fees: draw.totalFees, instalments: schedule.count,
            balance: drawn.balance, availableCredit: DrawRules.availableCredit(limit: account.creditLimit, balance: drawn.balance))),
            accountID: accountID, subjectID: draw.id)
        var line = account
        var position = drawn
        var credit: [AuditRecord] = []
        if line.creditBalance > 0 {
            (position, credit) = try Store.payFromCreditBalance(db, &line, draw: &draw, now: now)
        }
        let (saved, changed) = try Store.settle(db, line, position: position, today: today, now: now)
        return ((draw, saved), [entry] + credit + changed)
    }
}

/// A repayment, applied by `RepaymentAllocation.allocate` to what is owed as the rows are
/// inside the write transaction.
public struct MakeRepayment: BusinessWrite {
    public var accountID: String
    /// Its rule reads and changes this account's rows alone (`BusinessWrite.chainAccountID`).
    public var chainAccountID: String? { accountID }
    public var amount: Int

    public init(accountID: String, amount: Int) {
        (self.accountID, self.amount) = (accountID, amount)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> ((RepaymentRecord, Account), [AuditRecord]) {
        let found = try Store.fetchAccount(db, id: accountID)
        try RepaymentRules.check(found?.status)
        let account = try Existence.require(found, "account")
        var open = try Store.openInstalments(db, accountID: accountID)
        let applied = try RepaymentAllocation.allocate(amount, to: open.map(\.owed))
        LedgerPosition.apply(applied, to: &open)
        let repayment = RepaymentRecord(id: Identifier.make("rep"), accountID: accountID, amount: amount,
                                        receivedAt: now, applied: applied)
        try Store.recordRepayment(db, id: repayment.id, accountID: accountID, amount: amount, source: .payment,
                                  applied: applied, now: now)
        try Store.update(db, open, only: Set(applied.map(\.instalmentID)))
        let (saved, changed) = try Store.settle(db, account, position: LedgerPosition(open), today: CivilDate(now),
                                                now: now)
        let entry = AuditRecord(.fact(.repaymentReceived(
            amount: amount, principal: applied.reduce(0) { $0 + $1.principal }, fees: applied.reduce(0) { $0 + $1.fee },
            instalments: applied.count, balance: saved.balance, feesOutstanding: saved.feesOutstanding)),
            accountID: accountID, subjectID: repayment.id)
        return ((repayment, saved), [entry] + changed)
    }
}

/// The customer's withdrawal within the cooling-off period: the line closes at once, every fee
/// not yet paid is waived, and the principal stays due on its schedule.
public struct CancelLine: BusinessWrite {
    public var accountID: String
    public var channel: ConsentChannel
    /// A cancellation is always the customer's act: it needs their confirmation.
    public var confirmation: CustomerConfirmation?
    public var coolingOffDays: Int

    public init(accountID: String, channel: ConsentChannel, confirmation: CustomerConfirmation?, coolingOffDays: Int) {
        (self.accountID, self.channel, self.confirmation, self.coolingOffDays) = (accountID, channel, confirmation, coolingOffDays)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (Account, [AuditRecord]) {
        try CustomerConfirmation.require(confirmation, customerInitiated: true)
        let found = try Store.fetchAccount(db, id: accountID)
        let to = try CoolingOff.cancel(status: found?.status, activatedAt: found?.activatedAt, now: now,
                                       days: coolingOffDays)
        var account = try Existence.require(found, "account")
        let from = account.status
        var open = try Store.openInstalments(db, accountID: accountID)
        let waived = CoolingOff.waiveFees(&open)
        account.status = to
        try Store.update(db, open, only: Set(open.map(\.id)))
        let (saved, changed) = try Store.settle(db, account, position: LedgerPosition(open), today: CivilDate(now),
                                                now: now)
        let evidence = try Store.recordConfirmation(db, accountID: accountID, subjectID: accountID, confirmation, now: now)
        return (saved, [AuditRecord(.fact(.accountCancelled(
            from: from, to: to, channel: channel, feesWaived: waived, balance: saved.balance, confirmation: evidence)),
            accountID: accountID, subjectID: accountID)] + changed)
    }
}

/// A charge-off, decided by `ChargeOff.decide`: the first operator's approval is recorded, and
/// a different person approving the same reason writes the line off.
public struct ChargeOffLine: BusinessWrite {
    public enum Result: Sendable, Equatable {
        case awaitingSecondApproval(Account, ChargeOff.ReasonCode)
        case chargedOff(Account)
    }

    public var accountID: String
    public var reasonCode: ChargeOff.ReasonCode
    /// The person approving (four eyes are two people, not two keys).
    public var approver: String

    public init(accountID: String, reasonCode: ChargeOff.ReasonCode, approver: String) {
        (self.accountID, self.reasonCode, self.approver) = (accountID, reasonCode, approver)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (Result, [AuditRecord]) {
        let found = try Store.fetchAccount(db, id: accountID)
        let today = CivilDate(now)
        let pending = try StoreRow.fetchOne(
            db, cached: """
                SELECT account_id, first_approver, reason_code, approved_at, episode_due_on FROM charge_off_approvals
                WHERE account_id = ?
                """,
            arguments: [accountID]
        ).map { row in
            var read = ColumnReader(row, table: "charge_off_approvals")
            _ = try read("account_id") as String
            return ChargeOff.FirstApproval(
                approver: try read("first_approver"), reasonCode: try read.value("reason_code"),
                approvedAt: try read.timestamp("approved_at"), episode: try read.optionalDate("episode_due_on"))
        }
        let episode = found?.oldestUnpaidDue
        let verdict = try ChargeOff.decide(status: found?.status, delinquency: found?.delinquency(on: today) ?? .current,
                                           episode: episode, reasonCode: reasonCode, approver: approver, pending: pending,
                                           now: now)
        var account = try Existence.require(found, "account")
        let days = account.daysPastDue(on: today)
        switch verdict {
        case .firstApproval:
            // A lapsed approval, if any, gives way to this one.
            try db.execute(cached: "DELETE FROM charge_off_approvals WHERE account_id = ?", arguments: [accountID])
            try db.execute(
                cached: """
                    INSERT INTO charge_off_approvals (account_id, reason_code, first_approver, approved_at, episode_due_on)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [accountID, reasonCode.rawValue, approver, now.rfc3339, episode?.description])
            return (.awaitingSecondApproval(account, reasonCode), [AuditRecord(
                .fact(.chargeOffApproved(reasonCode: reasonCode, daysPastDue: days)), accountID: accountID, subjectID: accountID)])
        case .chargedOff(let to):
            let from = account.status
            account.status = to
            try db.execute(cached: "DELETE FROM charge_off_approvals WHERE account_id = ?", arguments: [accountID])
            let (saved, changed) = try Store.settle(db, account, position: account.position, today: today, now: now)
            return (.chargedOff(saved), [AuditRecord(.fact(.accountChargedOff(
                from: from, reasonCode: reasonCode, daysPastDue: days, balance: saved.balance,
                feesOutstanding: saved.feesOutstanding)), accountID: accountID, subjectID: accountID)] + changed)
        }
    }
}

/// The delinquency sweep: every line whose bucket moved since it was last recorded gets an
/// `account.delinquency_changed` entry. At most `batch` lines a transaction, so a long backlog
/// never holds the write lock for long; the caller repeats while a full batch comes back.
public struct RecordDelinquency: BusinessWrite {
    public var batch: Int

    public init(batch: Int = 500) { self.batch = batch }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (Int, [AuditRecord]) {
        let today = CivilDate(now)
        // Only lines that owe something, and of those only the ones past due or already behind.
        let candidates = try StoreRow.fetchCursor(
            db, cached: """
                SELECT id, oldest_unpaid_due, delinquency, delinquency_cap FROM accounts
                WHERE oldest_unpaid_due IS NOT NULL AND (oldest_unpaid_due < ? OR delinquency <> 'current')
                """, arguments: [today.description])
        var records: [AuditRecord] = []
        var updates: [(String, Delinquency)] = []
        while updates.count < batch, let row = try candidates.next() {
            let typed = TypedRow(row, table: "accounts")
            let days = Delinquency.daysPastDue(oldestUnpaidDue: try typed.optionalDate("oldest_unpaid_due"), today: today)
            guard let change = DelinquencyChange.between(recorded: try typed.value("delinquency"), daysPastDue: days,
                                                         cap: try typed.optionalValue("delinquency_cap"))
            else { continue }
            let id: String = try row["id"]
            updates.append((id, change.to))
            records.append(try Store.record(db, change, accountID: id))
        }
        for (id, bucket) in updates {
            // The bucket shown is always computed from the due dates; this column is what the
            // log has recorded, so the account's version (its ETag) does not move with the calendar.
            try db.execute(cached: "UPDATE accounts SET delinquency = ? WHERE id = ?", arguments: [bucket.rawValue, id])
        }
        return (updates.count, records)
    }
}

extension Store {
    /// The instalments not yet settled, oldest due first (ties in the order they were drawn).
    static func openInstalments(_ db: SQLConnection, accountID: String) throws -> [InstalmentState] {
        try StoreRow.fetchAll(
            db, cached: """
                SELECT \(Store.instalmentColumns.list) FROM instalments
                WHERE account_id = ? AND (principal_paid < principal OR fee_paid + fee_waived < fee)
                ORDER BY due_on, rowid
                """, arguments: [accountID]
        ).map(instalmentState(from:))
    }

    static func instalmentState(from row: StoreRow) throws -> InstalmentState {
        var read = ColumnReader(row, table: "instalments")
        return InstalmentState(id: try read("id"), due: try read.date("due_on"), principal: try read("principal"),
                               fee: try read("fee"), principalPaid: try read("principal_paid"), feePaid: try read("fee_paid"),
                               feeWaived: try read("fee_waived"))
    }

    static let instalmentColumns = TableColumns("instalments", "id, due_on, principal, fee, principal_paid, fee_paid, fee_waived")

    /// Writes what was paid or waived of the instalments named in `only`.
    static func update(_ db: SQLConnection, _ instalments: [InstalmentState], only ids: Set<String>) throws {
        for instalment in instalments where ids.contains(instalment.id) {
            try db.execute(
                cached: "UPDATE instalments SET principal_paid = ?, fee_paid = ?, fee_waived = ? WHERE id = ?",
                arguments: [instalment.principalPaid, instalment.feePaid, instalment.feeWaived, instalment.id])
        }
    }

    /// Brings the account's balance, fees and oldest due date to `position`, records a
    /// delinquency change if there is one, and saves the account.
    static func settle(_ db: SQLConnection, _ account: Account, position: LedgerPosition, today: CivilDate,
                       now: Timestamp) throws -> (Account, [AuditRecord])
    {
        var account = account
        account.balance = position.balance
        account.feesOutstanding = position.feesOutstanding
        account.oldestUnpaidDue = position.oldestUnpaidDue
        var records: [AuditRecord] = []
        if let change = DelinquencyChange.between(recorded: account.recordedDelinquency,
                                                  daysPastDue: account.daysPastDue(on: today), cap: account.delinquencyCap)
        {
            account.recordedDelinquency = change.to
            records.append(try record(db, change, accountID: account.id))
        }
        return (try save(db, account, now: now), records)
    }

    /// The audit entry for a bucket change. A line leaving dpd_90_plus loses any pending
    /// charge-off approval: it was given for arrears that are no longer there.
    static func record(_ db: SQLConnection, _ change: DelinquencyChange, accountID: String) throws -> AuditRecord {
        if change.from == .dpd90Plus {
            try db.execute(cached: "DELETE FROM charge_off_approvals WHERE account_id = ?", arguments: [accountID])
        }
        return AuditRecord(.delinquencyChanged(change), accountID: accountID, subjectID: accountID)
    }
}

/// A line's statement for a period (README "The line in use").
public struct Statement: Sendable, Equatable {
    public var account: Account
    public var from: CivilDate
    public var to: CivilDate
    /// Draws and repayments made in the period.
    public var draws: [DrawRecord]
    public var repayments: [RepaymentRecord]
    /// Refunds of returned purchases received in the period.
    public var refunds: [RefundRecord]
    /// Every instalment due in the period or still owed, oldest due first.
    public var instalments: [LedgerInstalment]
}

extension Store {
    /// The statement for `from`…`to` (whole UTC days, both included); nil when there is no such account.
    public func statement(accountID: String, from: CivilDate, to: CivilDate) async throws -> Statement? {
        // Moments in the period are those from the first day's midnight up to the midnight after the last.
        let start = from.description + "T00:00:00.000Z"
        let end = to.adding(days: 1).description + "T00:00:00.000Z"
        return try await read { db -> Statement? in
            guard let account = try Self.fetchAccount(db, id: accountID) else { return nil }
            let draws = try StoreRow.fetchAll(
                db, cached: """
                    SELECT id, amount, plan_months, monthly_fee_bps, merchant_ref, drawn_at FROM draws
                    WHERE account_id = ? AND drawn_at >= ? AND drawn_at < ? ORDER BY drawn_at, id
                    """, arguments: [accountID, start, end]
            ).map { row in
                let months: Int? = try row["plan_months"]
                return DrawRecord(
                    id: try row["id"], accountID: accountID, amount: try row["amount"],
                    plan: try months.map { Terms.Plan(months: $0, monthlyFeeBps: try row["monthly_fee_bps"]) },
                    merchantRef: try row["merchant_ref"],
                    drawnAt: try TypedRow(row, table: "draws").timestamp("drawn_at"), instalments: [])
            }
            var repayments: [RepaymentRecord] = []
            for row in try StoreRow.fetchAll(
                db, cached: """
                    SELECT r.id, r.amount, r.received_at, r.source, a.instalment_id, a.fee, a.principal
                    FROM repayments r LEFT JOIN repayment_allocations a ON a.repayment_id = r.id
                    LEFT JOIN instalments i ON i.id = a.instalment_id
                    WHERE r.account_id = ? AND r.received_at >= ? AND r.received_at < ?
                    ORDER BY r.received_at, r.id, i.due_on, i.rowid
                    """, arguments: [accountID, start, end])
            {
                let id: String = try row["id"]
                if repayments.last?.id != id {
                    let typed = TypedRow(row, table: "repayments")
                    repayments.append(RepaymentRecord(
                        id: id, accountID: accountID, amount: try row["amount"],
                        receivedAt: try typed.timestamp("received_at"), applied: [], source: try typed.value("source")))
                }
                if let instalment: String = try row["instalment_id"] {
                    repayments[repayments.count - 1].applied.append(
                        RepaymentAllocation.Applied(instalmentID: instalment, fee: try row["fee"], principal: try row["principal"]))
                }
            }
            let instalments = try StoreRow.fetchAll(
                db, cached: """
                    SELECT \(Store.instalmentColumns.list), draw_id, number FROM instalments
                    WHERE account_id = ? AND ((due_on >= ? AND due_on <= ?)
                                              OR principal_paid < principal OR fee_paid + fee_waived < fee)
                    ORDER BY due_on, rowid
                    """, arguments: [accountID, from.description, to.description]
            ).map { row in
                LedgerInstalment(drawID: try row["draw_id"], number: try row["number"], state: try Self.instalmentState(from: row))
            }
            return Statement(account: account, from: from, to: to, draws: draws, repayments: repayments,
                             refunds: try Self.refunds(db, accountID: accountID, from: start, to: end), instalments: instalments)
        }
    }

    /// Records every delinquency bucket change due at `now`, a batch a transaction.
    /// - Returns: the lines whose bucket changed.
    @discardableResult
    public func recordDelinquency(at now: Timestamp, batch: Int = 500) async throws -> Int {
        // Plans broken or complete end first: the line's delinquency is its own again.
        _ = try await perform(ReviewHardshipPlans(), by: Actor.system("delinquency-sweep"), at: now)
        var total = 0
        while true {
            let changed = try await perform(RecordDelinquency(batch: batch), by: Actor.system("delinquency-sweep"), at: now)
            total += changed
            if changed < batch { return total }
        }
    }
}
