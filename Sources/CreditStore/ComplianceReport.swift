import CreditLine
import Crypto
import Foundation
import GRDB

/// What the compliance report is computed with besides the rows.
public struct ComplianceSettings: Sendable {
    public var currentTermsVersion: String
    /// Tier D's recommended limit: above it an approval takes two people.
    public var singleApproverLimit: Int
    /// How long before its arrival a delivery report may date the delivery (check 8c).
    public var noticeReportGraceHours: Int

    public init(currentTermsVersion: String, singleApproverLimit: Int, noticeReportGraceHours: Int = 24) {
        (self.currentTermsVersion, self.singleApproverLimit) = (currentTermsVersion, singleApproverLimit)
        self.noticeReportGraceHours = noticeReportGraceHours
    }
}

extension Store {
    /// The compliance report of `[from, to)` (README "Data governance"): each check of
    /// `ComplianceRules` over the window's rows and audit entries, the window's figures, and the
    /// audit head it was computed at, all read in one transaction. Signed by the caller. A tenant's
    /// scope sees its own accounts' rows and entries only; the installation's sees all. `now` is
    /// the caller's clock (the request's, or the service's as the command line reads it).
    public func complianceReport(from: Timestamp, to: Timestamp, settings: ComplianceSettings,
                                 scope: TenantScope = .all, now: Timestamp) async throws -> ComplianceReport
    {
        try await read { db in
            try ComplianceReading(db, from: from, to: to, settings: settings, tenant: scope.tenant, now: now).report()
        }
    }
}

/// One report's reads, check by check, in the read transaction `db` (README "Data governance").
/// Each query's rows are kept to the scope's accounts: `inScope(column)` with `tenant`'s two
/// arguments after the window's.
final class ComplianceReading {
    typealias Items = [(id: String, holds: Bool)]

    let db: SQLConnection
    let from: Timestamp
    let to: Timestamp
    let settings: ComplianceSettings
    let tenant: String?
    let now: Timestamp
    let window: SQLArguments
    private var consentCache: [String: [Consent]] = [:]
    /// Check 9's items and the window's consents, read once for the check and the figures.
    private var pageEvidence: (items: Items, recorded: Int)?

    init(_ db: SQLConnection, from: Timestamp, to: Timestamp, settings: ComplianceSettings, tenant: String?, now: Timestamp) {
        (self.db, self.from, self.to, self.settings, self.tenant, self.now) = (db, from, to, settings, tenant, now)
        window = [from.rfc3339, to.rfc3339, tenant, tenant]
    }

    func consents(_ accountID: String) throws -> [Consent] {
        if let known = consentCache[accountID] { return known }
        let found = try Store.fetchConsents(db, accountID: accountID)
        consentCache[accountID] = found
        return found
    }

    func span(_ consent: Consent) -> ComplianceRules.ConsentSpan {
        ComplianceRules.ConsentSpan(purpose: consent.purpose, explicit: true, grantedAt: consent.grantedAt,
                                    expiresAt: consent.expiresAt, withdrawnAt: consent.withdrawnAt)
    }

    func inScope(_ accountColumn: String) -> String {
        "(CAST(? AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM accounts scoped WHERE scoped.id = \(accountColumn) AND scoped.tenant = ?))"
    }

    func json(_ column: String, _ key: String) -> String { db.jsonText(column, key) }

    func report() throws -> ComplianceReport {
        let activations = try activationChecks()
        let (decisionConsents, tiers) = try decisionChecks()
        let notices = try noticeChecks()
        let checks = try checkList(activations: activations, decisionConsents: decisionConsents, notices: notices)
        let heads = try AuditChain.heads(db).map { ComplianceReport.AuditHead(chain: $0.chain, seq: $0.seq, hash: $0.hash) }
        return ComplianceReport(from: from, to: to, generatedAt: now, tenant: tenant, auditHeads: heads, checks: checks,
                                figures: try figures(activations: activations.count, tiers: tiers), lateNotices: notices.late)
    }

    struct Activations {
        var consentItems: Items = []
        var decisionItems: Items = []
        var quick: Items = []
        var byKey: [(key: String, at: Timestamp)] = []
        var count = 0
    }

