import CreditLine
import Foundation
import GRDB

/// The customer's dispute of credit reporting (README "Credit reporting"), opened through the
/// calling service: answered by `due_by`, 20 days on.
public struct OpenBureauDispute: BusinessWrite {
    public var accountID: String
    public var item: BureauDisputeItem
    /// The customer's words: kept in the dispute's row, never in the chain.
    public var statement: String

    public init(accountID: String, item: BureauDisputeItem, statement: String) {
        (self.accountID, self.item, self.statement) = (accountID, item, statement)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (BureauDispute, [AuditRecord]) {
        let account = try Store.fetchAccount(db, id: accountID)
        let open = try String.fetchOne(db, cached: "SELECT id FROM bureau_disputes WHERE account_id = ? AND status = 'open'",
                                       arguments: [accountID])
        let standing = try String.fetchOne(db, cached: "SELECT status_code FROM bureau_standing WHERE account_id = ?",
                                           arguments: [accountID]).flatMap(BureauStatusCode.init(rawValue:))
        try BureauDisputeRules.checkOpen(accountStatus: account?.status, item: item,
                                         daysPastDue: account?.daysPastDue(on: CivilDate(now)) ?? 0, standing: standing,
                                         openDisputeID: open)
        let dispute = BureauDispute(id: Identifier.make("bdp"), accountID: accountID, item: item, status: .open, openedAt: now,
                                    dueBy: BureauDisputeRules.dueBy(openedAt: now))
        try db.execute(
            cached: """
                INSERT INTO bureau_disputes (id, account_id, item, statement, status, opened_at, due_by)
                VALUES (?, ?, ?, ?, 'open', ?, ?)
                """,
            arguments: [dispute.id, accountID, item.rawValue, statement, now.rfc3339, dispute.dueBy.rfc3339])
        return (dispute, [AuditRecord(.bureauDispute(BureauDisputeEvent(disputeID: dispute.id, item: item, dueBy: dispute.dueBy,
                                                                        step: .opened)),
                                      accountID: accountID, subjectID: dispute.id)])
    }
}

/// An operator's answer. Upheld, the report that stands is marked, and the next run corrects it.
public struct ResolveBureauDispute: BusinessWrite {
    public var disputeID: String
    public var upheld: Bool
    public var reasonCode: String
    public var note: String?
    public var resolvedBy: String

    public init(disputeID: String, upheld: Bool, reasonCode: String, note: String?, resolvedBy: String) {
        (self.disputeID, self.upheld, self.reasonCode, self.note, self.resolvedBy) = (disputeID, upheld, reasonCode, note, resolvedBy)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (BureauDispute, [AuditRecord]) {
        let found = try Store.fetchBureauDispute(db, id: disputeID)
        try BureauDisputeRules.checkResolution(found)
        var dispute = try Existence.require(found, "bureau dispute")
        try Store.addNote(db, accountID: dispute.accountID, subjectID: disputeID, kind: "operator_action", text: note, now: now)
        dispute.status = upheld ? .upheld : .rejected
        (dispute.resolvedAt, dispute.reasonCode) = (now, reasonCode)
        try db.execute(
            cached: "UPDATE bureau_disputes SET status = ?, resolved_at = ?, resolved_by = ?, reason_code = ? WHERE id = ?",
            arguments: [dispute.status.rawValue, now.rfc3339, resolvedBy, reasonCode, disputeID])
        if upheld {
            try db.execute(cached: "UPDATE bureau_standing SET upheld_dispute_id = ? WHERE account_id = ?",
                           arguments: [disputeID, dispute.accountID])
        }
        return (dispute, [AuditRecord(.bureauDispute(BureauDisputeEvent(
            disputeID: disputeID, item: dispute.item, dueBy: dispute.dueBy, step: .resolved(upheld: upheld, reasonCode: reasonCode))),
            accountID: dispute.accountID, subjectID: disputeID)])
    }
}

extension Store {
    static let bureauDisputeColumns = TableColumns("bureau_disputes",
                                                   "id, account_id, item, status, opened_at, due_by, resolved_at, reason_code")

    static func bureauDispute(from row: StoreRow) throws -> BureauDispute {
        var read = ColumnReader(row, table: "bureau_disputes")
        return BureauDispute(id: try read("id"), accountID: try read("account_id"), item: try read.value("item"),
                             status: try read.value("status"), openedAt: try read.timestamp("opened_at"),
                             dueBy: try read.timestamp("due_by"), resolvedAt: try read.optionalTimestamp("resolved_at"),
                             reasonCode: try read("reason_code"))
    }

    static func fetchBureauDispute(_ db: SQLConnection, id: String) throws -> BureauDispute? {
        try StoreRow.fetchOne(db, cached: "SELECT \(bureauDisputeColumns.list) FROM bureau_disputes WHERE id = ?",
                              arguments: [id]).map(bureauDispute(from:))
    }

    /// Whether a dispute of the account waits for an answer: nothing is reported and no
    /// reminder written meanwhile.
    static func hasOpenDispute(_ db: SQLConnection, accountID: String) throws -> Bool {
        try Int.fetchOne(db, cached: "SELECT 1 FROM bureau_disputes WHERE account_id = ? AND status = 'open'",
                         arguments: [accountID]) != nil
    }

    public func bureauDispute(id: String) async throws -> BureauDispute? {
        try await read { db in try Self.fetchBureauDispute(db, id: id) }
    }

    /// Disputes waiting for an answer, the nearest deadline first, within `scope`.
    public func openBureauDisputes(scope: TenantScope) async throws -> [BureauDispute] {
        try await read { db in
            try StoreRow.fetchAll(db, sql: """
                SELECT \(Self.bureauDisputeColumns.list(alias: "d")) FROM bureau_disputes d JOIN accounts a ON a.id = d.account_id
                WHERE d.status = 'open' AND (CAST(? AS TEXT) IS NULL OR a.tenant = ?) ORDER BY d.due_by, d.id
                """, arguments: [scope.tenant, scope.tenant]).map(Self.bureauDispute(from:))
        }
    }
}
