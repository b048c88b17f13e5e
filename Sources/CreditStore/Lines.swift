import CreditLine
import Foundation
import GRDB

/// The answer to an activation request.
public struct ActivationResult: Sendable {
    public var outcome: Activation.Outcome
    public var account: Account
    public var reasons: [Scorecard.Reason]
    public var reviewID: String?
}

/// Activation, decided by `Activation.decide` against the rows as they are inside the write
/// transaction, so two racing activations cannot both open a line.
public struct ActivateAccount: BusinessWrite {
    public var accountID: String
    public var consentID: String
    public var decisionID: String
    public var termsVersion: String
    public var requestedLimit: Int?
    public var terms: Terms
    public var policy: LimitPolicy

    public init(accountID: String, consentID: String, decisionID: String, termsVersion: String, requestedLimit: Int?,
                terms: Terms, policy: LimitPolicy)
    {
        self.accountID = accountID
        self.consentID = consentID
        self.decisionID = decisionID
        self.termsVersion = termsVersion
        self.requestedLimit = requestedLimit
        self.terms = terms
        self.policy = policy
    }

    public func apply(_ db: Database, now: Timestamp) throws -> (ActivationResult, [AuditRecord]) {
        guard var account = try Store.fetchAccount(db, id: accountID) else { throw DomainError.notFound("account") }
        let consent = try Store.fetchConsent(db, id: consentID).flatMap { $0.accountID == accountID ? $0 : nil }
        let decision = try Store.fetchDecision(db, id: decisionID).flatMap { $0.accountID == accountID ? $0 : nil }
        let facts = Activation.Facts(
            accountStatus: account.status, declinedAt: account.declinedAt, consent: consent,
            assessmentConsentActive: try Store.hasActiveConsent(db, accountID: accountID, purpose: .creditAssessment, now: now),
            decision: decision, termsVersion: termsVersion, currentTermsVersion: terms.version, requestedLimit: requestedLimit)
        let outcome = try Activation.decide(facts, policy: policy, now: now)
        guard let decision else { throw DomainError.notFound("decision") }
        let from = account.status
        account.status = try AccountStateMachine.transition(from: from, to: outcome.status, cause: .activation,
                                                            actor: .service)
        account.termsVersion = termsVersion
        account.tier = decision.tier
        account.consentID = consentID
        account.decisionID = decisionID
        var records: [AuditRecord] = []
        var reviewID: String?
        let common: [String: JSONValue] = [
            "from": .string(from.rawValue), "tier": .string(decision.tier), "decision_id": .string(decisionID),
            "consent_id": .string(consentID), "terms_version": .string(termsVersion),
        ]
        switch outcome {
        case .activated(let limit):
            account.creditLimit = limit
            account.terms = terms.tiers[decision.tier]
            records.append(AuditRecord(.accountActivated, accountID: accountID, subjectID: accountID,
                                       detail: common.merging(["credit_limit": .int(limit)]) { $1 }))
        case .pendingReview:
            account.creditLimit = 0
            let id = Identifier.make("rev")
            reviewID = id
            try db.execute(
                sql: """
                    INSERT INTO reviews (id, kind, status, account_id, decision_id, created_at)
                    VALUES (?, 'activation', 'open', ?, ?, ?)
                    """,
                arguments: [id, accountID, decisionID, now.rfc3339])
            records.append(AuditRecord(.accountPendingReview, accountID: accountID, subjectID: accountID,
                                       detail: common.merging(["review_id": .string(id)]) { $1 }))
            records.append(AuditRecord(.reviewRequested, accountID: accountID, subjectID: id,
                                       detail: ["kind": "activation", "decision_id": .string(decisionID)]))
        case .declined:
            account.creditLimit = 0
            account.declinedAt = now
            records.append(AuditRecord(.accountDeclined, accountID: accountID, subjectID: accountID, detail: common.merging([
                "reason_codes": .array(decision.reasons.map { .string($0.code) }),
            ]) { $1 }))
        }
        account = try Store.save(db, account, now: now)
        return (ActivationResult(outcome: outcome, account: account, reasons: decision.reasons, reviewID: reviewID), records)
    }
}