    /// 1, 3 and 8: activations (by the service, or by a review's approval).
    func activationChecks() throws -> Activations {
        var found = Activations()
        let activations = try StoreRow.fetchAll(db, sql: """
            SELECT a.at, a.actor, a.account_id,
                   coalesce(\(json("a.detail", "consent_id")), acc.consent_id) AS consent_id,
                   coalesce(\(json("a.detail", "decision_id")), r.decision_id) AS decision_id,
                   \(json("a.detail", "terms_version")) AS terms_version
            FROM audit_log a JOIN accounts acc ON acc.id = a.account_id
            LEFT JOIN reviews r ON r.id = \(json("a.detail", "review_id"))
            WHERE a.action = \(sqlText(AuditAction.accountActivated)) AND a.at >= ? AND a.at < ? AND \(inScope("a.account_id")) ORDER BY a.seq
            """, arguments: window)
        for row in activations {
            let account: String = try row["account_id"]
            // An entry whose time does not read is a finding against checks 1 and 3, never
            // skipped: the signed report passes nothing it could not read.
            guard let at = Timestamp(rfc3339: try row["at"] as String? ?? "") else {
                found.consentItems.append((account, false))
                found.decisionItems.append((account, false))
                continue
            }
            let consent = try (row["consent_id"] as String?).flatMap { id in try consents(account).first { $0.id == id } }
            found.consentItems.append((account, ComplianceRules.activationConsent(consent.map(span), at: at)))
            let decision = try (row["decision_id"] as String?).flatMap { try Store.fetchDecision(db, id: $0) }
            found.decisionItems.append((account, ComplianceRules.activationDecision(
                decisionOfAccount: decision?.accountID == account, decisionExpiresAt: decision?.expiresAt, at: at,
                termsVersion: try row["terms_version"], currentTermsVersion: settings.currentTermsVersion)))
            if let granted = consent?.grantedAt {
                found.quick.append((account, !ComplianceRules.isQuickActivation(at: at, consentGrantedAt: granted)))
            }
            found.byKey.append((try row["actor"], at))
        }
        found.count = activations.count
        return found
    }

    /// 2: every decision of the window under a credit_assessment consent in force; and the
    /// decisions by tier, for the figures.
    func decisionChecks() throws -> (Items, [String: Int]) {
        let decisions = try StoreRow.fetchAll(db, sql: """
            SELECT id, account_id, scored_at, tier FROM decisions
            WHERE scored_at >= ? AND scored_at < ? AND \(inScope("account_id")) ORDER BY scored_at
            """, arguments: window)
        var decisionConsents: [(id: String, holds: Bool)] = []
        var tiers: [String: Int] = [:]
        for row in decisions {
            guard let at = Timestamp(rfc3339: try row["scored_at"] as String? ?? "") else {
                decisionConsents.append((try row["id"], false))
                continue
            }
            decisionConsents.append((try row["id"], ComplianceRules.decisionConsent(
                try consents(row["account_id"]).map(span), at: at)))
            tiers[try row["tier"], default: 0] += 1
        }
        return (decisionConsents, tiers)
    }

    /// 4: active lines now, each with its credit_line consent in force.
    func activeLineChecks() throws -> Items {
        let active = try String.fetchAll(
            db, sql: "SELECT id FROM accounts WHERE status = 'active' AND (CAST(? AS TEXT) IS NULL OR tenant = ?) ORDER BY id",
            arguments: [tenant, tenant])
        return try active.map { id in
            (id: id, holds: try consents(id).contains { $0.purpose == .creditLine && $0.isActive(at: now) })
        }
    }

