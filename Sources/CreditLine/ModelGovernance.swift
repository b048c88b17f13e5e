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
    public static let overdueReason = ProblemCode.modelReviewOverdue.rawValue

    /// The outcome to act on: an approval stands only under an approved review in force at
    /// `now`; otherwise a person decides (review). Reviews and declines are never changed: a
    /// lapsed review makes the model more careful, never harsher.
    public static func outcome(_ outcome: Decision.Outcome, latestReview: Review?, now: Timestamp)
        -> (outcome: Decision.Outcome, reason: String?)
    {
        guard outcome == .approve else { return (outcome, nil) }
        guard isInForce(latestReview, now: now) else { return (.review, overdueReason) }
        return (outcome, nil)
    }

    /// Whether a review is in force at `now`: approved, and `now` before its end.
    public static func isInForce(_ review: Review?, now: Timestamp) -> Bool {
        guard let review else { return false }
        return review.approved && now < review.validUntil
    }

    /// A periodic review lowers, freezes and offers by the model's word alone: it runs only while
    /// the champion has an approved review in force.
    public static func requireInForce(_ review: Review?, now: Timestamp) throws(DomainError) {
        guard isInForce(review, now: now) else {
            throw DomainError(.conflict, code: .modelReviewOverdue,
                              "The champion model has no approved review in force; a periodic review waits for one.")
        }
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
        /// The latest affordability assessment and the line's plans: an offer is never more than
        /// the customer can repay, and none is made without a current assessment.
        public var affordability: AffordabilityAssessment?
        public var plans: [Terms.Plan]

        public init(status: AccountStatus, creditLineConsentActive: Bool, assessmentConsentActive: Bool, optedOut: Bool,
                    currentLimit: Int, currentTier: Tier?, lastIncreaseAt: Timestamp?, newTier: Tier,
                    newRecommendedLimit: Int, affordability: AffordabilityAssessment? = nil, plans: [Terms.Plan] = [])
        {
            (self.affordability, self.plans) = (affordability, plans)
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
            guard let affordable = Affordability.affordableCap(facts.affordability, plans: facts.plans,
                                                               settings: policy.affordability, now: now) else { return .none }
            let candidate = min(facts.newRecommendedLimit, step, policy.maxLimit, affordable,
                                policy.affordability.regulatoryLimitCap)
            guard candidate > facts.currentLimit else { return .none }
            // The review runs only under a reviewed champion (`ModelReviewGate.requireInForce`).
            let state = LimitPolicy.State(
                status: facts.status, currentLimit: facts.currentLimit, optedOut: facts.optedOut,
                creditLineConsentActive: facts.creditLineConsentActive,
                assessmentConsentActive: facts.assessmentConsentActive, lastIncreaseAt: facts.lastIncreaseAt,
                latestDecision: (tier: facts.newTier, scoredAt: now), latestDecisionModelReviewed: true,
                affordability: facts.affordability, plans: facts.plans)
            let request = LimitPolicy.Request(newLimit: candidate, initiatedBy: .system, customerAccepted: true)
            guard (try? policy.evaluate(request, state: state, now: now)) == .increase else { return .none }
            return .offer(limit: candidate)
        }
    }
}

/// The scorecards the service knows and the part each plays (README "Periodic review"): the
/// champion decides; the challenger, if any, is scored in shadow and decides nothing; the rest
/// are kept for their stored decisions' sake.
public struct ModelRegistry: Sendable {
    public enum Part: String, Sendable { case champion, challenger, retired }

    public let scorecards: [Scorecard]
    public let champion: Scorecard
    public let challenger: Scorecard?

    public init(scorecards: [Scorecard], champion: String, challenger: String?) throws(ScorecardError) {
        var seen = Set<String>()
        for card in scorecards where !seen.insert(card.version).inserted {
            throw ScorecardError("models: version \(card.version) is in two files")
        }
        guard let first = scorecards.first(where: { $0.version == champion }) else {
            throw ScorecardError("models: the champion \(champion) has no scorecard file")
        }
        if let challenger {
            guard challenger != champion else { throw ScorecardError("models: the challenger must differ from the champion") }
            guard scorecards.contains(where: { $0.version == challenger }) else {
                throw ScorecardError("models: the challenger \(challenger) has no scorecard file")
            }
        }
        self.scorecards = scorecards.sorted { $0.version < $1.version }
        self.champion = first
        self.challenger = challenger.flatMap { name in scorecards.first { $0.version == name } }
    }

    public func part(of version: String) -> Part {
        if version == champion.version { return .champion }
        if version == challenger?.version { return .challenger }
        return .retired
    }

    public func scorecard(version: String) -> Scorecard? { scorecards.first { $0.version == version } }
}