/// A review as the queue shows it.
public struct ReviewRecord: Sendable, Equatable {
    public var review: Review
    public var resolvedAt: Timestamp?
    public var resolution: String?
    public var firstApprover: String?
    public var firstApprovedLimit: Int?

    public init(review: Review, resolvedAt: Timestamp? = nil, resolution: String? = nil, firstApprover: String? = nil,
                firstApprovedLimit: Int? = nil)
    {
        self.review = review
        self.resolvedAt = resolvedAt
        self.resolution = resolution
        self.firstApprover = firstApprover
        self.firstApprovedLimit = firstApprovedLimit
    }
}

/// An operator's decision on a review. Approving an activation above the tier-D recommendation
/// takes two operators (four eyes): the first approval is recorded, and a different key must
/// approve the same limit to resolve it.
public struct ResolveReview: BusinessWrite {
    public enum Result: Sendable, Equatable {
        case resolved(ReviewRecord, Account?)
        case awaitingSecondApproval(ReviewRecord)
    }

    public var reviewID: String
    public var approve: Bool
    public var creditLimit: Int?
    public var note: String
    public var operatorKeyID: String
    public var terms: Terms
    public var policy: LimitPolicy
    /// Tier D's recommended limit: the most one operator may grant alone.
    public var singleApproverLimit: Int

    public init(reviewID: String, approve: Bool, creditLimit: Int?, note: String, operatorKeyID: String, terms: Terms,
                policy: LimitPolicy, singleApproverLimit: Int)
    {
        self.reviewID = reviewID
        self.approve = approve
        self.creditLimit = creditLimit
        self.note = note
        self.operatorKeyID = operatorKeyID
        self.terms = terms
        self.policy = policy
        self.singleApproverLimit = singleApproverLimit
    }

    public func apply(_ db: Database, now: Timestamp) throws -> (Result, [AuditRecord]) {
        guard var record = try Store.fetchReview(db, id: reviewID) else { throw DomainError.notFound("review") }
        switch record.review.status {
        case .cancelled:
            throw DomainError(.conflict, code: "review-cancelled", "This review was cancelled and cannot be resolved.")
        case .resolved:
            throw DomainError(.conflict, code: "review-resolved", "This review is already resolved.")
        case .open:
            break
        }
        let resolution = String(decoding: try JSONEncoder().encode(["approve": approve ? "true" : "false", "note": note]),
                                as: UTF8.self)
        guard record.review.kind == .activation else {
            try markResolved(db, now: now, resolution: resolution)
            record = try Store.fetchReview(db, id: reviewID) ?? record
            return (.resolved(record, nil), [AuditRecord(.reviewResolved, accountID: record.review.accountID,
                                                          subjectID: reviewID, detail: [
                "kind": "contest", "outcome": .string(approve ? "upheld" : "rejected"),
                "decision_id": .string(record.review.decisionID),
            ])])
        }
        guard var account = try Store.fetchAccount(db, id: record.review.accountID) else {
            throw DomainError.notFound("account")
        }
        // A review whose credit_line consent was withdrawn is cancelled, never resolved.
        guard let consentID = account.consentID, let consent = try Store.fetchConsent(db, id: consentID),
            consent.isActive(at: now)
        else {
            throw DomainError(.conflict, code: "review-cancelled", "The customer's credit_line consent is no longer active.")
        }
        let from = account.status
        var records: [AuditRecord] = []
        if approve {
            let limit = creditLimit ?? singleApproverLimit
            guard limit >= 0 else {
                throw DomainError(.invalid, code: "invalid-amount", "credit_limit must be 0 or more fen.", field: "credit_limit")
            }
            guard limit <= policy.maxLimit else {
                throw DomainError(.invalid, code: "above-policy-max", "The policy maximum is \(policy.maxLimit) fen.",
                                  field: "credit_limit")
            }
            if limit > singleApproverLimit {
                guard let first = record.firstApprover else {
                    try db.execute(sql: "UPDATE reviews SET first_approver = ?, first_approved_limit = ? WHERE id = ?",
                                   arguments: [operatorKeyID, limit, reviewID])
                    record = try Store.fetchReview(db, id: reviewID) ?? record
                    return (.awaitingSecondApproval(record), [AuditRecord(.reviewResolved, accountID: account.id,
                                                                           subjectID: reviewID, detail: [
                        "kind": "activation", "stage": "first_approval", "credit_limit": .int(limit),
                    ])])
                }
                guard first != operatorKeyID else {
                    throw DomainError(.conflict, code: "four-eyes-required",
                                      "A limit above \(singleApproverLimit) fen needs a second operator's approval.")
                }
                guard record.firstApprovedLimit == limit else {
                    throw DomainError(.conflict, code: "four-eyes-required",
                                      "The second approval must be for the first approver's limit, \(record.firstApprovedLimit ?? 0) fen.")
                }
            }
            account.status = try AccountStateMachine.transition(from: from, to: .active, cause: .reviewResolution,
                                                                actor: .operator)
            account.creditLimit = limit
            account.terms = terms.tiers["D"]
            account.termsVersion = terms.version
            records.append(AuditRecord(.reviewResolved, accountID: account.id, subjectID: reviewID, detail: [
                "kind": "activation", "outcome": "approved", "credit_limit": .int(limit),
                "second_approver": .bool(record.firstApprover != nil),
            ]))
            records.append(AuditRecord(.accountActivated, accountID: account.id, subjectID: account.id, detail: [
                "from": .string(from.rawValue), "tier": .string(account.tier ?? "D"), "credit_limit": .int(limit),
                "cause": "review_resolution", "review_id": .string(reviewID),
            ]))
        } else {
            account.status = try AccountStateMachine.transition(from: from, to: .declined, cause: .reviewResolution,
                                                                actor: .operator)
            account.declinedAt = now
            records.append(AuditRecord(.reviewResolved, accountID: account.id, subjectID: reviewID,
                                       detail: ["kind": "activation", "outcome": "declined"]))
            records.append(AuditRecord(.accountDeclined, accountID: account.id, subjectID: account.id, detail: [
                "from": .string(from.rawValue), "cause": "review_resolution", "review_id": .string(reviewID),
            ]))
        }
        account = try Store.save(db, account, now: now)
        try markResolved(db, now: now, resolution: resolution)
        record = try Store.fetchReview(db, id: reviewID) ?? record
        return (.resolved(record, account), records)
    }