    /// 5: increases of the window, each confirmed by the customer: for a taken offer the
    /// confirmation names the offer (README "Periodic review"), which the increase's entry names.
    func increaseChecks() throws -> Items {
        try StoreRow.fetchAll(db, sql: """
            SELECT l.id, l.customer_accepted, l.initiated_by,
                   (EXISTS (SELECT 1 FROM customer_confirmations c WHERE c.subject_id = l.id)
                    OR EXISTS (SELECT 1 FROM audit_log e JOIN customer_confirmations c
                                 ON c.subject_id = \(json("e.detail", "offer_id"))
                               WHERE e.action = \(sqlText(AuditAction.limitAdjusted)) AND e.subject_id = l.id)) AS confirmed
            FROM limit_adjustments l
            WHERE l.direction = 'increase' AND l.effective_at >= ? AND l.effective_at < ? AND \(inScope("l.account_id"))
            """, arguments: window).map { row in
            // An initiator the code does not know is a finding, not "someone other than the customer".
            guard let initiator = LimitPolicy.Initiator(rawValue: try row["initiated_by"]) else {
                return (id: try row["id"] as String, holds: false)
            }
            return (id: try row["id"] as String, holds: ComplianceRules.increase(
                customerAccepted: try row["customer_accepted"], customerInitiated: initiator == .customer,
                confirmed: try row["confirmed"]))
        }
    }

    /// 5, too: changes of terms of the window; a dearer one needs the customer's confirmation,
    /// which names the decision whose terms were taken. Entries made before the rule carry no
    /// `no_dearer` and are not judged.
    func termsChecks() throws -> Items {
        try StoreRow.fetchAll(db, sql: """
            SELECT a.account_id, a.detail,
                   EXISTS (SELECT 1 FROM customer_confirmations c
                           WHERE c.account_id = a.account_id AND c.subject_id = \(json("a.detail", "decision_id")))
                       AS confirmed
            FROM audit_log a
            WHERE a.action = \(sqlText(AuditAction.termsAccepted)) AND a.at >= ? AND a.at < ? AND \(inScope("a.account_id")) ORDER BY a.seq
            """, arguments: window).compactMap { row -> (id: String, holds: Bool)? in
            // An entry that does not read as its typed event is a finding, never skipped.
            guard let detail = try? StoredJSON.value([String: JSONValue].self, from: row["detail"] as String),
                  case .termsAccepted(let event)? = try? DomainEvent.decode(.termsAccepted, auditDetail: detail)
            else { return (try row["account_id"] as String, false) }
            guard let noDearer = event.noDearer else { return nil }
            return (try row["account_id"] as String, ComplianceRules.termsChange(noDearer: noDearer, confirmed: try row["confirmed"]))
        }
    }

    /// 11: the window's disputes (due in it, or opened in it), each answered by its deadline.
    func disputeChecks() throws -> Items {
        try StoreRow.fetchAll(db, sql: """
            SELECT id, due_by, resolved_at FROM bureau_disputes
            WHERE ((due_by >= ? AND due_by < ?) OR (opened_at >= ? AND opened_at < ?)) AND \(inScope("account_id"))
            ORDER BY due_by, id
            """, arguments: [from.rfc3339, to.rfc3339, from.rfc3339, to.rfc3339, tenant, tenant]).map { row in
            var read = ColumnReader(row, table: "bureau_disputes")
            let id: String = try read("id")
            return (id, ComplianceRules.disputeAnsweredInTime(
                dueBy: try read.timestamp("due_by"), resolvedAt: try read.optionalTimestamp("resolved_at"), now: now))
        }
    }

    /// 10: every line opened and every increase in the window, within what the customer could
    /// repay then (README "Ability to repay"), by the figures its entry recorded; entries from
    /// before the rule record none and are not judged.
    func affordabilityChecks() throws -> Items {
        try StoreRow.fetchAll(db, sql: """
            SELECT a.account_id, a.action, a.detail FROM audit_log a
            WHERE a.action IN (\(sqlText(AuditAction.accountActivated)), \(sqlText(AuditAction.limitAdjusted)))
              AND a.at >= ? AND a.at < ? AND \(inScope("a.account_id")) ORDER BY a.seq
            """, arguments: window).compactMap { row -> (id: String, holds: Bool)? in
            let account: String = try row["account_id"]
            guard let detail = try? StoredJSON.value([String: JSONValue].self, from: row["detail"] as String) else {
                return (account, false)
            }
            // An entry that does not read as its typed event is a finding, never skipped; one
            // without the figures the rule records predates it and is not judged.
            guard let action = AuditAction(rawValue: try row["action"]),
                  let event = try? DomainEvent.decode(action, auditDetail: detail)
            else { return (account, false) }
            switch event {
            case .accountActivated(let opened):
                guard let basis = opened.limitBasis,
                      let within = ComplianceRules.limitWithinCap(limit: opened.creditLimit, affordableLimit: basis.affordableLimit,
                                                                  starterLimit: basis.starterLimit)
                else { return nil }
                return (account, within && opened.creditLimit <= basis.regulatoryCap)
            case .limitAdjusted(let change) where change.direction == .increase:
                guard let within = ComplianceRules.limitWithinCap(limit: change.newLimit, affordableLimit: change.affordableLimit,
                                                                  starterLimit: nil)
                else { return nil }
                return (account, within)
            default:
                return nil
            }
        }
    }

