import CreditLine
import Crypto
import Foundation
import GRDB

public enum Hashing {
    public static func sha256Hex(_ data: Data) -> String { SHA256.hash(data: data).hex }
}

/// Records a decision the scorecard made, after re-checking inside the transaction that the
/// account still has an active `credit_assessment` consent (a withdrawal racing the request wins).
public struct ScoreAccount: BusinessWrite {
    public var accountID: String
    /// Its rule reads and changes this account's rows alone (`BusinessWrite.chainAccountID`).
    public var chainAccountID: String? { accountID }
    public var scored: ScoredDecision

    public init(accountID: String, result: Scorecard.Result, modelVersion: String, validityDays: Int,
                shadow: (modelVersion: String, result: Scorecard.Result)? = nil) throws
    {
        self.accountID = accountID
        scored = try ScoredDecision(result: result, modelVersion: modelVersion, validityDays: validityDays, shadow: shadow)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (Decision, [AuditRecord]) {
        try Store.checkScoringEligibility(db, accountID: accountID, now: now)
        let (decision, record) = try scored.insert(db, accountID: accountID, now: now)
        return (decision, [record])
    }
}

/// A score ready to be recorded: what follows from the result alone is worked out before the
/// write, on the request's own thread, so that the one writer spends its time on the rows
/// (docs/architecture.md, "The write path").
public struct ScoredDecision: Sendable {
    public var result: Scorecard.Result
    public var modelVersion: String
    public var validityDays: Int
    /// The challenger's score of the same inputs: stored, deciding nothing, never answered.
    public var shadow: (modelVersion: String, result: Scorecard.Result)?
    let explanation: [Decision.ExplanationRow]
    let inputsSHA256: String
    let reasonsText: String
    let explanationText: String

    /// `sources`: for a periodic review, where each characteristic's value came from.
    public init(result: Scorecard.Result, modelVersion: String, validityDays: Int,
                shadow: (modelVersion: String, result: Scorecard.Result)? = nil, sources: [String: String] = [:]) throws
    {
        self.result = result
        self.modelVersion = modelVersion
        self.validityDays = validityDays
        self.shadow = shadow
        explanation = result.contributions.map {
            Decision.ExplanationRow(characteristic: $0.characteristic, bin: $0.bin, points: $0.points,
                                    maxPoints: $0.maxPoints, source: sources[$0.characteristic])
        }
        inputsSHA256 = Hashing.sha256Hex(Data(result.canonicalInputs.utf8))
        // Written out with the keys in order rather than through JSONEncoder: the same JSON that
        // decodes to the same values, several times faster, and a periodic review writes one of
        // these per row.
        var reasons = JSONBytes(capacity: 128 * result.reasons.count + 2)
        Scorecard.Reason.write(result.reasons, into: &reasons)
        reasonsText = String(decoding: reasons.bytes, as: UTF8.self)
        var rows = JSONBytes(capacity: 96 * explanation.count + 2)
        rows.beginArray()
        for row in explanation {
            rows.beginObject()
            rows.key("bin"); rows.string(row.bin)
            rows.key("characteristic"); rows.string(row.characteristic)
            rows.key("max_points"); rows.int(row.maxPoints)
            rows.key("points"); rows.int(row.points)
            if let source = row.source { rows.key("source"); rows.string(source) }
            rows.endObject()
        }
        rows.endArray()
        explanationText = String(decoding: rows.bytes, as: UTF8.self)
    }

