import CreditLine
import Foundation
import GRDB

/// A periodic review as recorded: its state and what it did so far.
public struct PortfolioReviewRecord: Sendable, Equatable {
    public enum Status: String, Sendable { case running, completed }

    public var id: String
    public var scope: String
    public var status: Status
    public var rowsTotal: Int
    public var rowsDone: Int
    public var summary: PortfolioSummary
    public var modelVersion: String
    public var createdAt: Timestamp
    public var completedAt: Timestamp?
}

/// The models and rules a periodic review applies, fixed for the whole review.
public struct PortfolioReviewSettings: Sendable {
    public var champion: Scorecard
    public var challenger: Scorecard?
    public var prohibited: ProhibitedFeatures
    public var policy: LimitPolicy

    public init(champion: Scorecard, challenger: Scorecard?, prohibited: ProhibitedFeatures, policy: LimitPolicy) {
        (self.champion, self.challenger, self.prohibited, self.policy) = (champion, challenger, prohibited, policy)
    }

}

/// Finds the review of this content, or starts one: the same file twice is the same review, and
/// a review cut short resumes from `rows_done`.
public struct OpenPortfolioReview: BusinessWrite {
    public var scope: TenantScope
    public var contentSHA256: String
    public var rowsTotal: Int
    public var modelVersion: String
    public var createdBy: String

    public init(scope: TenantScope, contentSHA256: String, rowsTotal: Int, modelVersion: String, createdBy: String) {
        self.scope = scope
        self.contentSHA256 = contentSHA256
        self.rowsTotal = rowsTotal
        self.modelVersion = modelVersion
        self.createdBy = createdBy
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> ((PortfolioReviewRecord, isNew: Bool), [AuditRecord]) {
        let scopeName = scope.tenant ?? "*"
        let found = try StoreRow.fetchOne(db, cached: "SELECT \(Store.portfolioReviewColumns.list) FROM portfolio_reviews WHERE scope = ? AND content_sha256 = ?",
                                     arguments: [scopeName, contentSHA256]).map(Store.portfolioReview(from:))
        if let found, found.status == .completed { return ((found, false), []) }
        // Anything left to apply is applied only under a reviewed champion.
        try ModelReviewGate.requireInForce(try Store.latestModelReview(db, modelVersion: modelVersion), now: now)
        if let found { return ((found, false), []) }
        let record = PortfolioReviewRecord(
            id: Identifier.make("prv"), scope: scopeName, status: .running, rowsTotal: rowsTotal, rowsDone: 0,
            summary: PortfolioSummary(), modelVersion: modelVersion, createdAt: now, completedAt: nil)
        try db.execute(
            cached: """
                INSERT INTO portfolio_reviews (id, scope, content_sha256, status, rows_total, rows_done, summary,
                                               model_version, created_by, created_at)
                VALUES (?, ?, ?, 'running', ?, 0, ?, ?, ?, ?)
                """,
            arguments: [record.id, scopeName, contentSHA256, rowsTotal, try StoredJSON.text(record.summary), modelVersion,
                        createdBy, now.rfc3339])
        return ((record, true), [])
    }
}

/// One chunk of a review's rows, applied in one transaction with the review's progress: each
/// row is scored again (a decision like any other) and the policy's action taken, every action
/// an audit entry carrying the review id.
public struct ApplyPortfolioRows: BusinessWrite {
    public var reviewID: String
    /// The number of the chunk's first row (from 0): the review must have done exactly these.
    public var start: Int
    /// Each row decoded and, where it could be, scored ahead of the write.
    public var rows: [PreparedReviewRow]
    public var scope: TenantScope
    public var settings: PortfolioReviewSettings

