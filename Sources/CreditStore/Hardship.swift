import CreditLine
import Foundation
import GRDB

/// The customer's own request for a hardship plan (README "Hardship plans"), with their
/// confirmation: `pending` until an operator decides.
public struct RequestHardship: BusinessWrite {
    public var accountID: String
    public var kind: HardshipKind
    public var months: Int
    public var confirmation: CustomerConfirmation?

    public init(accountID: String, kind: HardshipKind, months: Int, confirmation: CustomerConfirmation?) {
        (self.accountID, self.kind, self.months, self.confirmation) = (accountID, kind, months, confirmation)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (HardshipRequest, [AuditRecord]) {
        try CustomerConfirmation.require(confirmation, customerInitiated: true)
        let account = try Store.fetchAccount(db, id: accountID)
        let pending = try String.fetchOne(
            db, cached: "SELECT id FROM hardship_requests WHERE account_id = ? AND status = 'pending'", arguments: [accountID])
        try HardshipRules.checkRequest(accountStatus: account?.status,
                                       owes: (account?.balance ?? 0) + (account?.feesOutstanding ?? 0) > 0,
                                       pendingID: pending, lastApprovedAt: try Store.lastHardshipApproval(db, accountID: accountID),
                                       now: now)
        let request = HardshipRequest(id: Identifier.make("hsr"), accountID: accountID, kind: kind, months: months,
                                      status: .pending, requestedAt: now)
        try db.execute(
            cached: """
                INSERT INTO hardship_requests (id, account_id, kind, months, status, requested_at)
                VALUES (?, ?, ?, ?, 'pending', ?)
                """,
            arguments: [request.id, accountID, kind.rawValue, months, now.rfc3339])
        _ = try Store.recordConfirmation(db, accountID: accountID, subjectID: request.id, confirmation, now: now)
        return (request, [AuditRecord(.hardship(HardshipEvent(requestID: request.id, kind: kind, months: months, step: .requested)),
                                      accountID: accountID, subjectID: request.id)])
    }
}

/// An operator's decision on a hardship request. An approval puts the plan in force at once: a
/// holiday moves every unpaid instalment, a restructure spreads what is owed over new monthly
/// instalments; the line's delinquency is held at what it was.
public struct ResolveHardship: BusinessWrite {
    public var requestID: String
    public var approve: Bool
    public var reasonCode: String
    public var note: String?
    public var resolvedBy: String

