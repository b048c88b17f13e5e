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
}
