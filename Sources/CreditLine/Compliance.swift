import Foundation

/// The compliance report's checks as pure rules (README "Data governance"; PIPL Art. 54:
/// regular compliance audits). The store gathers the facts of a window from the tables and the
/// audit chain; each rule says whether one item holds.
public enum ComplianceRules {
    /// A consent as the checks see it: what it was for, whether it was an affirmative act, and
    /// when it was in force.
    public struct ConsentSpan: Sendable, Equatable {
        public var purpose: ConsentPurpose
        public var explicit: Bool
        public var grantedAt: Timestamp
        public var expiresAt: Timestamp
        public var withdrawnAt: Timestamp?

        public init(purpose: ConsentPurpose, explicit: Bool, grantedAt: Timestamp, expiresAt: Timestamp,
                    withdrawnAt: Timestamp?)
        {
            self.purpose = purpose
            self.explicit = explicit
            self.grantedAt = grantedAt
            self.expiresAt = expiresAt
            self.withdrawnAt = withdrawnAt
        }

        /// Granted at or before `moment`, not yet lapsed, not withdrawn by then.
        public func inForce(at moment: Timestamp) -> Bool {
            grantedAt <= moment && moment < expiresAt && (withdrawnAt.map { moment < $0 } ?? true)
        }
    }

    /// 1. An activation rests on an explicit `credit_line` consent granted before it and in force at it.
    public static func activationConsent(_ consent: ConsentSpan?, at moment: Timestamp) -> Bool {
        guard let consent else { return false }
        return consent.purpose == .creditLine && consent.explicit && consent.inForce(at: moment)
    }

    /// 2. A decision was made while a `credit_assessment` consent of its account was in force.
    public static func decisionConsent(_ consents: [ConsentSpan], at moment: Timestamp) -> Bool {
        consents.contains { $0.purpose == .creditAssessment && $0.inForce(at: moment) }
    }

    /// 3. An activation named a decision of its own account, not expired then, under the terms
    /// version current when the report is made (the service keeps one current version).
    public static func activationDecision(decisionOfAccount: Bool, decisionExpiresAt: Timestamp?, at moment: Timestamp,
                                          termsVersion: String?, currentTermsVersion: String) -> Bool
    {
        guard decisionOfAccount, let expires = decisionExpiresAt, moment < expires else { return false }
        return termsVersion == nil || termsVersion == currentTermsVersion
    }

    /// 5. An increase was asked for or accepted by the customer, and the customer's own
    /// confirmation is on record: a flag set by whoever sent the request is not the customer's act.
    public static func increase(customerAccepted: Bool, customerInitiated: Bool, confirmed: Bool) -> Bool {
        (customerAccepted || customerInitiated) && confirmed
    }

    /// 5, for terms: a change to terms no dearer than the line's stands on the customer's
    /// acceptance; a dearer one needs their confirmation.
    public static func termsChange(noDearer: Bool, confirmed: Bool) -> Bool { noDearer || confirmed }

    /// 6. An approval above the single-approver limit had two different people.
    public static func fourEyes(limit: Int, singleApproverLimit: Int, firstApprover: String?, resolvedBy: String?) -> Bool {
        guard limit > singleApproverLimit else { return true }
        guard let first = firstApprover, let second = resolvedBy else { return false }
        return first != second
    }

    /// 7. A notice reached the customer by its deadline: delivered at or before `dueBy`, or not
    /// delivered and not yet due. One delivered late stays late, however it was reported later.
    public static func noticeOnTime(dueBy: Timestamp, deliveredAt: Timestamp?, now: Timestamp) -> Bool {
        guard let deliveredAt else { return now < dueBy }
        return deliveredAt <= dueBy
    }

    /// 11. A dispute of credit reporting answered by its deadline (Credit Reporting Industry
    /// Regulation Art. 25); one still open is late once the deadline has passed.
    public static func disputeAnsweredInTime(dueBy: Timestamp, resolvedAt: Timestamp?, now: Timestamp) -> Bool {
        noticeOnTime(dueBy: dueBy, deliveredAt: resolvedAt, now: now)
    }

    /// 8c. Anomaly: a delivery report that dates the delivery more than `graceHours` before the
    /// report arrived (a report may be late; one that backdates far is worth a look).
    public static func isBackdatedReport(deliveredAt: Timestamp, receivedAt: Timestamp, graceHours: Int) -> Bool {
        receivedAt.milliseconds - deliveredAt.milliseconds > Int64(graceHours) * 3_600_000
    }

