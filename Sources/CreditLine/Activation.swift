/// Activation: the one place a credit line is born, as a deliberate request of the customer
/// (README "Activation, reviews and limits"). Never a side effect of scoring.
public enum Activation {
    public enum Outcome: Sendable, Equatable {
        /// Tiers A–C: active with this limit.
        case activated(limit: Int)
        /// Tier D, or an approving tier whose model review has lapsed: waits for an operator.
        case pendingReview
        /// Tier E: declined with the decision's reasons.
        case declined

        public var name: String {
            switch self {
            case .activated: return "activated"
            case .pendingReview: return "pending_review"
            case .declined: return "declined"
            }
        }

        public var status: AccountStatus {
            switch self {
            case .activated: return .active
            case .pendingReview: return .pendingReview
            case .declined: return .declined
            }
        }
    }

    /// What the rules look at, gathered inside the write transaction.
    public struct Facts: Sendable {
        public var accountStatus: AccountStatus
        public var declinedAt: Timestamp?
        /// The named consent: nil when it does not exist or belongs to another account.
        public var consent: Consent?
        public var assessmentConsentActive: Bool
        /// The named decision: nil when it does not exist or belongs to another account.
        public var decision: Decision?
        public var termsVersion: String
        public var currentTermsVersion: String
        public var requestedLimit: Int?
        /// The latest review of the model that made the decision (README "Periodic review").
        public var modelReview: ModelReviewGate.Review?
        /// The account's latest affordability assessment, current or not (README "Ability to repay").
        public var affordability: AffordabilityAssessment?
        /// The plans of the tier the line would open on: the longest weighs the affordable limit.
        public var plans: [Terms.Plan]

        public init(accountStatus: AccountStatus, declinedAt: Timestamp?, consent: Consent?,
                    assessmentConsentActive: Bool, decision: Decision?, termsVersion: String,
                    currentTermsVersion: String, requestedLimit: Int?, modelReview: ModelReviewGate.Review?,
                    affordability: AffordabilityAssessment? = nil, plans: [Terms.Plan] = [])
        {
            (self.affordability, self.plans) = (affordability, plans)
            self.modelReview = modelReview
            self.accountStatus = accountStatus
            self.declinedAt = declinedAt
            self.consent = consent
            self.assessmentConsentActive = assessmentConsentActive
            self.decision = decision
            self.termsVersion = termsVersion
            self.currentTermsVersion = currentTermsVersion
            self.requestedLimit = requestedLimit
        }
    }

    /// The limit a line opens with and why (README "Ability to repay"): the least of the tier's
    /// recommendation, the request, what the customer can afford (or the starter limit without a
    /// current assessment) and the regulatory cap.
    public static func limitBasis(_ facts: Facts, decision: Decision, policy: LimitPolicy, now: Timestamp) -> LimitBasis {
        Affordability.limit(tierRecommendation: decision.recommendedLimit, requestedLimit: facts.requestedLimit,
                            assessment: facts.affordability, plans: facts.plans, settings: policy.affordability,
                            policyMax: policy.maxLimit, now: now)
    }

    /// Every condition of activation (README "Activation, reviews and limits"), each refusal with its 409 code.
    public static func decide(_ facts: Facts, policy: LimitPolicy, now: Timestamp) throws(DomainError) -> Outcome {
        if let requested = facts.requestedLimit, requested < 0 {
            throw DomainError(.invalid, code: .invalidAmount, "requested_limit must be 0 or more fen.",
                              field: "requested_limit")
        }
        guard let consent = facts.consent, consent.purpose == .creditLine, consent.isActive(at: now) else {
            throw DomainError(.conflict, code: .consentRequired,
                              "Activation needs this account's active credit_line consent.")
        }
        guard facts.assessmentConsentActive else {
            throw DomainError(.conflict, code: .consentRequired,
                              "Activation needs an active credit_assessment consent at the moment of activation.")
        }
        guard let decision = facts.decision else { throw DomainError.notFound("decision for this account") }
        guard !decision.isExpired(at: now) else {
            throw DomainError(.conflict, code: .decisionExpired, "The decision has expired; score the account again.")
        }
        guard facts.termsVersion == facts.currentTermsVersion else {
            throw DomainError(.conflict, code: .termsMismatch,
                              "The current terms are version \(facts.currentTermsVersion), not \(Echo.bounded(facts.termsVersion)).")
        }
        switch facts.accountStatus {
        case .prospect:
            break
        case .declined:
            if let declinedAt = facts.declinedAt, now < declinedAt.adding(days: policy.declineCoolOffDays) {
                throw DomainError(.conflict, code: .coolOff,
                                  "A declined account may ask again \(policy.declineCoolOffDays) days after the decline.")
            }
        default:
            throw DomainError(.conflict, code: .invalidTransition,
                              "An account in \(facts.accountStatus.rawValue) cannot be activated.")
        }
        switch decision.outcome {
        case .approve:
            // A model whose review has lapsed approves nobody by itself: a person decides.
            if ModelReviewGate.outcome(.approve, latestReview: facts.modelReview, now: now).outcome == .review {
                return .pendingReview
            }
            return .activated(limit: limitBasis(facts, decision: decision, policy: policy, now: now).limit)
        case .review:
            return .pendingReview
        case .decline:
            return .declined
        }
    }
}