    private func markResolved(_ db: Database, now: Timestamp, resolution: String) throws {
        try db.execute(sql: "UPDATE reviews SET status = 'resolved', resolved_at = ?, resolved_by = ?, resolution = ? WHERE id = ?",
                       arguments: [now.rfc3339, operatorKeyID, resolution, reviewID])
    }
}

/// A limit adjustment as recorded.
public struct LimitAdjustment: Sendable, Equatable {
    public var id: String
    public var accountID: String
    public var oldLimit: Int
    public var newLimit: Int
    public var direction: LimitPolicy.Direction
    public var initiatedBy: LimitPolicy.Initiator
    public var noticeDue: Bool
    public var effectiveAt: Timestamp
}

/// A limit change, checked by `LimitPolicy.evaluate` against the current rows inside the write
/// transaction: of two racing +50 % increases only the first can pass.
public struct AdjustLimit: BusinessWrite {
    public var accountID: String
    public var request: LimitPolicy.Request
    public var reason: String
    public var policy: LimitPolicy
    public var actorKeyID: String

    public init(accountID: String, request: LimitPolicy.Request, reason: String, policy: LimitPolicy, actorKeyID: String) {
        self.accountID = accountID
        self.request = request
        self.reason = reason
        self.policy = policy
        self.actorKeyID = actorKeyID
    }