    public init(requestID: String, approve: Bool, reasonCode: String, note: String?, resolvedBy: String) {
        (self.requestID, self.approve, self.reasonCode, self.note, self.resolvedBy) = (requestID, approve, reasonCode, note, resolvedBy)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (HardshipRequest, [AuditRecord]) {
        let found = try Store.fetchHardship(db, id: requestID)
        let account = try found.flatMap { try Store.fetchAccount(db, id: $0.accountID) }
        try HardshipRules.checkResolution(found, approve: approve,
                                          lastApprovedAt: try found.flatMap { try Store.lastHardshipApproval(db, accountID: $0.accountID) },
                                          accountStatus: account?.status, now: now)
        var request = try Existence.require(found, "hardship request")
        try Store.addNote(db, accountID: request.accountID, subjectID: requestID, kind: "operator_action", text: note, now: now)
        (request.resolvedAt, request.reasonCode) = (now, reasonCode)
        guard approve, var line = account else {
            request.status = .declined
            try db.execute(
                cached: "UPDATE hardship_requests SET status = 'declined', resolved_at = ?, resolved_by = ?, reason_code = ? WHERE id = ?",
                arguments: [now.rfc3339, resolvedBy, reasonCode, requestID])
            return (request, [AuditRecord(.hardship(HardshipEvent(requestID: requestID, kind: request.kind, months: request.months,
                                                                  step: .declined(reasonCode: reasonCode))),
                                          accountID: request.accountID, subjectID: requestID)])
        }
        let today = CivilDate(now)
        let held = line.delinquency(on: today)
        switch request.kind {
        case .paymentHoliday:
            for instalment in HardshipRules.holiday(try Store.openInstalments(db, accountID: line.id), months: request.months) {
                try db.execute(cached: "UPDATE instalments SET due_on = ? WHERE id = ?",
                               arguments: [instalment.due.description, instalment.id])
            }
        case .restructure:
            try Store.restructure(db, line, months: request.months, today: today)
        }
        request.status = .approved
        request.delinquencyAtApproval = held
        try db.execute(
            cached: """
                UPDATE hardship_requests SET status = 'approved', resolved_at = ?, resolved_by = ?, reason_code = ?,
                    delinquency_at_approval = ?
                WHERE id = ?
                """,
            arguments: [now.rfc3339, resolvedBy, reasonCode, held.rawValue, requestID])
        line.delinquencyCap = held
        let (_, changed) = try Store.settle(db, line, position: LedgerPosition(try Store.openInstalments(db, accountID: line.id)),
                                            today: today, now: now)
        return (request, [AuditRecord(.hardship(HardshipEvent(requestID: requestID, kind: request.kind, months: request.months,
                                                              step: .approved)),
                                      accountID: request.accountID, subjectID: requestID)] + changed)
    }
}

/// The sweep's look at every plan in force: one whose instalment is 30 days late is broken, one
/// with nothing left owed is complete; either way it ends, with its notice, and the line's
/// delinquency is its own again.
public struct ReviewHardshipPlans: BusinessWrite {
    public init() {}

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (Int, [AuditRecord]) {
        let today = CivilDate(now)
        let plans = try StoreRow.fetchAll(
            db, cached: "SELECT \(Store.hardshipColumns.list) FROM hardship_requests WHERE status = 'approved' ORDER BY id",
            arguments: []).map(Store.hardship(from:))
        var records: [AuditRecord] = []
        for plan in plans {
            let open = try Store.openInstalments(db, accountID: plan.accountID)
            let reason: String
            if open.isEmpty {
                reason = "completed"
            } else if HardshipRules.isBroken(open, approvedOn: CivilDate(plan.resolvedAt ?? plan.requestedAt), today: today) {
                reason = "broken"
            } else {
                continue
            }
            try db.execute(
                cached: "UPDATE hardship_requests SET status = 'ended', ended_at = ?, end_reason = ? WHERE id = ?",
                arguments: [now.rfc3339, reason, plan.id])
            records.append(AuditRecord(.hardship(HardshipEvent(requestID: plan.id, kind: plan.kind, months: plan.months,
                                                               step: .ended(reason: reason))),
                                       accountID: plan.accountID, subjectID: plan.id))
            if var line = try Store.fetchAccount(db, id: plan.accountID) {
                line.delinquencyCap = nil
                records += try Store.settle(db, line, position: LedgerPosition(open), today: today, now: now).1
            }
        }
        return (records.filter { $0.action == .hardshipEnded }.count, records)
    }
}

extension Store {
    /// When the account's last plan was approved (one in force or ended since), if ever.
    static func lastHardshipApproval(_ db: SQLConnection, accountID: String) throws -> Timestamp? {
        try String.fetchOne(
            db, cached: """
                SELECT MAX(resolved_at) FROM hardship_requests
                WHERE account_id = ? AND status IN ('approved', 'ended')
                """, arguments: [accountID]).flatMap(Timestamp.init(rfc3339:))
    }

