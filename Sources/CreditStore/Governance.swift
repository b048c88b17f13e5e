import CreditLine
import Foundation
import GRDB

extension Store {
    /// A person's words beside a coded reason: kept here, erasable, never in the audit chain
    /// (README "Data governance").
    static func addNote(_ db: SQLConnection, accountID: String, subjectID: String, kind: String, text: String?,
                        now: Timestamp) throws
    {
        guard let text else { return }
        try db.execute(
            cached: "INSERT INTO notes (id, account_id, subject_id, kind, text, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [Identifier.make("nte"), accountID, subjectID, kind, text, now.rfc3339])
    }

    /// The evidence that the customer asked: what they saw (its hash), where and how they
    /// confirmed. Returns the audit detail that carries its hash.
    static func recordConfirmation(_ db: SQLConnection, accountID: String, subjectID: String,
                                   _ confirmation: CustomerConfirmation?, now: Timestamp) throws -> [String: JSONValue]
    {
        guard let confirmation else { return [:] }
        try db.execute(
            cached: """
                INSERT INTO customer_confirmations (id, account_id, subject_id, channel, method, notice_sha256, confirmed_at,
                                                    link_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [Identifier.make("cnf"), accountID, subjectID, confirmation.channel.rawValue,
                        CustomerConfirmation.method, confirmation.noticeSHA256, now.rfc3339, confirmation.linkID])
        var detail: [String: JSONValue] = ["confirmation_sha256": .string(confirmation.noticeSHA256),
                                           "confirmation_channel": .string(confirmation.channel.rawValue)]
        if let linkID = confirmation.linkID { detail["confirmation_link_id"] = .string(linkID) }
        return detail
    }

    /// The first `seq` a rule of the chain holds from (`reason_codes`: no free text in entries).
    public func chainRuleStart(_ name: String) async throws -> Int? {
        try await read { db in
            try Int.fetchOne(db, sql: "SELECT from_seq FROM chain_rules WHERE name = ?", arguments: [name])
        }
    }

    /// Every column of every table as the database has it, for the register's check.
    public func schemaColumns() async throws -> [String: [String]] {
        try await read { db in
            var schema: [String: [String]] = [:]
            for table in try db.tableNames() { schema[table] = try db.columnNames(table) }
            return schema
        }
    }
}

/// Erases what the register says is kept only for a while (README "Data governance"): notes and
/// the free text of reviews and withdrawals after `freeTextDays`, scoring inputs
/// `scoringInputDays` after their decision even with consent in force. One audit entry with the
/// counts, when anything was erased.
public struct SweepRetention: BusinessWrite {
    public var policy: RetentionPolicy
    /// Rows per kind a pass erases at most; the next pass takes the rest.
    public var batch: Int

    public init(policy: RetentionPolicy, batch: Int = 5000) {
        (self.policy, self.batch) = (policy, batch)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> ([String: Int], [AuditRecord]) {
        let text = policy.freeTextCutoff(now).rfc3339
        let inputs = policy.scoringInputCutoff(now).rfc3339
        var counts: [String: Int] = [:]
        func erase(_ name: String, _ sql: String, _ cutoff: String) throws {
            try db.execute(sql: sql, arguments: [now.rfc3339, cutoff, batch])
            counts[name] = db.changesCount
        }
        try erase("notes", """
            UPDATE notes SET text = NULL, erased_at = ?1
            WHERE id IN (SELECT id FROM notes WHERE erased_at IS NULL AND created_at < ?2 LIMIT ?3)
            """, text)
        try erase("review_statements", """
            UPDATE reviews SET statement = NULL
            WHERE CAST(?1 AS TEXT) IS NOT NULL AND id IN (SELECT id FROM reviews WHERE statement IS NOT NULL AND status <> 'open'
                                            AND created_at < ?2 LIMIT ?3)
            """, text)
        try erase("review_notes", """
            UPDATE reviews SET resolution = \(db.jsonRemoving("resolution", "note"))
            WHERE CAST(?1 AS TEXT) IS NOT NULL AND id IN (SELECT id FROM reviews WHERE \(db.jsonText("resolution", "note")) IS NOT NULL
                                            AND resolved_at < ?2 LIMIT ?3)
            """, text)
        try erase("dispute_statements", """
            UPDATE bureau_disputes SET statement = NULL
            WHERE CAST(?1 AS TEXT) IS NOT NULL AND id IN (SELECT id FROM bureau_disputes WHERE statement IS NOT NULL
                                            AND status <> 'open' AND opened_at < ?2 LIMIT ?3)
            """, text)
        try erase("withdrawal_reasons", """
            UPDATE consents SET withdrawal_reason = NULL
            WHERE CAST(?1 AS TEXT) IS NOT NULL AND id IN (SELECT id FROM consents WHERE withdrawal_reason IS NOT NULL
                                            AND withdrawn_at < ?2 LIMIT ?3)
            """, text)
        try erase("scoring_inputs", """
            UPDATE decisions SET inputs = NULL
            WHERE CAST(?1 AS TEXT) IS NOT NULL AND id IN (SELECT id FROM decisions WHERE inputs IS NOT NULL AND scored_at < ?2 LIMIT ?3)
            """, inputs)
        guard counts.values.contains(where: { $0 > 0 }) else { return (counts, []) }
        return (counts, [AuditRecord(.service(.retentionSwept(erased: counts, freeTextDays: policy.freeTextDays,
                                                               scoringInputDays: policy.scoringInputDays)))])
    }
}

/// One stored value as it is, for the subject-access export.
public enum StoredValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)
}

extension Store {
    /// Everything held about an account (PIPL Art. 45): its row and every row of every table
    /// that names it, the audit entries included, read in one transaction. Tables are found from
    /// the schema, so a table added later is in the export without a change here. nil when the
    /// account does not exist.
    public func dataExport(accountID: String) async throws -> [String: [[String: StoredValue]]]? {
        try await read { db in
            guard try Self.fetchAccount(db, id: accountID) != nil else { return nil }
            func rows(_ sql: String) throws -> [[String: StoredValue]] {
                try StoreRow.fetchAll(db, sql: sql, arguments: [accountID]).map { row in
                    var values: [String: StoredValue] = [:]
                    for (column, value) in zip(row.columns, row.values) {
                        switch value.storage {
                        case .null: values[column] = .null
                        case .int64(let number): values[column] = .integer(number)
                        case .double(let number): values[column] = .real(number)
                        case .string(let text): values[column] = .text(text)
                        case .blob(let data): values[column] = .blob(data)
                        }
                    }
                    return values
                }
            }
            var export: [String: [[String: StoredValue]]] = ["accounts": try rows("SELECT * FROM accounts WHERE id = ?")]
            let tables = try db.tableNames().filter { try db.columnNames($0).contains("account_id") }
            for table in tables {
                // Identifiers from the schema itself, never from the request.
                export[table] = try rows("SELECT * FROM \"\(table)\" WHERE account_id = ?")
            }
            export["repayment_allocations"] = try rows("""
                SELECT a.* FROM repayment_allocations a JOIN repayments r ON r.id = a.repayment_id WHERE r.account_id = ?
                """)
            export["refund_allocations"] = try rows("""
                SELECT a.* FROM refund_allocations a JOIN refunds r ON r.id = a.refund_id WHERE r.account_id = ?
                """)
            return export
        }
    }
}
