import CreditLine
import Foundation
import GRDB

/// The reminders' sweep (README "Payment reminders"): every line with an instalment past due is
/// asked of `ReminderRules.decide`, and a reminder it owes is written as a notice (its channels
/// the customer's) and recorded against its milestone, so each milestone of an episode of
/// arrears is reminded once. Lines are taken in id order, `batch` a transaction, from after
/// `after`; the sweep goes on from the last one while a full batch comes back.
public struct SendPaymentReminders: BusinessWrite {
    public static let batch = 500
    public var composer: NoticeComposer
    public var perSevenDays: Int
    public var after: String

    public init(composer: NoticeComposer, perSevenDays: Int = ReminderRules.defaultPerSevenDays, after: String = "") {
        (self.composer, self.perSevenDays, self.after) = (composer, perSevenDays, after)
    }

    /// The reminders written, and the last line looked at when the batch was full.
    public func apply(_ db: SQLConnection, now: Timestamp) throws -> ((sent: Int, next: String?), [AuditRecord]) {
        let today = CivilDate(now)
        let ids = try String.fetchAll(
            db, cached: """
                SELECT id FROM accounts
                WHERE oldest_unpaid_due IS NOT NULL AND oldest_unpaid_due < ? AND status <> 'charged_off' AND id > ?
                ORDER BY id LIMIT ?
                """, arguments: [today.description, after, Self.batch])
        var records: [AuditRecord] = []
        for id in ids {
            guard let account = try Store.fetchAccount(db, id: id), let episode = account.oldestUnpaidDue else { continue }
            let days = account.daysPastDue(on: today)
            let facts = ReminderRules.Facts(
                daysPastDue: days,
                reminded: Set(try Int.fetchAll(
                    db, cached: "SELECT milestone FROM payment_reminders WHERE account_id = ? AND episode_due_on = ?",
                    arguments: [id, episode.description])),
                inLastSevenDays: try Int.fetchOne(
                    db, cached: "SELECT count(*) FROM payment_reminders WHERE account_id = ? AND created_at > ?",
                    arguments: [id, now.adding(days: -7).rfc3339]) ?? 0,
                localHour: ReminderRules.localHour(
                    at: now, in: TimeZone(identifier: account.timeZone) ?? TimeZone(identifier: ReminderRules.defaultTimeZone)!),
                hardshipPlanInForce: account.delinquencyCap != nil, disputeOpen: try Store.hasOpenDispute(db, accountID: id),
                perSevenDays: perSevenDays)
            guard case .send(let milestone) = ReminderRules.decide(facts) else { continue }
            let overdue = try Store.overdueAmount(db, accountID: id, today: today)
            let (notice, record) = try Outbox.insert(ReminderRules.notice(daysPastDue: days, overdue: overdue, now: now),
                                                     accountID: id, composer: composer, db: db, now: now,
                                                     channels: account.reminderChannels)
            try db.execute(
                cached: """
                    INSERT INTO payment_reminders (account_id, episode_due_on, milestone, notice_id, created_at)
                    VALUES (?, ?, ?, ?, ?)
                    """, arguments: [id, episode.description, milestone, notice.id, now.rfc3339])
            records.append(record)
        }
        return ((records.count, ids.count == Self.batch ? ids.last : nil), records)
    }
}

extension Store {
    /// What the account's instalments due before `today` still owe, fees included.
    static func overdueAmount(_ db: SQLConnection, accountID: String, today: CivilDate) throws -> Int {
        try Int.fetchOne(
            db, cached: """
                SELECT coalesce(sum(principal - principal_paid + fee - fee_paid - fee_waived), 0) FROM instalments
                WHERE account_id = ? AND due_on < ?
                """, arguments: [accountID, today.description]) ?? 0
    }

    /// Every reminder owed at `now`, a batch a transaction.
    /// - Returns: the reminders written.
    @discardableResult
    public func sendPaymentReminders(at now: Timestamp, composer: NoticeComposer,
                                     perSevenDays: Int = ReminderRules.defaultPerSevenDays) async throws -> Int
    {
        var (total, after) = (0, "")
        while true {
            let (sent, next) = try await perform(SendPaymentReminders(composer: composer, perSevenDays: perSevenDays, after: after),
                                                 by: Actor.system("payment-reminders"), at: now)
            total += sent
            guard let next else { return total }
            after = next
        }
    }
}
