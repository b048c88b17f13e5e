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