    /// 6: approvals of the window above the single-approver limit.
    func approvalChecks() throws -> Items {
        try StoreRow.fetchAll(db, sql: """
            SELECT r.id, r.first_approver, r.resolved_by, \(json("r.resolution", "approve")) AS approve,
                   (SELECT CAST(\(json("e.detail", "credit_limit")) AS BIGINT) FROM audit_log e
                    WHERE e.action = \(sqlText(AuditAction.reviewResolved)) AND e.subject_id = r.id
                      AND \(json("e.detail", "outcome")) = 'approved') AS credit_limit
            FROM reviews r
            WHERE r.kind = 'activation' AND r.status = 'resolved' AND r.resolved_at >= ? AND r.resolved_at < ?
              AND \(inScope("r.account_id"))
            """, arguments: window).compactMap { row -> (id: String, holds: Bool)? in
            // A declined review needs no second person; an approval whose entry holds no limit
            // cannot be judged: a finding, not a pass.
            guard let limit = try row["credit_limit"] as Int? else {
                return (try row["approve"] as String?) == "true" ? (try row["id"], false) : nil
            }
            return (try row["id"], ComplianceRules.fourEyes(limit: limit, singleApproverLimit: settings.singleApproverLimit,
                                                        firstApprover: try row["first_approver"], resolvedBy: try row["resolved_by"]))
        }
    }

    /// 7: every notice whose deadline fell in the window, or that was written in it, on time (a
    /// notice delivered after its deadline stays late, with both times listed); 8c: delivery
    /// reports of the window that backdate.
    func noticeChecks() throws -> (timely: Items, late: [ComplianceReport.LateNotice], backdated: Items) {
        var lateNotices: [ComplianceReport.LateNotice] = []
        var backdated: [(id: String, holds: Bool)] = []
        let timely = try StoreRow.fetchAll(db, sql: """
            SELECT id, due_by, delivered_at, received_at FROM notices
            WHERE ((due_by >= ? AND due_by < ?) OR (created_at >= ? AND created_at < ?)) AND \(inScope("account_id"))
            ORDER BY due_by, id
            """, arguments: [from.rfc3339, to.rfc3339, from.rfc3339, to.rfc3339, tenant, tenant]).map { row in
            let id: String = try row["id"]
            // The signed report judges every notice or fails: a time that does not read is not
            // taken as "now".
            func time(_ column: String) throws -> Timestamp? {
                try (row[column] as String?).map { text in
                    guard let time = Timestamp(rfc3339: text) else {
                        throw StoreError.unreadableRow(table: "notices", column: column, id: id)
                    }
                    return time
                }
            }
            guard let dueBy = try time("due_by") else {
                throw StoreError.unreadableRow(table: "notices", column: "due_by", id: id)
            }
            let delivered = try time("delivered_at")
            let onTime = ComplianceRules.noticeOnTime(dueBy: dueBy, deliveredAt: delivered, now: now)
            if !onTime, lateNotices.count < ComplianceRules.Check.maxIDs {
                lateNotices.append(.init(id: id, dueBy: dueBy, deliveredAt: delivered))
            }
            if let delivered, let received = try time("received_at"), from <= received, received < to {
                backdated.append((id, !ComplianceRules.isBackdatedReport(
                    deliveredAt: delivered, receivedAt: received, graceHours: settings.noticeReportGraceHours)))
            }
            return (id: id, holds: onTime)
        }
        return (timely, lateNotices, backdated)
    }