    /// What a hosted consent's row and its link say of the act (README "The customer's own pages").
    public struct PageEvidenceFacts: Sendable, Equatable {
        public var consentID: String
        /// The consent's own columns: its act's time (`granted_at`), and the evidence the page wrote.
        public var actedAt: Timestamp
        public var linkID: String?, locale: String?, pageSHA256: String?, shownAt: Timestamp?
        /// The link's row as it stands: when it was used, what it recorded, on which page.
        public var linkUsedAt: Timestamp?, linkSubjectID: String?, linkPageSHA256: String?

        public init(consentID: String, actedAt: Timestamp, linkID: String?, locale: String?, pageSHA256: String?,
                    shownAt: Timestamp?, linkUsedAt: Timestamp?, linkSubjectID: String?, linkPageSHA256: String?)
        {
            (self.consentID, self.actedAt, self.linkID, self.locale) = (consentID, actedAt, linkID, locale)
            (self.pageSHA256, self.shownAt) = (pageSHA256, shownAt)
            (self.linkUsedAt, self.linkSubjectID, self.linkPageSHA256) = (linkUsedAt, linkSubjectID, linkPageSHA256)
        }
    }

    /// 9. A consent recorded by a page carries complete first-party evidence: its link, the
    /// language, the page's hash and when it was shown (before the act); and the link agrees:
    /// used at that moment, for this consent, on the same page.
    public static func pageEvidence(_ facts: PageEvidenceFacts) -> Bool {
        guard facts.linkID != nil, let locale = facts.locale, NoticeLocale(rawValue: locale) != nil,
              let page = facts.pageSHA256, page.utf8.count == 64, let shown = facts.shownAt, shown <= facts.actedAt
        else { return false }
        return facts.linkUsedAt == facts.actedAt && facts.linkSubjectID == facts.consentID && facts.linkPageSHA256 == page
    }

    /// 10. A limit set (a line opened, or an increase) within what the customer could repay at that
    /// moment: no more than its affordable limit, and no more than the starter limit without a
    /// current assessment. nil: the entry predates the rule (no basis recorded) and is not judged.
    public static func limitWithinCap(limit: Int, affordableLimit: Int?, starterLimit: Int?) -> Bool? {
        if let affordableLimit { return limit <= affordableLimit }
        guard let starterLimit else { return nil }
        return limit <= starterLimit
    }

    /// The share of the window's consents with first-party evidence, in whole percent (rounded
    /// half up); nil when the window recorded none.
    public static func percent(_ part: Int, of whole: Int) -> Int? {
        whole > 0 ? (part * 200 + whole) / (2 * whole) : nil
    }

    /// 8a. Anomaly: a line opened within 10 seconds of its consent (too fast for a person to read).
    public static let quickActivationSeconds: Int64 = 10

    public static func isQuickActivation(at moment: Timestamp, consentGrantedAt: Timestamp) -> Bool {
        moment.milliseconds - consentGrantedAt.milliseconds < quickActivationSeconds * 1000
    }

    /// 8b. Anomaly: every (key, minute) pair that activated lines, holding unless that key
    /// activated more than 1 % of the window's activations (and more than one line) in it.
    public static func keyMinutes(_ activations: [(key: String, at: Timestamp)]) -> [(id: String, holds: Bool)] {
        var perMinute: [String: Int] = [:]
        for activation in activations {
            let minute = String(activation.at.rfc3339.prefix(16))
            perMinute["\(activation.key)@\(minute)", default: 0] += 1
        }
        let threshold = max(1.0, Double(activations.count) / 100)
        return perMinute.keys.sorted().map { (id: $0, holds: Double(perMinute[$0] ?? 0) <= threshold) }
    }

    /// One check's result: how many items were looked at and which do not hold (the first 100 ids).
    public struct Check: Sendable, Equatable {
        public var number: String
        public var name: String
        /// `violation` for a rule of law or of the service; `anomaly` for something to look at.
        public var kind: String
        public var checked: Int
        public var holds: Bool
        public var failing: Int
        public var ids: [String]

        public static let maxIDs = 100

        public init(number: String, name: String, kind: String = "violation", items: [(id: String, holds: Bool)]) {
            self.number = number
            self.name = name
            self.kind = kind
            checked = items.count
            let broken = items.filter { !$0.holds }.map(\.id)
            failing = broken.count
            holds = broken.isEmpty
            ids = Array(broken.prefix(Self.maxIDs))
        }

