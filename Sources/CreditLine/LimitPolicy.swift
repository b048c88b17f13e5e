import Foundation

/// The limits that bound every line (README "Activation, reviews and limits"), each with its reason.
public struct LimitPolicy: Sendable, Equatable {
    /// The largest line, in fen.
    public var maxLimit = 5_000_000
    /// An increase adds at most this share of the current limit.
    public var maxIncreasePercent = 50
    /// Days between increases: no ratcheting a customer's credit up week by week.
    public var minDaysBetweenIncreases = 90
    /// An increase needs a decision at most this old (affordability must be current).
    public var maxDecisionAgeDays = 30
    /// A declined account may ask again only after this many days.
    public var declineCoolOffDays = 30
    /// Ability to repay: the debt-service ratio, the regulatory cap, the starter limit (README
    /// "Ability to repay").
    public var affordability = Affordability.Settings()

    public init() {}

    public enum Initiator: String, Sendable, CaseIterable { case customer, system, `operator` }

    public struct Request: Sendable, Equatable {
        public var newLimit: Int
        public var initiatedBy: Initiator
        public var customerAccepted: Bool

        public init(newLimit: Int, initiatedBy: Initiator, customerAccepted: Bool) {
            (self.newLimit, self.initiatedBy, self.customerAccepted) = (newLimit, initiatedBy, customerAccepted)
        }
    }

    /// What the rules need to know about the account now.
    public struct State: Sendable, Equatable {
        public var status: AccountStatus
        public var currentLimit: Int
        public var optedOut: Bool
        public var creditLineConsentActive: Bool
        /// An increase is a new assessment of ability to pay: it needs the `credit_assessment`
        /// consent in force now, not only when the line opened.
        public var assessmentConsentActive: Bool
        public var lastIncreaseAt: Timestamp?
        public var latestDecision: (tier: Tier, scoredAt: Timestamp)?
        /// Whether the model that made the latest decision has an approved review in force: a
        /// lapsed model approves no increase by itself either (README "Periodic review").
        public var latestDecisionModelReviewed: Bool
        /// The latest affordability assessment, and the plans of the line's terms: an increase is
        /// weighed against what the customer can repay (README "Ability to repay").
        public var affordability: AffordabilityAssessment?
        public var plans: [Terms.Plan]

        public init(status: AccountStatus, currentLimit: Int, optedOut: Bool, creditLineConsentActive: Bool,
                    assessmentConsentActive: Bool,
                    lastIncreaseAt: Timestamp?, latestDecision: (tier: Tier, scoredAt: Timestamp)?,
                    latestDecisionModelReviewed: Bool, affordability: AffordabilityAssessment? = nil, plans: [Terms.Plan] = [])
        {
            (self.affordability, self.plans) = (affordability, plans)
            self.latestDecisionModelReviewed = latestDecisionModelReviewed
            self.status = status
            self.currentLimit = currentLimit
            self.optedOut = optedOut
            self.creditLineConsentActive = creditLineConsentActive
            self.assessmentConsentActive = assessmentConsentActive
            self.lastIncreaseAt = lastIncreaseAt
            self.latestDecision = latestDecision
        }

        public static func == (lhs: State, rhs: State) -> Bool {
            lhs.status == rhs.status && lhs.currentLimit == rhs.currentLimit && lhs.optedOut == rhs.optedOut
                && lhs.creditLineConsentActive == rhs.creditLineConsentActive
                && lhs.assessmentConsentActive == rhs.assessmentConsentActive && lhs.lastIncreaseAt == rhs.lastIncreaseAt
                && lhs.latestDecision?.tier == rhs.latestDecision?.tier
                && lhs.latestDecision?.scoredAt == rhs.latestDecision?.scoredAt
                && lhs.latestDecisionModelReviewed == rhs.latestDecisionModelReviewed
                && lhs.affordability == rhs.affordability && lhs.plans == rhs.plans
        }
    }

    public enum Direction: String, Sendable { case increase, decrease }