    /// 7, too: withdrawals whose effects are in the same transaction (the same moment and
    /// request as the withdrawal's entry).
    func withdrawalChecks() throws -> Items {
        try StoreRow.fetchAll(db, sql: """
            SELECT w.subject_id, w.account_id,
                   (\(db.position("'\"account_frozen\"'", in: "w.detail")) = 0 OR EXISTS (
                       SELECT 1 FROM audit_log f WHERE f.action = \(sqlText(AuditAction.accountFrozen)) AND f.account_id = w.account_id
                         AND f.at = w.at AND f.request_id = w.request_id)) AS frozen,
                   (\(db.position("'\"scoring_inputs_erased\"'", in: "w.detail")) = 0 OR NOT EXISTS (
                       SELECT 1 FROM decisions d WHERE d.account_id = w.account_id AND d.scored_at <= w.at
                         AND d.inputs IS NOT NULL)) AS erased
            FROM audit_log w WHERE w.action = \(sqlText(AuditAction.consentWithdrawn)) AND w.at >= ? AND w.at < ? AND \(inScope("w.account_id"))
            """, arguments: window).map { row in
            (id: try row["subject_id"] as String, holds: try (row["frozen"] as Bool) && (row["erased"] as Bool))
        }
    }

    /// The checks, in the report's order: number, what holds when it passes, and whether a
    /// failure is a violation or an anomaly to look at.
    static let checks: [(number: String, name: String, kind: String)] = [
        ("1", "every activation had an explicit credit_line consent granted before it and in force at it", "violation"),
        ("2", "every decision had a credit_assessment consent in force when it was made", "violation"),
        ("3", "every activation named a decision of its account, unexpired, and the current terms version", "violation"),
        ("4", "no active line without a credit_line consent in force", "violation"),
        ("5", "every increase, and every change to dearer terms, had the customer's confirmation", "violation"),
        ("6", "every approval above tier D's recommendation had two different people", "violation"),
        ("7", "every notice due in the window reached the customer by its deadline; every withdrawal took effect in its own transaction",
         "violation"),
        ("8a", "activations within 10 s of their consent", "anomaly"),
        ("8b", "one key activating more than 1 % of the window's lines in one minute", "anomaly"),
        ("8c", "delivery reports dating the delivery more than notice_report_grace_hours before they arrived", "anomaly"),
        ("9", "every consent given or declined on the customer's own page carries complete first-party evidence", "violation"),
        ("10", "every line opened and every increase within what the customer could repay then, and above the starter limit only with a current assessment",
         "violation"),
        ("11", "every dispute of credit reporting due in the window, or opened in it, answered within its 20 days", "violation"),
    ]

    func checkList(activations: Activations, decisionConsents: Items,
                   notices: (timely: Items, late: [ComplianceReport.LateNotice], backdated: Items)) throws
        -> [ComplianceRules.Check]
    {
        let items: [String: Items] = [
            "1": activations.consentItems, "2": decisionConsents, "3": activations.decisionItems,
            "4": try activeLineChecks(), "5": try increaseChecks() + termsChecks(), "6": try approvalChecks(),
            "7": notices.timely + (try withdrawalChecks()), "9": try pageEvidenceChecks().items, "8a": activations.quick,
            "8b": ComplianceRules.keyMinutes(activations.byKey), "8c": notices.backdated,
            "10": try affordabilityChecks(), "11": try disputeChecks(),
        ]
        return Self.checks.map { .init(number: $0.number, name: $0.name, kind: $0.kind, items: items[$0.number] ?? []) }
    }

