import CreditLine
import Foundation
import GRDB

extension Store {
    /// What the limit rules look at, as the rows are now.
    static func limitState(_ db: SQLConnection, _ account: Account, now: Timestamp) throws -> LimitPolicy.State {
        let decision = try StoreRow.fetchOne(
            db, cached: "SELECT \(Store.decisionColumns.list) FROM decisions WHERE account_id = ? ORDER BY scored_at DESC, id DESC LIMIT 1",
            arguments: [account.id]
        ).map(Store.decision(from:))
        let latest = decision.map { (tier: $0.tier, scoredAt: $0.scoredAt) }
        let reviewed = try decision.map {
            ModelReviewGate.isInForce(try latestModelReview(db, modelVersion: $0.modelVersion), now: now)
        } ?? false
        return LimitPolicy.State(
            status: account.status, currentLimit: account.creditLimit, optedOut: account.limitIncreaseOptOut,
            creditLineConsentActive: try hasActiveConsent(db, accountID: account.id, purpose: .creditLine, now: now),
            assessmentConsentActive: try hasActiveConsent(db, accountID: account.id, purpose: .creditAssessment, now: now),
            lastIncreaseAt: account.lastIncreaseAt, latestDecision: latest, latestDecisionModelReviewed: reviewed,
            affordability: try latestAffordability(db, accountID: account.id), plans: account.terms?.instalmentPlans ?? [])
    }

    /// Records a limit change the rules allowed: its row, the account at the new limit, and the
    /// audit entry (`detail` adds to it: a cause, a review id, reason codes).
    /// Records a limit change and returns what happened as its typed event, from which the caller
    /// makes the audit entry (`AuditRecord(_:accountID:adjustmentID:)`) once it has added what
    /// only it knows (a confirmation's evidence).
    static func recordLimitChange(_ db: SQLConnection, _ account: Account, request: LimitPolicy.Request,
                                  direction: LimitPolicy.Direction, reasonCode: String, actor: String, now: Timestamp,
                                  cause: LimitAdjusted.Cause) throws -> (LimitAdjustment, Account, LimitAdjusted)
    {
        var account = account
        // Notice is due to the customer for any change they did not ask for.
        let noticeDue = request.initiatedBy != .customer
        let adjustment = LimitAdjustment(
            id: Identifier.make("adj"), accountID: account.id, oldLimit: account.creditLimit, newLimit: request.newLimit,
            direction: direction, initiatedBy: request.initiatedBy, noticeDue: noticeDue, effectiveAt: now)
        try db.execute(
            cached: """
                INSERT INTO limit_adjustments (id, account_id, old_limit, new_limit, direction, reason_code, initiated_by,
                                               customer_accepted, notice_due, actor, effective_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [adjustment.id, account.id, adjustment.oldLimit, adjustment.newLimit, direction.rawValue, reasonCode,
                        request.initiatedBy.rawValue, request.customerAccepted, noticeDue, actor, now.rfc3339])
        account.creditLimit = request.newLimit
        if direction == .increase { account.lastIncreaseAt = now }
        account = try save(db, account, now: now)
        let event = LimitAdjusted(oldLimit: adjustment.oldLimit, newLimit: adjustment.newLimit, direction: direction,
                                  initiatedBy: request.initiatedBy, customerAccepted: request.customerAccepted,
                                  reasonCode: reasonCode, cause: cause)
        return (adjustment, account, event)
    }
}