    /// For an increase, the affordable limit it was weighed against, recorded in its entry
    /// (README "Ability to repay"); nil for a decrease or without a current assessment.
    public func affordableCap(_ direction: Direction, state: State, now: Timestamp) -> Int? {
        guard direction == .increase else { return nil }
        return Affordability.affordableCap(state.affordability, plans: state.plans, settings: affordability, now: now)
    }

    /// The verdict on a limit change: allowed (with its direction and whether the customer must
    /// be told), or the first rule it breaks with that rule's code.
    public func evaluate(_ request: Request, state: State, now: Timestamp) throws(DomainError) -> Direction {
        guard request.newLimit >= 0 else {
            throw DomainError(.invalid, code: .invalidAmount, "new_limit must be a whole number of fen, 0 or more.",
                              field: "new_limit")
        }
        guard !state.status.isFinal else {
            throw DomainError(.conflict, code: .invalidTransition, "A \(state.status.rawValue) account's limit cannot change.")
        }
        guard request.newLimit != state.currentLimit else {
            throw DomainError(.invalid, code: .invalidAmount, "new_limit equals the current limit.", field: "new_limit")
        }
        if request.newLimit < state.currentLimit { return .decrease }

        // Increases.
        guard state.status == .active else {
            throw DomainError(.conflict, code: .invalidTransition,
                              "Only an active line can be increased; this one is \(state.status.rawValue).")
        }
        guard state.creditLineConsentActive else {
            throw DomainError(.conflict, code: .consentRequired, "An increase needs an active credit_line consent.")
        }
        guard state.assessmentConsentActive else {
            throw DomainError(.conflict, code: .consentRequired,
                              "An increase needs an active credit_assessment consent: it assesses ability to pay again.")
        }
        // UK CONC 6.7.7R: no increase (nor offer of one) after the customer said they want none.
        guard !state.optedOut else {
            throw DomainError(.invalid, code: .increaseOptedOut, "The customer has opted out of limit increases.",
                              field: "new_limit")
        }
        guard request.initiatedBy == .customer || request.customerAccepted else {
            throw DomainError(.invalid, code: .acceptanceRequired,
                              "An increase the customer did not ask for needs customer_accepted: true.",
                              field: "customer_accepted")
        }
        guard request.newLimit <= maxLimit else {
            throw DomainError(.invalid, code: .abovePolicyMax, "The policy maximum is \(maxLimit) fen.", field: "new_limit")
        }
        let ceiling = state.currentLimit + state.currentLimit * maxIncreasePercent / 100
        guard request.newLimit <= ceiling else {
            throw DomainError(.invalid, code: .increaseTooLarge,
                              "An increase may add at most \(maxIncreasePercent) % (up to \(ceiling) fen).", field: "new_limit")
        }
        if let last = state.lastIncreaseAt, now < last.adding(days: minDaysBetweenIncreases) {
            throw DomainError(.invalid, code: .increaseTooSoon,
                              "The last increase was less than \(minDaysBetweenIncreases) days ago.", field: "new_limit")
        }
        // US Reg Z §1026.51 practice: an increase needs a current view of ability to pay.
        guard let decision = state.latestDecision, now < decision.scoredAt.adding(days: maxDecisionAgeDays) else {
            throw DomainError(.invalid, code: .staleDecision,
                              "An increase needs a decision younger than \(maxDecisionAgeDays) days.", field: "new_limit")
        }
        guard decision.tier.approves else {
            throw DomainError(.invalid, code: .riskTierTooLow,
                              "The latest decision is tier \(decision.tier.rawValue); increases need A, B or C.",
                              field: "new_limit")
        }
        guard state.latestDecisionModelReviewed else {
            throw DomainError(.conflict, code: .modelReviewOverdue,
                              "The model behind the latest decision has no approved review in force; no increase until it has.")
        }
        // What the customer can repay, by a current assessment of their income and obligations.
        try Affordability.requireWithin(request.newLimit, assessment: state.affordability, plans: state.plans,
                                        settings: affordability, now: now, field: "new_limit", increase: true)
        return .increase
    }
}