    public init(reviewID: String, start: Int, rows: [PreparedReviewRow], scope: TenantScope,
                settings: PortfolioReviewSettings)
    {
        self.reviewID = reviewID
        self.start = start
        self.rows = rows
        self.scope = scope
        self.settings = settings
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (PortfolioReviewRecord, [AuditRecord]) {
        var review = try Existence.require(
            try StoreRow.fetchOne(db, cached: "SELECT \(Store.portfolioReviewColumns.list) FROM portfolio_reviews WHERE id = ?", arguments: [reviewID])
                .map(Store.portfolioReview(from:)), "portfolio review")
        // Two uploads of the same file at once: the second finds the rows already done.
        guard review.status == .running, review.rowsDone == start else { return (review, []) }
        var records: [AuditRecord] = []
        for (offset, row) in rows.enumerated() {
            try apply(row, number: start + offset, to: &review.summary, records: &records, db, now: now)
        }
        review.rowsDone += rows.count
        if review.rowsDone >= review.rowsTotal {
            review.status = .completed
            review.completedAt = now
            records.append(AuditRecord(.service(.portfolioReviewCompleted(
                rows: review.rowsTotal, modelVersion: review.modelVersion, actions: review.summary.actions,
                skipped: review.summary.skipped)), subjectID: reviewID))
        }
        try db.execute(
            cached: "UPDATE portfolio_reviews SET rows_done = ?, summary = ?, status = ?, completed_at = ? WHERE id = ?",
            arguments: [review.rowsDone, try StoredJSON.text(review.summary), review.status.rawValue,
                        review.completedAt?.rfc3339, reviewID])
        return (review, records)
    }

    private func apply(_ prepared: PreparedReviewRow, number: Int, to summary: inout PortfolioSummary,
                       records: inout [AuditRecord], _ db: SQLConnection, now: Timestamp) throws
    {
        guard let row = prepared.row else { return summary.skip(row: number, reason: "invalid-row") }
        // Another tenant's account is as unknown as one that does not exist.
        guard var account = try Store.fetchAccount(db, id: row.accountID), scope.sees(account.tenant) else {
            return summary.skip(row: number, reason: "account-not-found")
        }
        let consents = try Store.fetchConsents(db, accountID: account.id)
        let assessment = consents.contains { $0.purpose == .creditAssessment && $0.isActive(at: now) }
        if let reason = PortfolioPolicy.skipReason(status: account.status, assessmentConsentActive: assessment) {
            return summary.skip(row: number, reason: reason)
        }
        // The score made ahead of the write stands if what it read has not moved since (the
        // account's version counts every ledger write); otherwise it is made again here.
        let fresh = prepared.accountVersion == account.version && prepared.day == CivilDate(now)
        guard let scored = fresh ? prepared.scored
            : try PreparedReviewRow.score(row, account: account, settings: settings, db, now: now)
        else {
            return summary.skip(row: number, reason: "invalid-features")
        }
        let result = scored.result
        let (decision, scoredRecord) = try scored.insert(db, accountID: account.id, now: now, reviewID: reviewID)
        records.append(scoredRecord)

        let facts = PortfolioPolicy.Facts(
            status: account.status,
            creditLineConsentActive: consents.contains { $0.purpose == .creditLine && $0.isActive(at: now) },
            assessmentConsentActive: assessment, optedOut: account.limitIncreaseOptOut,
            currentLimit: account.creditLimit, currentTier: account.tier, lastIncreaseAt: account.lastIncreaseAt,
            newTier: result.tier, newRecommendedLimit: result.recommendedLimit,
            affordability: try Store.latestAffordability(db, accountID: account.id),
            plans: account.terms?.instalmentPlans ?? [])
        let action = PortfolioPolicy.decide(facts, tierDLimit: settings.champion.tierDLimit, policy: settings.policy, now: now)
        summary.record(action, from: account.tier, to: result.tier)
        switch action {
        case .skipped, .none:
            break
        case .lowerLimit(let limit):
            let request = LimitPolicy.Request(newLimit: limit, initiatedBy: .system, customerAccepted: false)
            let (adjustment, _, event) = try Store.recordLimitChange(
                db, account, request: request, direction: .decrease, reasonCode: "periodic_review", actor: "review:" + reviewID,
                now: now, cause: .periodicReview(reviewID: reviewID, decisionID: decision.id,
                                                 reasonCodes: decision.reasons.map(\.code)))
            records.append(AuditRecord(event, accountID: account.id, adjustmentID: adjustment.id))
        case .freeze:
            let from = account.status
            account.status = try AccountStateMachine.transition(from: from, to: .frozen, cause: .periodicReview,
                                                                actor: .system)
            account = try Store.save(db, account, now: now)
            records.append(AuditRecord(.accountTransitioned(AccountTransitioned(
                action: .accountFrozen, from: from, to: .frozen, cause: .periodicReview,
                reason: .periodicReview(reviewID: reviewID, decisionID: decision.id, reasonCodes: decision.reasons.map(\.code)))),
                accountID: account.id, subjectID: account.id))
        case .offer(let limit):
            records.append(try Store.makeOffer(db, account: account, limit: limit, reviewID: reviewID,
                                               decisionID: decision.id, now: now).1)
        }
    }
}

/// A review row made ready before its write: decoded, and scored against the account as a read
/// saw it, so that the one writer does not spend its time on scoring and serialising. The write
/// uses the score only if the account has not changed since (`accountVersion`).
public struct PreparedReviewRow: Sendable {
    public var row: PortfolioUpload.Row?
    var scored: ScoredDecision?
    var accountVersion: Int?
    var day: CivilDate?