    /// A restructure: each draw's unpaid principal and fees leave its old instalments (their
    /// principal brought down to what was paid, their unpaid fees marked moved) and become new
    /// monthly instalments of the same draw, at a fee no dearer than the line's cheapest plan.
    static func restructure(_ db: SQLConnection, _ account: Account, months: Int, today: CivilDate) throws {
        let feeBps = HardshipRules.restructureFeeBps(
            months: months, cheapest: HardshipRules.cheapestPlan(account.terms?.instalmentPlans ?? []))
        let rows = try StoreRow.fetchAll(db, cached: """
            SELECT id, draw_id, principal, principal_paid, fee, fee_paid, fee_waived FROM instalments
            WHERE account_id = ? AND (principal_paid < principal OR fee_paid + fee_waived < fee)
            ORDER BY draw_id, number
            """, arguments: [account.id])
        var owed: [(draw: String, principal: Int, fees: Int)] = []
        for row in rows {
            let typed = TypedRow(row, table: "instalments")
            let (draw, principal, paid): (String, Int, Int) = (try typed["draw_id"], try typed["principal"], try typed["principal_paid"])
            let (fee, feePaid, feeWaived): (Int, Int, Int) = (try typed["fee"], try typed["fee_paid"], try typed["fee_waived"])
            if owed.last?.draw != draw { owed.append((draw, 0, 0)) }
            owed[owed.count - 1].principal += principal - paid
            owed[owed.count - 1].fees += fee - feePaid - feeWaived
            try db.execute(cached: "UPDATE instalments SET principal = principal_paid, fee_waived = fee - fee_paid WHERE id = ?",
                           arguments: [try typed["id"] as String])
        }
        for part in owed {
            let last = try Int.fetchOne(db, cached: "SELECT MAX(number) FROM instalments WHERE draw_id = ?",
                                        arguments: [part.draw]) ?? 0
            for instalment in HardshipRules.restructure(principal: part.principal, fees: part.fees, months: months,
                                                        feeBps: feeBps, today: today)
            {
                try db.execute(
                    cached: """
                        INSERT INTO instalments (id, draw_id, account_id, number, due_on, principal, fee)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [Identifier.make("ins"), part.draw, account.id, last + instalment.number,
                                instalment.due.description, instalment.principal, instalment.fee])
            }
        }
    }

    static func fetchHardship(_ db: SQLConnection, id: String) throws -> HardshipRequest? {
        try StoreRow.fetchOne(db, cached: "SELECT \(Store.hardshipColumns.list) FROM hardship_requests WHERE id = ?",
                              arguments: [id]).map(hardship(from:))
    }

    public func hardshipRequest(id: String) async throws -> HardshipRequest? {
        try await read { db in try Self.fetchHardship(db, id: id) }
    }

    /// Requests waiting for a decision, oldest first, within `scope`.
    public func pendingHardshipRequests(scope: TenantScope) async throws -> [HardshipRequest] {
        try await read { db in
            try StoreRow.fetchAll(db, sql: """
                SELECT \(Store.hardshipColumns.list(alias: "h")) FROM hardship_requests h JOIN accounts a ON a.id = h.account_id
                WHERE h.status = 'pending' AND (CAST(? AS TEXT) IS NULL OR a.tenant = ?) ORDER BY h.requested_at, h.id
                """, arguments: [scope.tenant, scope.tenant]).map(Self.hardship(from:))
        }
    }

    static func hardship(from row: StoreRow) throws -> HardshipRequest {
        var read = ColumnReader(row, table: "hardship_requests")
        return HardshipRequest(
            id: try read("id"), accountID: try read("account_id"), kind: try read.value("kind"), months: try read("months"),
            status: try read.value("status"), requestedAt: try read.timestamp("requested_at"),
            resolvedAt: try read.optionalTimestamp("resolved_at"), reasonCode: try read("reason_code"),
            delinquencyAtApproval: try read.optionalValue("delinquency_at_approval"),
            endedAt: try read.optionalTimestamp("ended_at"), endReason: try read("end_reason"))
    }

    static let hardshipColumns = TableColumns("hardship_requests", """
        id, account_id, kind, months, status, requested_at, resolved_at, reason_code, delinquency_at_approval, ended_at,
        end_reason
        """)
}
