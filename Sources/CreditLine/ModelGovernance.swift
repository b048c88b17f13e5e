import Foundation

/// Model governance as pure rules (README "Not built yet": the routes, the model registry and the
/// periodic review that use them come next): how far a scored population has drifted from the
/// one the model was built on, whether a challenger agrees with the champion, and the gate that
/// keeps a model whose review has lapsed from approving anyone by itself.
public enum Stability {
    /// The usual reading of a stability index.
    public enum Status: String, Sendable, Equatable {
        case stable, watch, act

        /// Below 0.10 stable, 0.10 to 0.25 watch, above 0.25 act.
        public init(index: Double) {
            if index < 0.10 {
                self = .stable
            } else if index <= 0.25 {
                self = .watch
            } else {
                self = .act
            }
        }
    }

    /// An empty band's share is taken as this, so that one band nobody fell into does not make
    /// the index infinite (ln 0).
    public static let floor = 0.0001

    /// Shares of a whole: counts divided by their sum (all zeros for an empty population).
    public static func shares(_ counts: [Int]) -> [Double] {
        let total = counts.reduce(0, +)
        guard total > 0 else { return counts.map { _ in 0 } }
        return counts.map { Double($0) / Double(total) }
    }

    /// One band's part of the index: (actual − expected) × ln(actual ÷ expected).
    public static func contribution(expected: Double, actual: Double) -> Double {
        let e = max(expected, floor)
        let a = max(actual, floor)
        return (a - e) * log(a / e)
    }

    /// The population (or characteristic) stability index: the sum of every band's part, for
    /// shares of the same bands in the same order. Never negative; 0 when nothing moved.
    public static func index(expected: [Double], actual: [Double]) -> Double {
        zip(expected, actual).reduce(0) { $0 + contribution(expected: $1.0, actual: $1.1) }
    }

    /// What a challenger would have done differently: applicants it would approve and the
    /// champion does not (swap-in), and the other way round (swap-out).
    public struct Agreement: Sendable, Equatable {
        public var both: Int = 0
        public var neither: Int = 0
        public var swapIn: Int = 0
        public var swapOut: Int = 0

        public init() {}

        public mutating func add(championApproves: Bool, challengerApproves: Bool) {
            switch (championApproves, challengerApproves) {
            case (true, true): both += 1
            case (false, false): neither += 1
            case (false, true): swapIn += 1
            case (true, false): swapOut += 1
            }
        }

        /// The share of decisions on which the two agree (1 when there were none).
        public var rate: Double {
            let total = both + neither + swapIn + swapOut
            return total == 0 ? 1 : Double(both + neither) / Double(total)
        }
    }
}

/// A model decides alone only while a review approved it and that approval is in force.
public enum ModelReviewGate {
    /// The review that matters: its outcome and until when it holds.
    public struct Review: Sendable, Equatable {
        public var approved: Bool
        public var validUntil: Timestamp

        public init(approved: Bool, validUntil: Timestamp) {
            (self.approved, self.validUntil) = (approved, validUntil)
        }
    }

    /// The reason an approving decision goes to a person instead.
    public static let overdueReason = "model-review-overdue"

    /// The outcome to act on: an approval stands only under an approved review in force at
    /// `now`; otherwise a person decides (review). Reviews and declines are never changed: a
    /// lapsed review makes the model more careful, never harsher.
    public static func outcome(_ outcome: Decision.Outcome, latestReview: Review?, now: Timestamp)
        -> (outcome: Decision.Outcome, reason: String?)
    {
        guard outcome == .approve else { return (outcome, nil) }
        guard let review = latestReview, review.approved, now < review.validUntil else {
            return (.review, overdueReason)
        }
        return (outcome, nil)
    }
}

/// What a periodic portfolio review does to one line once it has been scored again: a worse
/// tier lowers the limit or freezes the line (both with a notice); a better one earns an offer,
/// never an applied increase; everything else stays as it is.
public enum PortfolioPolicy {
    public enum Action: Sendable, Equatable {
        /// Not scored: the reason (a line that is not open, or no consent to assess).
        case skipped(String)
        case lowerLimit(to: Int)
        case freeze
        /// An increase the customer may accept, never applied without that acceptance.
        case offer(limit: Int)
        case none
    }

    public struct Facts: Sendable {
        public var status: AccountStatus
        public var creditLineConsentActive: Bool
        public var assessmentConsentActive: Bool
        public var optedOut: Bool
        public var currentLimit: Int
        /// The tier the line's terms were set at.
        public var currentTier: Tier?
        public var lastIncreaseAt: Timestamp?
        /// The review's new score.
        public var newTier: Tier
        public var newRecommendedLimit: Int

        public init(status: AccountStatus, creditLineConsentActive: Bool, assessmentConsentActive: Bool, optedOut: Bool,
                    currentLimit: Int, currentTier: Tier?, lastIncreaseAt: Timestamp?, newTier: Tier,
                    newRecommendedLimit: Int)
        {
            self.status = status
            self.creditLineConsentActive = creditLineConsentActive
            self.assessmentConsentActive = assessmentConsentActive
            self.optedOut = optedOut
            self.currentLimit = currentLimit
            self.currentTier = currentTier
            self.lastIncreaseAt = lastIncreaseAt
            self.newTier = newTier
            self.newRecommendedLimit = newRecommendedLimit
        }
    }

    /// Whether the line may be scored again at all: open (active or frozen) and with its
    /// `credit_assessment` consent in force (no consent, no re-scoring).
    public static func skipReason(status: AccountStatus, assessmentConsentActive: Bool) -> String? {
        guard status == .active || status == .frozen else { return "account-not-open" }
        guard assessmentConsentActive else { return "consent-required" }
        return nil
    }

    /// The action for a line scored again; `tierDLimit` is tier D's recommended limit.
    public static func decide(_ facts: Facts, tierDLimit: Int, policy: LimitPolicy, now: Timestamp) -> Action {
        if let reason = skipReason(status: facts.status, assessmentConsentActive: facts.assessmentConsentActive) {
            return .skipped(reason)
        }
        switch facts.newTier {
        case .e:
            return facts.status == .active ? .freeze : .none
        case .d:
            return facts.currentLimit > tierDLimit ? .lowerLimit(to: tierDLimit) : .none
        case .a, .b, .c:
            // Better than the tier the line's terms were set at, and eligible under every
            // increase rule but the customer's acceptance, which the offer asks for.
            guard let current = facts.currentTier, facts.newTier < current, !facts.optedOut else { return .none }
            let step = facts.currentLimit + facts.currentLimit * policy.maxIncreasePercent / 100
            let candidate = min(facts.newRecommendedLimit, step, policy.maxLimit)
            guard candidate > facts.currentLimit else { return .none }
            let state = LimitPolicy.State(
                status: facts.status, currentLimit: facts.currentLimit, optedOut: facts.optedOut,
                creditLineConsentActive: facts.creditLineConsentActive,
                assessmentConsentActive: facts.assessmentConsentActive, lastIncreaseAt: facts.lastIncreaseAt,
                latestDecision: (tier: facts.newTier, scoredAt: now))
            let request = LimitPolicy.Request(newLimit: candidate, initiatedBy: .system, customerAccepted: true)
            guard (try? policy.evaluate(request, state: state, now: now)) == .increase else { return .none }
            return .offer(limit: candidate)
        }
    }
}
