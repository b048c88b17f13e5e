/// Terms acceptance: an open line takes the terms of a newer decision's tier only because the
/// customer accepted them; a better score never changes terms by itself, nor does a limit change.
public enum TermsAcceptance {
    public struct Facts: Sendable {
        public var accountStatus: AccountStatus?
        /// The named decision: nil when it does not exist or belongs to another account.
        public var decision: Decision?
        public var requestedTermsVersion: String
        /// The terms the line has now (nil for a line opened before terms were kept on it).
        public var currentTerms: Terms.TierTerms?
        /// Whether the request carries the customer's own confirmation of what they were shown.
        public var confirmed: Bool

        public init(accountStatus: AccountStatus?, decision: Decision?, requestedTermsVersion: String,
                    currentTerms: Terms.TierTerms? = nil, confirmed: Bool = false)
        {
            self.accountStatus = accountStatus
            self.decision = decision
            self.requestedTermsVersion = requestedTermsVersion
            self.currentTerms = currentTerms
            self.confirmed = confirmed
        }
    }

    /// The tier and its terms the line takes, whether they are no dearer than the line's terms
    /// now, or the first rule the request breaks. Dearer terms (a plan's fee higher, a plan gone,
    /// fewer interest-free days) need the customer's confirmation: 422 `confirmation-required`.
    /// A line without terms on record is judged against nothing, so any terms are dearer.
    public static func decide(_ facts: Facts, terms: Terms, now: Timestamp) throws(DomainError)
        -> (tier: Tier, terms: Terms.TierTerms, noDearer: Bool)
    {
        let status = try Existence.require(facts.accountStatus, "account")
        guard status == .active || status == .frozen else {
            throw DomainError(.conflict, code: .invalidTransition, "Only an open line has terms to change.")
        }
        let decision = try Existence.require(facts.decision, "decision for this account")
        guard !decision.isExpired(at: now) else {
            throw DomainError(.conflict, code: .decisionExpired, "The decision has expired; score the account again.")
        }
        guard facts.requestedTermsVersion == terms.version else {
            throw DomainError(.conflict, code: .termsMismatch,
                              "The current terms are version \(terms.version), not \(Echo.bounded(facts.requestedTermsVersion)).")
        }
        guard decision.outcome == .approve, let tierTerms = terms.tiers[decision.tier] else {
            throw DomainError(.invalid, code: .riskTierTooLow,
                              "Terms follow an approving decision (tier A–C); this one is tier \(decision.tier.rawValue).",
                              field: "decision_id")
        }
        let noDearer = facts.currentTerms.map { tierTerms.isNoDearer(than: $0) } ?? false
        guard noDearer || facts.confirmed else {
            throw DomainError(.invalid, code: .confirmationRequired,
                              "Tier \(decision.tier.rawValue)'s terms cost more than the line's terms now (a higher fee, a plan gone or fewer interest-free days); the change needs customer_confirmation {channel, method: explicit_opt_in, notice_sha256}.",
                              field: "customer_confirmation")
        }
        return (decision.tier, tierTerms, noDearer)
    }
}

/// An operator's freeze, unfreeze or closure of a line.
public enum OperatorAction: String, Sendable, CaseIterable {
    case freeze, unfreeze, closure

    public var cause: AccountTransitionCause {
        switch self {
        case .freeze: return .operatorFreeze
        case .unfreeze: return .operatorUnfreeze
        case .closure: return .operatorClosure
        }
    }

    var target: AccountStatus {
        switch self {
        case .freeze: return .frozen
        case .unfreeze: return .active
        case .closure: return .closed
        }
    }

    /// The account's new status, or the rule the action breaks. Unfreezing also needs the
    /// `credit_line` consent in force: a line frozen by a withdrawal stays frozen until the
    /// customer consents again (PIPL Art. 15).
    public func decide(from status: AccountStatus?, creditLineConsentActive: Bool) throws(DomainError) -> AccountStatus {
        let status = try Existence.require(status, "account")
        if self == .unfreeze, status == .frozen, !creditLineConsentActive {
            throw DomainError(.conflict, code: .consentRequired,
                              "An account is unfrozen only with an active credit_line consent.")
        }
        return try AccountStateMachine.transition(from: status, to: target, cause: cause, actor: .operator)
    }
}

/// Who may be scored: an open account with the `credit_assessment` consent in force (Credit
/// Reporting Industry Regulation Art. 13, 18: consent before assessing credit).
public enum ScoringEligibility {
    public static func check(accountStatus: AccountStatus?, assessmentConsentActive: Bool) throws(DomainError) {
        _ = try AccountStatus.requireOpen(accountStatus, "A closed account is not scored.")
        guard assessmentConsentActive else {
            throw DomainError(.conflict, code: .consentRequired,
                              "Scoring needs an active credit_assessment consent for this account.")
        }
    }
}

/// An `If-Match` on an account: the version the caller last saw (RFC 9110 §13.1.1).
public struct AccountVersion: Sendable, Equatable {
    public var accountID: String
    /// nil for `If-Match: *` (any current version).
    public var version: Int?

    public init(accountID: String, version: Int?) {
        self.accountID = accountID
        self.version = version
    }

    /// RFC 9110 §13.1.1: the precondition holds when the account exists at the named version
    /// (`*`: at any version).
    public func check(current: Int?) throws(DomainError) {
        let current = try Existence.require(current, "account")
        if let version, version != current {
            throw DomainError(.staleVersion, code: .versionMismatch,
                              "The account is at version \(current), not \(version); read it again.")
        }
    }
}
