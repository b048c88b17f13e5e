import CreditLine
import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#endif

/// A day's reporting run (README "Credit reporting"): what it reported and corrected, and the
/// file it was written to.
public struct BureauRun: Sendable, Equatable {
    public var date: CivilDate
    public var reports: [BureauReport]
    /// Where its file was written, once it was.
    public var file: String?
    /// False when the day had already been run: its reports are the ones made then.
    public var ranNow: Bool
}

/// The day's run, claimed in the database so that it happens once per installation whichever
/// instance or command gets there first: every account with negative information due, or with a
/// standing report, is asked of `BureauRules.decide`, and what it decides is recorded with its
/// audit entry. The whole run is one transaction: the delinquent part of a portfolio, not all of it.
public struct RunBureauReport: BusinessWrite {
    public var date: CivilDate
    public var noticeDays: Int

    public init(date: CivilDate, noticeDays: Int = BureauRules.defaultNoticeDays) {
        (self.date, self.noticeDays) = (date, noticeDays)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (BureauRun, [AuditRecord]) {
        if let run = try Store.bureauRun(db, date: date) { return (run, []) }
        try db.execute(cached: "INSERT INTO bureau_runs (report_date, claimed_at) VALUES (?, ?)",
                       arguments: [date.description, now.rfc3339])
        let ids = try String.fetchAll(
            db, cached: """
                SELECT id FROM accounts
                WHERE (oldest_unpaid_due IS NOT NULL AND oldest_unpaid_due <= ?) OR status = 'charged_off'
                UNION SELECT account_id FROM bureau_standing ORDER BY 1
                """, arguments: [date.adding(days: -30).description])
        var reports: [BureauReport] = []
        for id in ids {
            guard let account = try Store.fetchAccount(db, id: id) else { continue }
            let standing = try StoreRow.fetchOne(
                db, cached: "SELECT report_id, status_code, episode_due_on, upheld_dispute_id FROM bureau_standing WHERE account_id = ?",
                arguments: [id])
            let facts = try Store.bureauFacts(db, account, standing: standing, date: date, noticeDays: noticeDays)
            let report: BureauReport
            switch BureauRules.decide(facts, now: now) {
            case .hold: continue
            case .report(let code):
                report = try Store.bureauReport(db, account, kind: .negative, code: code, date: date, now: now)
                try db.execute(cached: "DELETE FROM bureau_standing WHERE account_id = ?", arguments: [id])
                try Store.insert(db, report)
                try db.execute(
                    cached: "INSERT INTO bureau_standing (account_id, report_id, status_code, episode_due_on) VALUES (?, ?, ?, ?)",
                    arguments: [id, report.id, code.rawValue, account.oldestUnpaidDue?.description])
            case .correct(let reason):
                guard let standing else { continue }
                var correction = try Store.bureauReport(db, account, kind: .correction, code: try TypedRow(standing, table: "bureau_standing")
                                                            .value("status_code"), date: date, now: now)
                (correction.reason, correction.corrects) = (reason, try standing["report_id"])
                report = correction
                try Store.insert(db, report)
                try db.execute(cached: "DELETE FROM bureau_standing WHERE account_id = ?", arguments: [id])
            }
            reports.append(report)
        }
        try db.execute(cached: "UPDATE bureau_runs SET reports = ? WHERE report_date = ?", arguments: [reports.count, date.description])
        return (BureauRun(date: date, reports: reports, file: nil, ranNow: true),
                reports.map { AuditRecord(.fact($0.fact), accountID: $0.accountID, subjectID: $0.id) })
    }
}

/// The run's file written: the run remembers where, so it is written once.
struct MarkBureauFile: BusinessWrite {
    var date: CivilDate
    var file: String