    static let behaviour = ["on_time_ratio_12m", "overdue_events_12m", "max_days_overdue_12m"]

    /// Scores one row against an account: the behaviour characteristics it leaves out come from
    /// the ledger when the line has one; nil when the features are not valid for the model.
    static func score(_ row: PortfolioUpload.Row, account: Account, settings: PortfolioReviewSettings, _ db: SQLConnection,
                      now: Timestamp) throws -> ScoredDecision?
    {
        var features = row.features
        var sources = Dictionary(uniqueKeysWithValues: features.keys.map { ($0, "supplied") })
        let missing = behaviour.filter { features[$0] == nil }
        if !missing.isEmpty, account.activatedAt != nil {
            let derived = LedgerBehaviour.features(try Store.behaviourRecords(db, accountID: account.id, now: now),
                                                   today: CivilDate(now))
            for name in missing {
                switch name {
                case "on_time_ratio_12m": features[name] = derived.onTimeRatio.map(FeatureInput.number) ?? .null
                case "overdue_events_12m": features[name] = .integer(derived.overdueEvents)
                default: features[name] = .integer(derived.maxDaysOverdue)
                }
                sources[name] = "ledger"
            }
        }
        let champion = settings.champion
        guard let values = try? champion.validate(features, denyList: settings.prohibited) else { return nil }
        let shadow = settings.challenger.flatMap { card in
            (try? card.validate(features, denyList: settings.prohibited)).map { (card.modelVersion, card.score($0)) }
        }
        return try ScoredDecision(result: champion.score(values), modelVersion: champion.modelVersion,
                                  validityDays: champion.decisionValidityDays, shadow: shadow, sources: sources)
    }
}

extension Store {
    /// Readies a chunk of review rows on a reader, beside the writer: each row's account as it
    /// is now, and its score. Rows that cannot be scored here are scored in the write.
    public func prepareReviewRows(_ rows: [PortfolioUpload.Row?], settings: PortfolioReviewSettings) async throws
        -> [PreparedReviewRow]
    {
        let now = time.now()
        return try await read { db in
            try rows.map { row in
                var prepared = PreparedReviewRow(row: row)
                guard let row, let account = try Self.fetchAccount(db, id: row.accountID) else { return prepared }
                prepared.scored = try PreparedReviewRow.score(row, account: account, settings: settings, db, now: now)
                prepared.accountVersion = account.version
                prepared.day = CivilDate(now)
                return prepared
            }
        }
    }
}

/// An operator offers a line more than it has (README "Activation, reviews and limits"): the
/// customer takes it or leaves it, as a periodic review's offer; nothing changes until they do.
public struct MakeLimitOffer: BusinessWrite {
    public var accountID: String
    public var offeredLimit: Int
    /// From the closed list (`ReasonCodes`); a person's words go in `note`, outside the chain.
    public var reasonCode: String
    public var note: String?
    public var policy: LimitPolicy
    public var actorKeyID: String

    public init(accountID: String, offeredLimit: Int, reasonCode: String, note: String?, policy: LimitPolicy,
                actorKeyID: String)
    {
        (self.accountID, self.offeredLimit, self.reasonCode, self.note) = (accountID, offeredLimit, reasonCode, note)
        (self.policy, self.actorKeyID) = (policy, actorKeyID)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (LimitOffer, [AuditRecord]) {
        let account = try Store.fetchAccount(db, id: accountID)
        try LimitOffers.checkOperatorOffer(accountStatus: account?.status, currentLimit: account?.creditLimit ?? 0,
                                           offered: offeredLimit, maxLimit: policy.maxLimit)
        let line = try Existence.require(account, "account")
        // An offer the increase rules would refuse today is not made: accepting runs them again
        // (the same request), and the customer should not be shown what they cannot take.
        do {
            _ = try policy.evaluate(LimitPolicy.Request(newLimit: offeredLimit, initiatedBy: .system, customerAccepted: true),
                                    state: try Store.limitState(db, line, now: now), now: now)
        } catch let error as DomainError where error.field == "new_limit" {
            var named = error
            named.field = "offered_limit"
            throw named
        }
        let decisionID = try Existence.require(line.decisionID, "decision")
        let (id, made) = try Store.makeOffer(db, account: line, limit: offeredLimit, reviewID: nil, decisionID: decisionID,
                                             reasonCode: reasonCode, madeBy: actorKeyID, hasNote: note != nil, now: now)
        try Store.addNote(db, accountID: accountID, subjectID: id, kind: "operator_action", text: note, now: now)
        return (try Existence.require(try Store.fetchOffer(db, id: id), "limit offer"), [made])
    }
}

/// The customer takes an offer: the increase rules are run again as they stand now, and only
/// then is the limit raised (README "Periodic review").
public struct AcceptLimitOffer: BusinessWrite {
    public var accountID: String
    public var offerID: String
    /// Taking an offer is the customer's act: it needs their confirmation.
    public var confirmation: CustomerConfirmation?
    public var policy: LimitPolicy
    public var actorKeyID: String

