/// Every kind of entry the audit log holds (docs/audit-chain.md, "Actions").
public enum AuditAction: String, Sendable, Codable, CaseIterable {
    case accountCreated = "account.created"
    case consentGranted = "consent.granted"
    case consentWithdrawn = "consent.withdrawn"
    case consentExpired = "consent.expired"
    case decisionScored = "decision.scored"
    case reviewRequested = "review.requested"
    case reviewResolved = "review.resolved"
    case accountActivated = "account.activated"
    case accountPendingReview = "account.pending_review"
    case accountDeclined = "account.declined"
    case limitAdjusted = "limit.adjusted"
    case accountFrozen = "account.frozen"
    case accountUnfrozen = "account.unfrozen"
    case accountClosed = "account.closed"
    case preferencesUpdated = "preferences.updated"
    /// Beyond the original list of actions: an active line moving to the terms of a newer, better decision, by the
    /// customer's own acceptance (README "Activation, reviews and limits").
    case termsAccepted = "terms.accepted"
    case keyCreated = "key.created"
    case keyRevoked = "key.revoked"
    case demoClockAdvanced = "demo.clock_advanced"
    case portfolioReviewCompleted = "portfolio_review.completed"
    case limitOfferCreated = "limit_offer.created"
    case limitOfferAccepted = "limit_offer.accepted"
    case drawCreated = "draw.created"
    case repaymentReceived = "repayment.received"
    case accountDelinquencyChanged = "account.delinquency_changed"
    case accountCancelled = "account.cancelled"
    case chargeOffApproved = "charge_off.first_approval"
    case accountChargedOff = "account.charged_off"
    case noticeCreated = "notice.created"
    case noticeDelivered = "notice.delivered"
    case webhookEndpointCreated = "webhook_endpoint.created"
    case webhookEndpointDeleted = "webhook_endpoint.deleted"
    /// The risk team's review of a model (README "Periodic review").
    case modelReviewed = "model.reviewed"
    /// What a retention sweep erased, in counts (README "Data governance").
    case retentionSwept = "retention.swept"
    /// A person signing in to the console and out of it (the key's id is the entry's actor).
    case consoleSignedIn = "console.signed_in"
    case consoleSignedOut = "console.signed_out"
    /// The customer's own pages (README "The customer's own pages"): a consent refused there, a
    /// link handed out, a link's one action.
    case consentDeclined = "consent.declined"
    case customerLinkIssued = "customer_link.issued"
    case customerLinkUsed = "customer_link.used"
    /// The customer's income and obligations recorded (README "Ability to repay"; never the amounts).
    case affordabilityAssessed = "affordability.assessed"
    /// A hardship plan asked for, decided, ended (README "Hardship plans").
    case hardshipRequested = "hardship.requested"
    case hardshipResolved = "hardship.resolved"
    case hardshipEnded = "hardship.ended"
    /// A returned purchase refunded onto its draw (README "Refunds and the credit balance").
    case drawRefunded = "draw.refunded"
    case creditBalanceApplied = "credit_balance.applied"
    /// Credit reporting (README "Credit reporting").
    case bureauReported = "bureau.reported"
    case bureauCorrected = "bureau.corrected"
    case bureauDisputeOpened = "bureau_dispute.opened"
    case bureauDisputeResolved = "bureau_dispute.resolved"
}

extension AuditAction {
    /// The changes a calling backend is told of through `GET /v1/events` and webhooks: every
    /// one that affects a customer (README "Events and notices").
    public var isEvent: Bool {
        switch self {
        case .accountActivated, .accountPendingReview, .accountDeclined, .reviewRequested, .reviewResolved,
            .limitAdjusted, .accountFrozen, .accountUnfrozen, .accountClosed, .consentGranted, .consentWithdrawn,
            .consentExpired, .decisionScored, .termsAccepted, .drawCreated, .repaymentReceived,
            .accountDelinquencyChanged, .accountCancelled, .accountChargedOff, .noticeCreated, .noticeDelivered,
            .limitOfferCreated, .limitOfferAccepted, .consentDeclined, .hardshipRequested, .hardshipResolved, .hardshipEnded,
            .drawRefunded, .creditBalanceApplied, .bureauReported, .bureauCorrected,
            .bureauDisputeOpened, .bureauDisputeResolved:
            return true
        case .accountCreated, .preferencesUpdated, .keyCreated, .keyRevoked, .demoClockAdvanced,
            .portfolioReviewCompleted, .chargeOffApproved, .webhookEndpointCreated, .webhookEndpointDeleted,
            .modelReviewed, .retentionSwept, .consoleSignedIn, .consoleSignedOut, .customerLinkIssued, .customerLinkUsed,
            .affordabilityAssessed:
            return false
        }
    }

    /// The audit detail as an event carries it: ids, codes and amounts. The free text a few
    /// older entries still hold (an operator's `reason`) stays in the chain only.
    public static func eventData(_ detail: [String: JSONValue]) -> [String: JSONValue] {
        detail.filter { !["reason", "note", "statement"].contains($0.key) }
    }
}