        public var json: JSONValue {
            ["number": .string(number), "name": .string(name), "kind": .string(kind), "checked": .int(checked),
             "holds": .bool(holds), "failing": .int(failing), "ids": .array(ids.map(JSONValue.string))]
        }
    }
}

/// A compliance report of one window `[from, to)` (README "Data governance"): what each check
/// found, the window's figures, the notices that came late, and the audit head it was computed
/// at. `json` is the report as it is signed and served.
public struct ComplianceReport: Sendable, Equatable {
    /// One audit chain's head when the report was computed (docs/audit-chain.md, "Chains").
    public struct AuditHead: Sendable, Equatable {
        public var chain: Int
        public var seq: Int
        public var hash: String
        public init(chain: Int, seq: Int, hash: String) { (self.chain, self.seq, self.hash) = (chain, seq, hash) }
    }

    public struct Figures: Sendable, Equatable {
        public var consentsGranted = 0, consentsWithdrawn = 0, consentsExpired = 0
        /// Consents recorded in the window (granted or declined), and those a page recorded with
        /// its first-party evidence (check 9).
        public var consentsRecorded = 0, consentsWithPageEvidence = 0
        public var decisionsByTier: [String: Int] = [:]
        public var activations = 0
        public var reviewsOpened = 0, reviewsResolved = 0
        /// nil when no review was resolved in the window.
        public var reviewMinutesToResolutionMedian: Int?
        public init() {}
    }

    /// A notice delivered after its deadline, or not yet delivered and past it.
    public struct LateNotice: Sendable, Equatable {
        public var id: String, dueBy: Timestamp, deliveredAt: Timestamp?
        public init(id: String, dueBy: Timestamp, deliveredAt: Timestamp?) {
            (self.id, self.dueBy, self.deliveredAt) = (id, dueBy, deliveredAt)
        }
    }

    public var from: Timestamp
    public var to: Timestamp
    public var generatedAt: Timestamp
    /// The tenant it was computed for; nil for the whole installation.
    public var tenant: String?
    public var auditHeads: [AuditHead]
    public var checks: [ComplianceRules.Check]
    public var figures: Figures
    public var lateNotices: [LateNotice]

    public init(from: Timestamp, to: Timestamp, generatedAt: Timestamp, tenant: String?, auditHeads: [AuditHead],
                checks: [ComplianceRules.Check], figures: Figures, lateNotices: [LateNotice])
    {
        (self.from, self.to, self.generatedAt, self.tenant) = (from, to, generatedAt, tenant)
        (self.auditHeads, self.checks, self.figures, self.lateNotices) = (auditHeads, checks, figures, lateNotices)
    }

    /// Every check that is a rule holds (an anomaly is for looking at, not a failure).
    public var holds: Bool { checks.allSatisfy { $0.holds || $0.kind == "anomaly" } }

    public var json: JSONValue {
        .object([
            "from": .string(from.rfc3339), "to": .string(to.rfc3339), "generated_at": .string(generatedAt.rfc3339),
            "tenant": tenant.map(JSONValue.string) ?? .null,
            "audit_heads": .array(auditHeads.map { ["chain": .int($0.chain), "seq": .int($0.seq), "hash": .string($0.hash)] }),
            "holds": .bool(holds),
            "checks": .array(checks.map(\.json)),
            "figures": [
                "consents_granted": .int(figures.consentsGranted),
                "consents_withdrawn": .int(figures.consentsWithdrawn),
                "consents_expired": .int(figures.consentsExpired),
                "consents_recorded": .int(figures.consentsRecorded),
                "consents_with_page_evidence": .int(figures.consentsWithPageEvidence),
                "page_evidence_percent": ComplianceRules.percent(figures.consentsWithPageEvidence, of: figures.consentsRecorded)
                    .map(JSONValue.int) ?? .null,
                "decisions_by_tier": .object(figures.decisionsByTier.mapValues { .int($0) }),
                "activations": .int(figures.activations),
                "reviews_opened": .int(figures.reviewsOpened),
                "reviews_resolved": .int(figures.reviewsResolved),
                "review_minutes_to_resolution_median": figures.reviewMinutesToResolutionMedian.map { .int($0) } ?? .null,
            ],
            "late_notices": .array(lateNotices.map { notice in
                ["id": .string(notice.id), "due_by": .string(notice.dueBy.rfc3339),
                 "delivered_at": notice.deliveredAt.map { .string($0.rfc3339) } ?? .null]
            }),
        ])
    }
}