    func apply(_ db: SQLConnection, now: Timestamp) throws -> (Void, [AuditRecord]) {
        try db.execute(cached: "UPDATE bureau_runs SET file = ?, written_at = ? WHERE report_date = ?",
                       arguments: [file, now.rfc3339, date.description])
        return ((), [])
    }
}

extension Store {
    /// What the rule needs of one account on `date`.
    static func bureauFacts(_ db: SQLConnection, _ account: Account, standing: StoreRow?, date: CivilDate,
                            noticeDays: Int) throws -> BureauRules.Facts
    {
        // The warning of this episode of arrears: written since its oldest unpaid due date, and
        // reported delivered (by when the report arrived, which the caller cannot backdate).
        let warned = try account.oldestUnpaidDue.flatMap { episode in
            try String.fetchOne(
                db, cached: """
                    SELECT max(received_at) FROM notices
                    WHERE account_id = ? AND kind = 'pre_report_warning' AND received_at IS NOT NULL AND created_at >= ?
                    """, arguments: [account.id, episode.description + "T00:00:00.000Z"])
        }.flatMap(Timestamp.init(rfc3339:))
        let standingFacts = try standing.map { row -> (code: BureauStatusCode, episode: CivilDate?) in
            let typed = TypedRow(row, table: "bureau_standing")
            return (try typed.value("status_code"), try typed.optionalDate("episode_due_on"))
        }
        return BureauRules.Facts(
            status: account.status, daysPastDue: account.daysPastDue(on: date),
            owes: account.balance + account.feesOutstanding > 0, episode: account.oldestUnpaidDue, standing: standingFacts,
            warningReceivedAt: warned, disputeOpen: try hasOpenDispute(db, accountID: account.id),
            disputeUpheld: try standing.map { try ($0["upheld_dispute_id"] as String?) != nil } ?? false
                || upheldInEpisode(db, account),
            hardshipPlanInForce: account.delinquencyCap != nil, noticeDays: noticeDays)
    }

    /// A dispute upheld since this episode of arrears began.
    static func upheldInEpisode(_ db: SQLConnection, _ account: Account) throws -> Bool {
        guard let episode = account.oldestUnpaidDue else { return false }
        return try Int.fetchOne(
            db, cached: "SELECT 1 FROM bureau_disputes WHERE account_id = ? AND status = 'upheld' AND resolved_at >= ?",
            arguments: [account.id, episode.description + "T00:00:00.000Z"]) != nil
    }

    static func bureauReport(_ db: SQLConnection, _ account: Account, kind: BureauReport.Kind, code: BureauStatusCode,
                             date: CivilDate, now: Timestamp) throws -> BureauReport
    {
        BureauReport(
            id: Identifier.make("bur"), accountID: account.id, customerRef: account.customerRef, kind: kind, reportDate: date,
            statusCode: code, daysPastDue: account.daysPastDue(on: date), oldestUnpaidDue: account.oldestUnpaidDue,
            amountOverdue: try overdueAmount(db, accountID: account.id, today: date), balance: account.balance,
            feesOutstanding: account.feesOutstanding, reportedAt: now)
    }