/// What a model review may say, checked before it is recorded.
public enum ModelReviewRules {
    public enum Outcome: String, Sendable, CaseIterable { case approved, rejected }

    /// A review holds for at most a year: the model is examined again at least that often.
    public static let maxValidityDays = 366
    public static let maxFindingsLength = 2000

    /// `valid_until` must be after `now` and at most `maxValidityDays` ahead.
    public static func checkValidUntil(_ validUntil: Timestamp, now: Timestamp) throws(DomainError) {
        guard validUntil > now else {
            throw DomainError(.invalid, code: .invalidDate, "valid_until must be in the future.", field: "valid_until")
        }
        guard validUntil <= now.adding(days: maxValidityDays) else {
            throw DomainError(.invalid, code: .invalidDate,
                              "A review holds for at most \(maxValidityDays) days.", field: "valid_until")
        }
    }
}

/// The counts a stability report is made of, gathered from stored decisions one at a time (the
/// store streams them; nothing here holds a decision).
public struct StabilityCounts: Sendable {
    public let scorecard: Scorecard
    public private(set) var decisions = 0
    public private(set) var bandCounts: [Int]
    /// Per characteristic, the decisions whose inputs are still held, counted per cell.
    public private(set) var cellCounts: [String: [Int]]
    public private(set) var outcomes: [Decision.Outcome: Int] = [:]
    /// Champion against challenger, on the decisions both scored.
    public private(set) var agreement = Stability.Agreement()

    public init(scorecard: Scorecard) {
        self.scorecard = scorecard
        bandCounts = Array(repeating: 0, count: scorecard.development?.bandMinScores.count ?? 0)
        cellCounts = Dictionary(uniqueKeysWithValues: scorecard.characteristics.map {
            ($0.name, Array(repeating: 0, count: $0.cellLabels.count))
        })
    }

    /// One decision: its score and outcome by this scorecard, its inputs if still held, and the
    /// other model's outcome when both scored it.
    public mutating func add(score: Int, outcome: Decision.Outcome, inputs: [String: FeatureInput]?,
                             other: Decision.Outcome?, asChallenger: Bool)
    {
        decisions += 1
        outcomes[outcome, default: 0] += 1
        if let band = scorecard.band(ofScore: score) { bandCounts[band] += 1 }
        if let inputs {
            for characteristic in scorecard.characteristics {
                if let value = inputs[characteristic.name], let cell = characteristic.cell(of: value) {
                    cellCounts[characteristic.name]?[cell] += 1
                }
            }
        }
        if let other {
            let (champion, challenger) = asChallenger ? (other, outcome) : (outcome, other)
            agreement.add(championApproves: champion == .approve, challengerApproves: challenger == .approve)
        }
    }
}

/// How far the scored population has moved from the development one, per score band and per
/// characteristic, with the window's outcome rates and the champion/challenger agreement.
public struct StabilityReport: Sendable, Encodable {
    public struct Cell: Sendable, Encodable, Equatable {
        public var label: String
        public var count: Int
        public var expected: Double
        public var actual: Double
        public var contribution: Double
    }

    public struct Characteristic: Sendable, Encodable, Equatable {
        public var name: String
        public var population: Int
        public var index: Double
        public var status: String
        public var cells: [Cell]
    }

    public struct Rates: Sendable, Encodable, Equatable {
        public var approve: Double
        public var review: Double
        public var decline: Double
    }

    public struct Agreement: Sendable, Encodable, Equatable {
        public var compared: Int
        public var rate: Double
        public var swapIn: Int
        public var swapOut: Int
        enum CodingKeys: String, CodingKey {
            case compared, rate
            case swapIn = "swap_in"
            case swapOut = "swap_out"
        }
    }

    public var version: String
    public var modelVersion: String
    /// The window `[from, to)` the decisions were scored in, as the caller named it.
    public var from: String?
    public var to: String?
    public var decisions: Int
    public var populationStabilityIndex: Double
    public var status: String
    public var bands: [Cell]
    public var characteristics: [Characteristic]
    public var rates: Rates
    public var agreement: Agreement?

    enum CodingKeys: String, CodingKey {
        case version, from, to, decisions, status, bands, characteristics, rates, agreement
        case modelVersion = "model_version"
        case populationStabilityIndex = "population_stability_index"
    }

    /// Index values and shares to four decimal places: what the usual cut-offs are read at.
    static func rounded(_ value: Double) -> Double { (value * 10_000).rounded() / 10_000 }

