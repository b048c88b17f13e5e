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
    public var result: Scorecard.Result
    public var modelVersion: String
    public var validityDays: Int

    public init(accountID: String, result: Scorecard.Result, modelVersion: String, validityDays: Int) {
        self.accountID = accountID
        self.result = result
        self.modelVersion = modelVersion
        self.validityDays = validityDays
    }

    public func apply(_ db: Database, now: Timestamp) throws -> (Decision, [AuditRecord]) {
        try Store.requireScoringConsent(db, accountID: accountID, now: now)
        let decision = Decision(
            id: Identifier.make("dec"), accountID: accountID, score: result.score, tier: result.tier,
            outcome: result.outcome, recommendedLimit: result.recommendedLimit, reasons: result.reasons,
            modelVersion: modelVersion, inputs: result.canonicalInputs,
            inputsSHA256: Hashing.sha256Hex(Data(result.canonicalInputs.utf8)),
            explanation: result.contributions.map {
                Decision.ExplanationRow(characteristic: $0.characteristic, bin: $0.bin, points: $0.points, maxPoints: $0.maxPoints)
            },
            scoredAt: now, expiresAt: now.adding(days: validityDays))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try db.execute(
            sql: """
                INSERT INTO decisions (id, account_id, score, tier, outcome, recommended_limit, reasons, explanation,
                                       model_version, inputs, inputs_sha256, scored_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [decision.id, accountID, decision.score, decision.tier, decision.outcome, decision.recommendedLimit,
                        String(decoding: try encoder.encode(decision.reasons), as: UTF8.self),
                        String(decoding: try encoder.encode(decision.explanation), as: UTF8.self),
                        modelVersion, decision.inputs, decision.inputsSHA256, now.rfc3339, decision.expiresAt.rfc3339])
        // The record of the decision, never its inputs (SPEC: no raw inputs in the log).
        return (decision, [AuditRecord(.decisionScored, accountID: accountID, subjectID: decision.id, detail: [
            "model_version": .string(modelVersion), "score": .int(decision.score), "tier": .string(decision.tier),
            "outcome": .string(decision.outcome), "recommended_limit": .int(decision.recommendedLimit),
            "reason_codes": .array(decision.reasons.map { .string($0.code) }),
            "inputs_sha256": .string(decision.inputsSHA256),
        ])])
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

    public func apply(_ db: Database, now: Timestamp) throws -> (Review, [AuditRecord]) {
        guard let decision = try Store.fetchDecision(db, id: decisionID) else { throw DomainError.notFound("decision") }
        if let open = try String.fetchOne(
            db, sql: "SELECT id FROM reviews WHERE decision_id = ? AND kind = 'contest' AND status = 'open'",
            arguments: [decisionID])
        {
            throw DomainError(.conflict, code: "review-already-open", "Review \(open) of this decision is already open.")
        }
        let review = Review(id: Identifier.make("rev"), kind: .contest, status: .open, accountID: decision.accountID,
                            decisionID: decisionID, statement: statement, createdAt: now)
        try db.execute(
            sql: """
                INSERT INTO reviews (id, kind, status, account_id, decision_id, statement, created_at)
                VALUES (?, 'contest', 'open', ?, ?, ?, ?)
                """,
            arguments: [review.id, review.accountID, decisionID, statement, now.rfc3339])
        return (review, [AuditRecord(.reviewRequested, accountID: decision.accountID, subjectID: review.id, detail: [
            "kind": "contest", "decision_id": .string(decisionID), "has_statement": .bool(statement != nil),
        ])])
    }
}

extension Store {
    public func decision(id: String) async throws -> Decision? {
        try await pool.read { db in try Self.fetchDecision(db, id: id) }
    }

    /// Throws 409 `consent-required` unless `credit_assessment` consent is in force now
    /// (Credit Reporting Industry Regulation Art. 13, 18: consent before assessing credit).
    public func requireScoringConsent(accountID: String) async throws {
        let now = time.now()
        try await pool.read { db in try Self.requireScoringConsent(db, accountID: accountID, now: now) }
    }

    static func requireScoringConsent(_ db: Database, accountID: String, now: Timestamp) throws {
        guard let account = try fetchAccount(db, id: accountID) else { throw DomainError.notFound("account") }
        guard account.status != .closed else {
            throw DomainError(.conflict, code: "account-closed", "A closed account is not scored.")
        }
        guard try hasActiveConsent(db, accountID: accountID, purpose: .creditAssessment, now: now) else {
            throw DomainError(.conflict, code: "consent-required",
                              "Scoring needs an active credit_assessment consent for this account.")
        }
    }

    static func fetchDecision(_ db: Database, id: String) throws -> Decision? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM decisions WHERE id = ?", arguments: [id]) else { return nil }
        let decoder = JSONDecoder()
        let reasons = (try? decoder.decode([Scorecard.Reason].self, from: Data((row["reasons"] as String).utf8))) ?? []
        let explanation = (try? decoder.decode([Decision.ExplanationRow].self,
                                               from: Data((row["explanation"] as String).utf8))) ?? []
        return Decision(
            id: row["id"], accountID: row["account_id"], score: row["score"], tier: row["tier"], outcome: row["outcome"],
            recommendedLimit: row["recommended_limit"], reasons: reasons, modelVersion: row["model_version"],
            inputs: row["inputs"], inputsSHA256: row["inputs_sha256"], explanation: explanation,
            scoredAt: Timestamp(rfc3339: row["scored_at"]) ?? Timestamp(milliseconds: 0),
            expiresAt: Timestamp(rfc3339: row["expires_at"]) ?? Timestamp(milliseconds: 0))
    }
}