    /// Writes the decision row and returns it with its audit entry (`extra` joins the entry's
    /// detail: a periodic review's id).
    func insert(_ db: SQLConnection, accountID: String, now: Timestamp, reviewID: String? = nil) throws
        -> (Decision, AuditRecord)
    {
        let decision = Decision(
            id: Identifier.make("dec"), accountID: accountID, score: result.score, tier: result.tier,
            outcome: result.outcome, recommendedLimit: result.recommendedLimit, reasons: result.reasons,
            modelVersion: modelVersion, inputs: result.canonicalInputs, inputsSHA256: inputsSHA256,
            explanation: explanation, scoredAt: now, expiresAt: now.adding(days: validityDays))
        try db.enqueue(
            cached: """
                INSERT INTO decisions (id, account_id, score, tier, outcome, recommended_limit, reasons, explanation,
                                       model_version, inputs, inputs_sha256, scored_at, expires_at,
                                       challenger_model_version, challenger_score, challenger_tier, challenger_outcome,
                                       portfolio_review_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [decision.id, accountID, decision.score, decision.tier.rawValue, decision.outcome.rawValue,
                        decision.recommendedLimit, reasonsText, explanationText,
                        modelVersion, decision.inputs, decision.inputsSHA256, now.rfc3339, decision.expiresAt.rfc3339,
                        shadow?.modelVersion, shadow?.result.score, shadow?.result.tier.rawValue,
                        shadow?.result.outcome.rawValue, reviewID])
        // The record of the decision, never its inputs: the log cannot be erased, the inputs
        // must be when consent goes (PIPL Art. 47; README "Scoring").
        return (decision, AuditRecord(.fact(.decisionScored(
            modelVersion: modelVersion, score: decision.score, tier: decision.tier, outcome: decision.outcome,
            recommendedLimit: decision.recommendedLimit, reasonCodes: decision.reasons.map(\.code),
            inputsSHA256: decision.inputsSHA256, portfolioReviewID: reviewID)), accountID: accountID, subjectID: decision.id))
    }
}

/// A customer's request that a person look at an automated decision (PIPL Art. 24).
public struct RequestReview: BusinessWrite {
    public var decisionID: String
    public var statement: String?

    public init(decisionID: String, statement: String?) {
        self.decisionID = decisionID
        self.statement = statement
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (Review, [AuditRecord]) {
        let open = try String.fetchOne(
            db, cached: "SELECT id FROM reviews WHERE decision_id = ? AND kind = 'contest' AND status = 'open'",
            arguments: [decisionID])
        let decision = try ReviewRules.checkContest(decision: try Store.fetchDecision(db, id: decisionID),
                                                    openContestID: open)
        let review = Review(id: Identifier.make("rev"), kind: .contest, status: .open, accountID: decision.accountID,
                            decisionID: decisionID, statement: statement, createdAt: now)
        try db.execute(
            cached: """
                INSERT INTO reviews (id, kind, status, account_id, decision_id, statement, created_at)
                VALUES (?, 'contest', 'open', ?, ?, ?, ?)
                """,
            arguments: [review.id, review.accountID, decisionID, statement, now.rfc3339])
        return (review, [AuditRecord(.fact(.reviewRequested(kind: .contest, decisionID: decisionID,
                                                            hasStatement: statement != nil)),
                                     accountID: decision.accountID, subjectID: review.id)])
    }
}

extension Store {
    public func decision(id: String) async throws -> Decision? {
        try await read { db in try Self.fetchDecision(db, id: id) }
    }

    /// Asks `ScoringEligibility` whether the account may be scored now; the route asks before it
    /// reads the features, and `ScoreAccount` asks again inside its transaction.
    public func checkScoringEligibility(accountID: String, at now: Timestamp) async throws {
        try await read { db in try Self.checkScoringEligibility(db, accountID: accountID, now: now) }
    }

    static func checkScoringEligibility(_ db: SQLConnection, accountID: String, now: Timestamp) throws {
        let (status, consented) = try accountStatus(db, id: accountID, consent: .creditAssessment, now: now)
        try ScoringEligibility.check(accountStatus: status, assessmentConsentActive: consented)
    }

    static func fetchDecision(_ db: SQLConnection, id: String) throws -> Decision? {
        guard let row = try StoreRow.fetchOne(db, cached: "SELECT \(Store.decisionColumns.list) FROM decisions WHERE id = ?", arguments: [id]) else { return nil }
        return try decision(from: row)
    }

    static func decision(from row: StoreRow) throws -> Decision {
        var read = ColumnReader(row, table: "decisions")
        return Decision(
            id: try read("id"), accountID: try read("account_id"), score: try read("score"), tier: try read.value("tier"),
            outcome: try read.value("outcome"), recommendedLimit: try read("recommended_limit"),
            reasons: try read.json("reasons", as: [Scorecard.Reason].self), modelVersion: try read("model_version"),
            inputs: try read("inputs"), inputsSHA256: try read("inputs_sha256"),
            explanation: try read.json("explanation", as: [Decision.ExplanationRow].self),
            scoredAt: try read.timestamp("scored_at"), expiresAt: try read.timestamp("expires_at"))
    }

    static let decisionColumns = TableColumns("decisions", """
        id, account_id, score, tier, outcome, recommended_limit, reasons, model_version, inputs, inputs_sha256,
        explanation, scored_at, expires_at
        """)
}