    static func insert(_ db: SQLConnection, _ report: BureauReport) throws {
        try db.execute(
            cached: """
                INSERT INTO bureau_reports (id, account_id, report_date, kind, status_code, reason, corrects, days_past_due,
                                            oldest_unpaid_due, amount_overdue, balance, fees_outstanding, reported_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [report.id, report.accountID, report.reportDate.description, report.kind.rawValue,
                        report.statusCode.rawValue, report.reason?.rawValue, report.corrects, report.daysPastDue,
                        report.oldestUnpaidDue?.description, report.amountOverdue, report.balance, report.feesOutstanding,
                        report.reportedAt.rfc3339])
    }

    /// Reports with their account's reference, for the file and the API; a listing adds its WHERE.
    static let bureauReportsSelect = """
        SELECT b.id, b.account_id, a.customer_ref, b.kind, b.report_date, b.status_code, b.reason, b.corrects, b.days_past_due,
               b.oldest_unpaid_due, b.amount_overdue, b.balance, b.fees_outstanding, b.reported_at
        FROM bureau_reports b JOIN accounts a ON a.id = b.account_id
        """

    static func bureauReport(from row: StoreRow) throws -> BureauReport {
        var read = ColumnReader(row, table: "bureau_reports")
        return BureauReport(
            id: try read("id"), accountID: try read("account_id"), customerRef: try read("customer_ref"), kind: try read.value("kind"),
            reportDate: try read.date("report_date"), statusCode: try read.value("status_code"),
            reason: try read.optionalValue("reason"), corrects: try read("corrects"), daysPastDue: try read("days_past_due"),
            oldestUnpaidDue: try read.optionalDate("oldest_unpaid_due"), amountOverdue: try read("amount_overdue"),
            balance: try read("balance"), feesOutstanding: try read("fees_outstanding"),
            reportedAt: try read.timestamp("reported_at"))
    }

    /// The day's run as it was recorded, if it was made.
    static func bureauRun(_ db: SQLConnection, date: CivilDate) throws -> BureauRun? {
        guard let row = try StoreRow.fetchOne(db, cached: "SELECT file FROM bureau_runs WHERE report_date = ?",
                                              arguments: [date.description])
        else { return nil }
        return BureauRun(date: date, reports: try bureauReports(db, date: date), file: try row["file"], ranNow: false)
    }

    /// A run's reports in the order it made them, with each account's reference.
    static func bureauReports(_ db: SQLConnection, date: CivilDate) throws -> [BureauReport] {
        try StoreRow.fetchAll(db, cached: bureauReportsSelect + " WHERE b.report_date = ? ORDER BY b.account_id, b.reported_at, b.id",
                              arguments: [date.description]).map(bureauReport(from:))
    }

    /// Runs (or reads back) the day's report.
    public func runBureauReport(date: CivilDate, noticeDays: Int = BureauRules.defaultNoticeDays, at now: Timestamp) async throws
        -> BureauRun
    {
        try await perform(RunBureauReport(date: date, noticeDays: noticeDays), by: Actor.system("bureau"), at: now)
    }

    /// The day's run, and its file under `directory` unless it was written before (README
    /// "Credit reporting"). A run whose file is missing because the process stopped between the
    /// two is written at the next pass: its reports are in the database.
    @discardableResult
    public func reportToBureau(date: CivilDate, directory: String, noticeDays: Int = BureauRules.defaultNoticeDays,
                               at now: Timestamp) async throws -> BureauRun
    {
        // The day run and written already (every pass after the first): read, not written again.
        if let done = try await bureauRun(date: date), done.file != nil { return done }
        var run = try await runBureauReport(date: date, noticeDays: noticeDays, at: now)
        guard run.file == nil else { return run }
        let path = directory + "/" + BureauFile.name(date)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try BureauFile.write(run.reports, to: path)
        _ = try await perform(MarkBureauFile(date: date, file: path), by: Actor.system("bureau"), at: now)
        run.file = path
        return run
    }

    /// The day's run as recorded, with its reports; nil when the day was never run.
    public func bureauRun(date: CivilDate) async throws -> BureauRun? {
        try await read { db in try Self.bureauRun(db, date: date) }
    }

    /// What was reported and corrected of an account, oldest first.
    public func bureauReports(accountID: String) async throws -> [BureauReport] {
        try await read { db in
            try StoreRow.fetchAll(db, cached: Self.bureauReportsSelect + " WHERE b.account_id = ? ORDER BY b.reported_at, b.id",
                                  arguments: [accountID]).map(Self.bureauReport(from:))
        }
    }
}

/// The bureau file (docs/bureau-format.md): JSON Lines, one report a line, keys sorted.
public enum BureauFile {
    public static func name(_ date: CivilDate) -> String { "creditline-bureau-\(date).jsonl" }

    public static func lines(_ reports: [BureauReport]) -> String {
        reports.map { $0.json.canonicalJSON + "\n" }.joined()
    }

    /// Written whole or not at all: to a temporary file the service's user alone may read,
    /// flushed, then renamed into place.
    public static func write(_ reports: [BureauReport], to path: String) throws {
        let temporary = path + ".partial"
        unlink(temporary)
        guard OwnerOnlyFile.create(temporary, contents: Array(lines(reports).utf8)), rename(temporary, path) == 0 else {
            unlink(temporary)
            throw StoreError.fileUnwritable(path)
        }
    }
}