    /// With nobody counted there is nothing to compare: every part is 0, not the floor's
    /// artefact.
    static func cells(labels: [String], expected: [Double], counts: [Int]) -> [Cell] {
        let actual = Stability.shares(counts)
        let empty = counts.allSatisfy { $0 == 0 }
        return labels.indices.map { index in
            Cell(label: labels[index], count: counts[index], expected: expected[index], actual: rounded(actual[index]),
                 contribution: empty ? 0 : rounded(Stability.contribution(expected: expected[index], actual: actual[index])))
        }
    }

    /// nil when the scorecard carries no development distribution to compare with.
    public init?(_ counts: StabilityCounts) {
        let card = counts.scorecard
        guard let development = card.development else { return nil }
        version = card.version
        modelVersion = card.modelVersion
        decisions = counts.decisions
        let psi = counts.decisions == 0
            ? 0 : Stability.index(expected: development.bandShares, actual: Stability.shares(counts.bandCounts))
        populationStabilityIndex = Self.rounded(psi)
        status = counts.decisions == 0 ? "no-data" : Stability.Status(index: psi).rawValue
        bands = Self.cells(labels: card.bandLabels, expected: development.bandShares, counts: counts.bandCounts)
        characteristics = card.characteristics.map { characteristic in
            let cellCounts = counts.cellCounts[characteristic.name] ?? []
            let expected = development.cellShares[characteristic.name] ?? []
            let population = cellCounts.reduce(0, +)
            let csi = population == 0 ? 0 : Stability.index(expected: expected, actual: Stability.shares(cellCounts))
            return Characteristic(
                name: characteristic.name, population: population, index: Self.rounded(csi),
                status: population == 0 ? "no-data" : Stability.Status(index: csi).rawValue,
                cells: Self.cells(labels: characteristic.cellLabels, expected: expected, counts: cellCounts))
        }
        let total = Double(max(counts.decisions, 1))
        rates = Rates(approve: Self.rounded(Double(counts.outcomes[.approve] ?? 0) / total),
                      review: Self.rounded(Double(counts.outcomes[.review] ?? 0) / total),
                      decline: Self.rounded(Double(counts.outcomes[.decline] ?? 0) / total))
        let compared = counts.agreement.both + counts.agreement.neither + counts.agreement.swapIn + counts.agreement.swapOut
        agreement = compared == 0 ? nil : Agreement(compared: compared, rate: Self.rounded(counts.agreement.rate),
                                                    swapIn: counts.agreement.swapIn, swapOut: counts.agreement.swapOut)
    }

    /// The same report as a plain-text table, for `creditline model report`.
    public var table: String {
        func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
        }
        func number(_ value: Double) -> String { String(format: "%.4f", value) }
        var lines = ["model \(modelVersion): \(decisions) decisions, PSI \(number(populationStabilityIndex)) (\(status))", ""]
        lines.append(pad("score band", 14) + pad("count", 9) + pad("expected", 10) + pad("actual", 10) + "contribution")
        for band in bands {
            lines.append(pad(band.label, 14) + pad(String(band.count), 9) + pad(number(band.expected), 10)
                + pad(number(band.actual), 10) + number(band.contribution))
        }
        lines.append("")
        lines.append(pad("characteristic", 24) + pad("inputs", 9) + pad("CSI", 10) + "status")
        for characteristic in characteristics {
            lines.append(pad(characteristic.name, 24) + pad(String(characteristic.population), 9)
                + pad(number(characteristic.index), 10) + characteristic.status)
        }
        lines.append("")
        lines.append("rates: approve \(number(rates.approve)), review \(number(rates.review)), decline \(number(rates.decline))")
        if let agreement {
            lines.append("challenger agreement: \(number(agreement.rate)) of \(agreement.compared); "
                + "swap-in \(agreement.swapIn), swap-out \(agreement.swapOut)")
        }
        return lines.joined(separator: "\n")
    }
}

/// The window a stability or compliance report reads: `[from, to)`, RFC 3339, by default the 30
/// days up to now.
public enum ReportWindow {
    public static let defaultDays = 30

    public static func resolve(from: String?, to: String?, now: Timestamp) throws(DomainError) -> (Timestamp, Timestamp) {
        // A bound the caller leaves out takes its documented default; one given must read.
        func parse(_ text: String?, _ name: String, absent: Timestamp) throws(DomainError) -> Timestamp {
            guard let text else { return absent }
            guard let time = Timestamp(rfc3339: text) else {
                throw DomainError.invalidField(name, "\(name) must be an RFC 3339 date-time.")
            }
            return time
        }
        let end = try parse(to, "to", absent: now)
        let start = try parse(from, "from", absent: end.adding(days: -defaultDays))
        guard start < end else { throw DomainError.invalidField("from", "from must be before to.") }
        return (start, end)
    }
}