    public func apply(_ db: Database, now: Timestamp) throws -> ((LimitAdjustment, Account), [AuditRecord]) {
        guard var account = try Store.fetchAccount(db, id: accountID) else { throw DomainError.notFound("account") }
        let latest = try Row.fetchOne(
            db, sql: "SELECT tier, scored_at FROM decisions WHERE account_id = ? ORDER BY scored_at DESC, id DESC LIMIT 1",
            arguments: [accountID]
        ).flatMap { row -> (tier: String, scoredAt: Timestamp)? in
            Timestamp(rfc3339: row["scored_at"]).map { (row["tier"], $0) }
        }
        let state = LimitPolicy.State(
            status: account.status, currentLimit: account.creditLimit, optedOut: account.limitIncreaseOptOut,
            creditLineConsentActive: try Store.hasActiveConsent(db, accountID: accountID, purpose: .creditLine, now: now),
            lastIncreaseAt: account.lastIncreaseAt, latestDecision: latest)
        let direction = try policy.evaluate(request, state: state, now: now)
        // Notice is due to the customer for any change they did not ask for.
        let noticeDue = request.initiatedBy != .customer
        let adjustment = LimitAdjustment(
            id: Identifier.make("adj"), accountID: accountID, oldLimit: account.creditLimit, newLimit: request.newLimit,
            direction: direction, initiatedBy: request.initiatedBy, noticeDue: noticeDue, effectiveAt: now)
        try db.execute(
            sql: """
                INSERT INTO limit_adjustments (id, account_id, old_limit, new_limit, direction, reason, initiated_by,
                                               customer_accepted, notice_due, actor, effective_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [adjustment.id, accountID, adjustment.oldLimit, adjustment.newLimit, direction.rawValue, reason,
                        request.initiatedBy.rawValue, request.customerAccepted, noticeDue, actorKeyID, now.rfc3339])
        account.creditLimit = request.newLimit
        if direction == .increase { account.lastIncreaseAt = now }
        account = try Store.save(db, account, now: now)
        return ((adjustment, account), [AuditRecord(.limitAdjusted, accountID: accountID, subjectID: adjustment.id, detail: [
            "old_limit": .int(adjustment.oldLimit), "new_limit": .int(adjustment.newLimit),
            "direction": .string(direction.rawValue), "initiated_by": .string(request.initiatedBy.rawValue),
            "customer_accepted": .bool(request.customerAccepted), "notice_due": .bool(noticeDue), "reason": .string(reason),
        ])])
    }
}

/// An active (or frozen) line takes the terms of a newer decision's tier, only because the
/// customer accepted them: a better score never changes terms by itself, nor does a limit change.
public struct AcceptTerms: BusinessWrite {
    public var accountID: String
    public var termsVersion: String
    public var decisionID: String
    public var terms: Terms

    public init(accountID: String, termsVersion: String, decisionID: String, terms: Terms) {
        self.accountID = accountID
        self.termsVersion = termsVersion
        self.decisionID = decisionID
        self.terms = terms
    }

    public func apply(_ db: Database, now: Timestamp) throws -> (Account, [AuditRecord]) {
        guard var account = try Store.fetchAccount(db, id: accountID) else { throw DomainError.notFound("account") }
        guard account.status == .active || account.status == .frozen else {
            throw DomainError(.conflict, code: "invalid-transition", "Only an open line has terms to change.")
        }
        guard let decision = try Store.fetchDecision(db, id: decisionID), decision.accountID == accountID else {
            throw DomainError.notFound("decision for this account")
        }
        guard !decision.isExpired(at: now) else {
            throw DomainError(.conflict, code: "decision-expired", "The decision has expired; score the account again.")
        }
        guard termsVersion == terms.version else {
            throw DomainError(.conflict, code: "terms-mismatch",
                              "The current terms are version \(terms.version), not \(termsVersion).")
        }
        guard decision.outcome == "approve", let tierTerms = terms.tiers[decision.tier] else {
            throw DomainError(.invalid, code: "risk-tier-too-low",
                              "Terms follow an approving decision (tier A–C); this one is tier \(decision.tier).",
                              field: "decision_id")
        }
        let previousTier = account.tier
        account.terms = tierTerms
        account.termsVersion = termsVersion
        account.tier = decision.tier
        account.decisionID = decisionID
        account = try Store.save(db, account, now: now)
        return (account, [AuditRecord(.termsAccepted, accountID: accountID, subjectID: accountID, detail: [
            "terms_version": .string(termsVersion), "decision_id": .string(decisionID), "tier": .string(decision.tier),
            "previous_tier": previousTier.map(JSONValue.string) ?? .null,
        ])])
    }
}

/// `limit_increase_opt_out` (UK CONC 6.7.7R: once said, no increase is offered).
public struct UpdatePreferences: BusinessWrite {
    public var accountID: String
    public var limitIncreaseOptOut: Bool

    public init(accountID: String, limitIncreaseOptOut: Bool) {
        self.accountID = accountID
        self.limitIncreaseOptOut = limitIncreaseOptOut
    }

    public func apply(_ db: Database, now: Timestamp) throws -> (Account, [AuditRecord]) {
        guard var account = try Store.fetchAccount(db, id: accountID) else { throw DomainError.notFound("account") }
        guard account.limitIncreaseOptOut != limitIncreaseOptOut else { return (account, []) }
        account.limitIncreaseOptOut = limitIncreaseOptOut
        account = try Store.save(db, account, now: now)
        return (account, [AuditRecord(.preferencesUpdated, accountID: accountID, subjectID: accountID,
                                      detail: ["limit_increase_opt_out": .bool(limitIncreaseOptOut)])])
    }
}

/// An operator's freeze, unfreeze or closure.
public struct OperatorAction: BusinessWrite {
    public enum Kind: String, Sendable { case freeze, unfreeze, closure }

    public var accountID: String
    public var kind: Kind
    public var reason: String

    public init(accountID: String, kind: Kind, reason: String) {
        self.accountID = accountID
        self.kind = kind
        self.reason = reason
    }

    public func apply(_ db: Database, now: Timestamp) throws -> (Account, [AuditRecord]) {
        guard var account = try Store.fetchAccount(db, id: accountID) else { throw DomainError.notFound("account") }
        let from = account.status
        let (to, cause, action): (AccountStatus, AccountTransitionCause, AuditAction)
        switch kind {
        case .freeze: (to, cause, action) = (.frozen, .operatorFreeze, .accountFrozen)
        case .unfreeze:
            (to, cause, action) = (.active, .operatorUnfreeze, .accountUnfrozen)
            if from == .frozen,
                try !Store.hasActiveConsent(db, accountID: accountID, purpose: .creditLine, now: now)
            {
                throw DomainError(.conflict, code: "consent-required",
                                  "An account is unfrozen only with an active credit_line consent.")
            }
        case .closure: (to, cause, action) = (.closed, .operatorClosure, .accountClosed)
        }
        account.status = try AccountStateMachine.transition(from: from, to: to, cause: cause, actor: .operator)
        account = try Store.save(db, account, now: now)
        return (account, [AuditRecord(action, accountID: accountID, subjectID: accountID, detail: [
            "from": .string(from.rawValue), "to": .string(to.rawValue), "cause": .string(cause.rawValue),
            "reason": .string(reason),
        ])])
    }
}

extension Store {
    public func reviews(status: Review.Status?, kind: Review.Kind?) async throws -> [ReviewRecord] {
        try await pool.read { db in
            var sql = "SELECT * FROM reviews WHERE 1 = 1"
            var arguments: StatementArguments = []
            if let status {
                sql += " AND status = ?"
                arguments += [status.rawValue]
            }
            if let kind {
                sql += " AND kind = ?"
                arguments += [kind.rawValue]
            }
            return try Row.fetchAll(db, sql: sql + " ORDER BY created_at, id", arguments: arguments).map(Self.review(from:))
        }
    }

    static func fetchReview(_ db: Database, id: String) throws -> ReviewRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM reviews WHERE id = ?", arguments: [id]).map(review(from:))
    }

    static func review(from row: Row) -> ReviewRecord {
        ReviewRecord(
            review: Review(
                id: row["id"], kind: Review.Kind(rawValue: row["kind"]) ?? .contest,
                status: Review.Status(rawValue: row["status"]) ?? .open, accountID: row["account_id"],
                decisionID: row["decision_id"], statement: row["statement"],
                createdAt: Timestamp(rfc3339: row["created_at"]) ?? Timestamp(milliseconds: 0)),
            resolvedAt: (row["resolved_at"] as String?).flatMap { Timestamp(rfc3339: $0) },
            resolution: row["resolution"], firstApprover: row["first_approver"],
            firstApprovedLimit: row["first_approved_limit"])
    }
}