    /// 9: the window's consents recorded by a page, each with its evidence and its link; and how
    /// many consents the window recorded in all.
    func pageEvidenceChecks() throws -> (items: Items, recorded: Int) {
        if let pageEvidence { return pageEvidence }
        let rows = try StoreRow.fetchAll(db, sql: """
            SELECT c.id, c.granted_at, c.link_id, c.notice_locale, c.page_sha256, c.shown_at,
                   l.used_at, l.subject_id, l.page_sha256 AS link_page_sha256
            FROM consents c LEFT JOIN customer_links l ON l.id = c.link_id
            WHERE c.channel = 'hosted' AND c.granted_at >= ? AND c.granted_at < ? AND \(inScope("c.account_id")) ORDER BY c.id
            """, arguments: window)
        let items: Items = try rows.map { row in
            let id: String = try row["id"]
            // A time that does not read is a finding, never a pass.
            func time(_ column: String) throws -> Timestamp? { (try row[column] as String?).flatMap(Timestamp.init(rfc3339:)) }
            guard let acted = try time("granted_at") else { return (id, false) }
            return (id, ComplianceRules.pageEvidence(.init(
                consentID: id, actedAt: acted, linkID: try row["link_id"], locale: try row["notice_locale"],
                pageSHA256: try row["page_sha256"], shownAt: try time("shown_at"), linkUsedAt: try time("used_at"),
                linkSubjectID: try row["subject_id"], linkPageSHA256: try row["link_page_sha256"])))
        }
        let recorded = try Int.fetchOne(
            db, sql: "SELECT count(*) FROM consents WHERE granted_at >= ? AND granted_at < ? AND \(inScope("account_id"))",
            arguments: window) ?? 0
        pageEvidence = (items, recorded)
        return (items, recorded)
    }

    /// The window's figures.
    func figures(activations: Int, tiers: [String: Int]) throws -> ComplianceReport.Figures {
        func count(_ action: AuditAction) throws -> Int {
            try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log WHERE action = ? AND at >= ? AND at < ? AND \(inScope("account_id"))",
                             arguments: [action.rawValue] + window) ?? 0
        }
        let resolved = try StoreRow.fetchAll(db, sql: """
            SELECT id, created_at, resolved_at FROM reviews
            WHERE status = 'resolved' AND resolved_at >= ? AND resolved_at < ? AND \(inScope("account_id"))
            """, arguments: window).map { row -> Int64 in
            let typed = TypedRow(row, table: "reviews")
            return (try typed.timestamp("resolved_at").milliseconds - typed.timestamp("created_at").milliseconds) / 60_000
        }
        let opened = try Int.fetchOne(
            db, sql: "SELECT count(*) FROM reviews WHERE created_at >= ? AND created_at < ? AND \(inScope("account_id"))",
            arguments: window) ?? 0
        var figures = ComplianceReport.Figures()
        figures.consentsGranted = try count(.consentGranted)
        figures.consentsWithdrawn = try count(.consentWithdrawn)
        figures.consentsExpired = try count(.consentExpired)
        let pages = try pageEvidenceChecks()
        figures.consentsRecorded = pages.recorded
        figures.consentsWithPageEvidence = pages.items.filter(\.holds).count
        figures.decisionsByTier = tiers
        figures.activations = activations
        figures.reviewsOpened = opened
        figures.reviewsResolved = resolved.count
        figures.reviewMinutesToResolutionMedian = resolved.isEmpty ? nil : Int(resolved.sorted()[resolved.count / 2])
        return figures
    }
}

extension AuditSigner {
    /// Signs a compliance report: Ed25519 over its canonical JSON (docs/audit-chain.md's rule),
    /// with the checkpoint key, so it can be checked later against the chain's head it names.
    public func signReport(_ typed: ComplianceReport) throws -> JSONValue {
        let report = typed.json
        guard case .object(var members) = report else { return report }
        let signature = try key.signature(for: Data(report.canonicalJSON.utf8))
        members["signature"] = [
            "algorithm": "Ed25519", "public_key": .string(publicKey.base64EncodedString()),
            "value": .string(signature.base64EncodedString()),
        ]
        return .object(members)
    }

    /// Checks a signed report: the signature over the report without it, with the given key.
    public static func isValidReport(_ signed: JSONValue, publicKey: Data) -> Bool {
        guard case .object(var members) = signed, case .object(let signature)? = members.removeValue(forKey: "signature"),
              let value = signature["value"]?.stringValue, let bytes = Data(base64Encoded: value),
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey)
        else { return false }
        return key.isValidSignature(bytes, for: Data(JSONValue.object(members).canonicalJSON.utf8))
    }
}