    public init(accountID: String, offerID: String, confirmation: CustomerConfirmation?, policy: LimitPolicy,
                actorKeyID: String)
    {
        (self.accountID, self.offerID, self.confirmation) = (accountID, offerID, confirmation)
        (self.policy, self.actorKeyID) = (policy, actorKeyID)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> ((LimitOffer, Account), [AuditRecord]) {
        try CustomerConfirmation.require(confirmation, customerInitiated: true)
        let offer = try Store.fetchOffer(db, id: offerID).flatMap { $0.accountID == accountID ? $0 : nil }
        try LimitOffers.checkAcceptable(stored: offer?.storedStatus, expiresAt: offer?.expiresAt, now: now)
        var accepted = try Existence.require(offer, "limit offer")
        let account = try Existence.require(try Store.fetchAccount(db, id: accountID), "account")
        let request = LimitPolicy.Request(newLimit: accepted.offeredLimit, initiatedBy: .system, customerAccepted: true)
        let state = try Store.limitState(db, account, now: now)
        let direction = try policy.evaluate(request, state: state, now: now)
        var (adjustment, saved, event) = try Store.recordLimitChange(
            db, account, request: request, direction: direction, reasonCode: "limit_offer", actor: actorKeyID, now: now,
            cause: .limitOffer(offerID: offerID))
        event.affordableLimit = policy.affordableCap(direction, state: state, now: now)
        let record = AuditRecord(event, accountID: accountID, adjustmentID: adjustment.id)
        let evidence = try Store.recordConfirmation(db, accountID: accountID, subjectID: offerID, confirmation, now: now)
        try db.execute(cached: "UPDATE limit_offers SET status = 'accepted', accepted_at = ? WHERE id = ?",
                       arguments: [now.rfc3339, offerID])
        accepted.storedStatus = .accepted
        accepted.acceptedAt = now
        return ((accepted, saved), [record, AuditRecord(.fact(.limitOfferAccepted(
            adjustmentID: adjustment.id, newLimit: accepted.offeredLimit, confirmation: evidence)),
            accountID: accountID, subjectID: offerID)])
    }
}

/// An offer as recorded; its status reads `expired` once it lapsed unaccepted.
public struct LimitOffer: Sendable, Equatable {
    public var id: String
    public var accountID: String
    /// The periodic review that made it; nil for an operator's offer, which has a reason code.
    public var reviewID: String?
    public var reasonCode: String?
    public var decisionID: String
    public var currentLimit: Int
    public var offeredLimit: Int
    public var storedStatus: LimitOffers.Status
    public var createdAt: Timestamp
    public var expiresAt: Timestamp
    public var acceptedAt: Timestamp?

    public func status(at now: Timestamp) -> LimitOffers.Status {
        LimitOffers.status(stored: storedStatus, expiresAt: expiresAt, now: now)
    }
}

extension Store {
    /// A new offer replaces any open one: the customer sees one offer, the latest. Made by a
    /// periodic review (`reviewID`) or by an operator (`madeBy`, with a reason code).
    static func makeOffer(_ db: SQLConnection, account: Account, limit: Int, reviewID: String?, decisionID: String,
                          reasonCode: String? = nil, madeBy: String? = nil, hasNote: Bool? = nil,
                          now: Timestamp) throws -> (String, AuditRecord)
    {
        try db.execute(cached: "UPDATE limit_offers SET status = 'superseded' WHERE account_id = ? AND status = 'open'",
                       arguments: [account.id])
        let id = Identifier.make("lof")
        let expires = now.adding(days: LimitOffers.validityDays)
        try db.execute(
            cached: """
                INSERT INTO limit_offers (id, account_id, review_id, decision_id, current_limit, offered_limit, status,
                                          created_at, expires_at, reason_code, made_by)
                VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)
                """,
            arguments: [id, account.id, reviewID, decisionID, account.creditLimit, limit, now.rfc3339, expires.rfc3339,
                        reasonCode, madeBy])
        return (id, AuditRecord(.limitOfferCreated(LimitOfferCreated(
            decisionID: decisionID, currentLimit: account.creditLimit, offeredLimit: limit, expiresAt: expires,
            portfolioReviewID: reviewID, reasonCode: reasonCode, hasNote: hasNote)), accountID: account.id, subjectID: id))
    }

