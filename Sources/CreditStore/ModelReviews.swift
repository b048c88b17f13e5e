import CreditLine
import Foundation
import GRDB

/// A model review as recorded.
public struct ModelReview: Sendable, Equatable {
    public var id: String
    public var version: String
    public var modelVersion: String
    public var outcome: ModelReviewRules.Outcome
    public var findings: String?
    public var validUntil: Timestamp
    public var reviewedBy: String
    public var createdAt: Timestamp

    public func isInForce(at now: Timestamp) -> Bool { outcome == .approved && now < validUntil }
}

/// The risk team's review of a model: its findings stay in the table, the chain records the
/// outcome and until when it holds (README "Periodic review").
public struct RecordModelReview: BusinessWrite {
    public var version: String
    public var modelVersion: String
    public var outcome: ModelReviewRules.Outcome
    public var findings: String?
    public var validUntil: Timestamp
    public var reviewer: String

    public init(version: String, modelVersion: String, outcome: ModelReviewRules.Outcome, findings: String?,
                validUntil: Timestamp, reviewer: String)
    {
        self.version = version
        self.modelVersion = modelVersion
        self.outcome = outcome
        self.findings = findings
        self.validUntil = validUntil
        self.reviewer = reviewer
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (ModelReview, [AuditRecord]) {
        try ModelReviewRules.checkValidUntil(validUntil, now: now)
        let review = ModelReview(id: Identifier.make("mrv"), version: version, modelVersion: modelVersion, outcome: outcome,
                                 findings: findings, validUntil: validUntil, reviewedBy: reviewer, createdAt: now)
        try db.execute(
            cached: """
                INSERT INTO model_reviews (id, version, model_version, outcome, findings, valid_until, reviewed_by, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [review.id, version, modelVersion, outcome.rawValue, findings, validUntil.rfc3339, reviewer,
                        now.rfc3339])
        return (review, [AuditRecord(.service(.modelReviewed(
            version: version, modelVersion: modelVersion, outcome: outcome, validUntil: validUntil,
            hasFindings: findings != nil)), subjectID: review.id)])
    }
}

extension Store {
    /// For `serve --demo` and test services only: the champion approved for a year, unless an
    /// approved review is already in force, so that the demo journey can activate a line.
    public func ensureModelReviewed(_ scorecard: Scorecard, by reviewer: String) throws {
        let now = time.now()
        let latest = try database.read { db in try Self.fetchLatestModelReview(db, modelVersion: scorecard.modelVersion) }
        guard latest?.isInForce(at: now) != true else { return }
        _ = try performNow(RecordModelReview(
            version: scorecard.version, modelVersion: scorecard.modelVersion, outcome: .approved,
            findings: "Approved for the demonstration only.", validUntil: now.adding(days: 365), reviewer: reviewer),
            by: .cli(reviewer))
    }

    /// The latest review of a model (by its hash-qualified version): the one the gate reads.
    static func latestModelReview(_ db: SQLConnection, modelVersion: String) throws -> ModelReviewGate.Review? {
        try fetchLatestModelReview(db, modelVersion: modelVersion).map {
            ModelReviewGate.Review(approved: $0.outcome == .approved, validUntil: $0.validUntil)
        }
    }

    static func fetchLatestModelReview(_ db: SQLConnection, modelVersion: String) throws -> ModelReview? {
        try StoreRow.fetchOne(db, cached: """
            SELECT \(Store.modelReviewColumns.list) FROM model_reviews WHERE model_version = ? ORDER BY created_at DESC, id DESC LIMIT 1
            """, arguments: [modelVersion]).map(modelReview(from:))
    }

    /// The latest review of each of these models, by hash-qualified version.
    public func latestModelReviews(modelVersions: [String]) async throws -> [String: ModelReview] {
        try await read { db in
            var found: [String: ModelReview] = [:]
            for version in modelVersions {
                found[version] = try Self.fetchLatestModelReview(db, modelVersion: version)
            }
            return found
        }
    }

    static func modelReview(from row: StoreRow) throws -> ModelReview {
        var read = ColumnReader(row, table: "model_reviews")
        return ModelReview(
            id: try read("id"), version: try read("version"), modelVersion: try read("model_version"), outcome: try read.value("outcome"),
            findings: try read("findings"), validUntil: try read.timestamp("valid_until"), reviewedBy: try read("reviewed_by"),
            createdAt: try read.timestamp("created_at"))
    }

    static let modelReviewColumns = TableColumns("model_reviews", """
        id, version, model_version, outcome, findings, valid_until, reviewed_by, created_at
        """)

    /// What the stability report counts, from the decisions scored in `[from, to)` by this
    /// scorecard, as champion or, in shadow, as challenger (README "Periodic review"); of a
    /// tenant's accounts only for a tenant's scope, since the distribution of one lender's
    /// customers is that lender's.
    public func stabilityCounts(of scorecard: Scorecard, from: Timestamp, to: Timestamp, scope: TenantScope = .all)
        async throws -> StabilityCounts
    {
        try await read { db in
            var counts = StabilityCounts(scorecard: scorecard)
            let decoder = JSONDecoder()
            let champion = try StoreRow.fetchCursor(db, sql: """
                SELECT score, outcome, inputs, challenger_outcome FROM decisions
                WHERE model_version = ? AND scored_at >= ? AND scored_at < ?
                  AND (CAST(? AS TEXT) IS NULL OR account_id IN (SELECT id FROM accounts WHERE tenant = ?))
                """, arguments: [scorecard.modelVersion, from.rfc3339, to.rfc3339, scope.tenant, scope.tenant])
            while let row = try champion.next() {
                let inputs: String? = try row["inputs"]
                counts.add(score: try row["score"], outcome: try TypedRow(row, table: "decisions").value("outcome"),
                           inputs: inputs.flatMap { try? decoder.decode([String: FeatureInput].self, from: Data($0.utf8)) },
                           other: (try row["challenger_outcome"] as String?).flatMap(Decision.Outcome.init(rawValue:)),
                           asChallenger: false)
            }
            let shadow = try StoreRow.fetchCursor(db, sql: """
                SELECT challenger_score, challenger_outcome, inputs, outcome FROM decisions
                WHERE challenger_model_version = ? AND challenger_score IS NOT NULL AND scored_at >= ? AND scored_at < ?
                  AND (CAST(? AS TEXT) IS NULL OR account_id IN (SELECT id FROM accounts WHERE tenant = ?))
                """, arguments: [scorecard.modelVersion, from.rfc3339, to.rfc3339, scope.tenant, scope.tenant])
            while let row = try shadow.next() {
                let inputs: String? = try row["inputs"]
                guard let outcome = (try row["challenger_outcome"] as String?).flatMap(Decision.Outcome.init(rawValue:)) else {
                    continue
                }
                counts.add(score: try row["challenger_score"], outcome: outcome,
                           inputs: inputs.flatMap { try? decoder.decode([String: FeatureInput].self, from: Data($0.utf8)) },
                           other: (try row["outcome"] as String?).flatMap(Decision.Outcome.init(rawValue:)), asChallenger: true)
            }
            return counts
        }
    }
}