    /// The instalments due in the last year, each with the day it was settled (the last
    /// repayment that completed it), for the behaviour characteristics.
    static func behaviourRecords(_ db: SQLConnection, accountID: String, now: Timestamp) throws -> [LedgerBehaviour.Record] {
        let today = CivilDate(now)
        let rows = try StoreRow.fetchAll(db, cached: """
            SELECT i.due_on,
                   CASE WHEN i.principal_paid = i.principal AND i.fee_paid + i.fee_waived = i.fee THEN
                       coalesce((SELECT max(r.received_at) FROM repayment_allocations a
                                 JOIN repayments r ON r.id = a.repayment_id WHERE a.instalment_id = i.id),
                                i.due_on || 'T00:00:00Z')
                   END AS settled_at
            FROM instalments i WHERE i.account_id = ? AND i.due_on > ? AND i.due_on < ?
            """, arguments: [accountID, today.adding(days: -365).description, today.description])
        return try rows.map { row in
            // A date that does not read stops the review's row (it is reported as failed) rather
            // than counting as an instalment never settled.
            guard let due = CivilDate(try row["due_on"] as String? ?? "") else {
                throw StoreError.unreadableRow(table: "instalments", column: "due_on", id: accountID)
            }
            let settled = try (row["settled_at"] as String?).map { text in
                guard let time = Timestamp(rfc3339: text) else {
                    throw StoreError.unreadableRow(table: "repayments", column: "received_at", id: accountID)
                }
                return CivilDate(time)
            }
            return LedgerBehaviour.Record(due: due, settledOn: settled)
        }
    }

    static func fetchOffer(_ db: SQLConnection, id: String) throws -> LimitOffer? {
        try StoreRow.fetchOne(db, cached: "SELECT \(Store.offerColumns.list) FROM limit_offers WHERE id = ?", arguments: [id]).map(offer(from:))
    }

    static func offer(from row: StoreRow) throws -> LimitOffer {
        var read = ColumnReader(row, table: "limit_offers")
        return LimitOffer(
            id: try read("id"), accountID: try read("account_id"), reviewID: try read("review_id"), reasonCode: try read("reason_code"),
            decisionID: try read("decision_id"),
            currentLimit: try read("current_limit"), offeredLimit: try read("offered_limit"), storedStatus: try read.value("status"),
            createdAt: try read.timestamp("created_at"), expiresAt: try read.timestamp("expires_at"),
            acceptedAt: try read.optionalTimestamp("accepted_at"))
    }

    static let offerColumns = TableColumns("limit_offers", """
        id, account_id, review_id, reason_code, decision_id, current_limit, offered_limit, status, created_at,
        expires_at, accepted_at
        """)

    public func limitOffers(accountID: String) async throws -> [LimitOffer] {
        try await read { db in
            try StoreRow.fetchAll(db, cached: "SELECT \(Store.offerColumns.list) FROM limit_offers WHERE account_id = ? ORDER BY created_at DESC, id DESC",
                             arguments: [accountID]).map(Self.offer(from:))
        }
    }

    public func portfolioReview(id: String) async throws -> PortfolioReviewRecord? {
        try await read { db in
            try StoreRow.fetchOne(db, cached: "SELECT \(Store.portfolioReviewColumns.list) FROM portfolio_reviews WHERE id = ?", arguments: [id])
                .map(Self.portfolioReview(from:))
        }
    }

    static func portfolioReview(from row: StoreRow) throws -> PortfolioReviewRecord {
        var read = ColumnReader(row, table: "portfolio_reviews")
        return PortfolioReviewRecord(
            id: try read("id"), scope: try read("scope"), status: try read.value("status"), rowsTotal: try read("rows_total"),
            rowsDone: try read("rows_done"), summary: try read.json("summary", as: PortfolioSummary.self),
            modelVersion: try read("model_version"), createdAt: try read.timestamp("created_at"),
            completedAt: try read.optionalTimestamp("completed_at"))
    }

    static let portfolioReviewColumns = TableColumns("portfolio_reviews", """
        id, scope, status, rows_total, rows_done, summary, model_version, created_at, completed_at
        """)
}
