/// A scoring decision as recorded (README "Scoring").
public struct Decision: Sendable, Equatable {
    public struct ExplanationRow: Sendable, Equatable, Codable {
        public var characteristic: String
        public var bin: String
        public var points: Int
        public var maxPoints: Int
        /// Where the value came from when a periodic review scored the account: `supplied` by
        /// the caller or derived from the `ledger`; nil for a decision scored on request.
        public var source: String?

        public init(characteristic: String, bin: String, points: Int, maxPoints: Int, source: String? = nil) {
            self.characteristic = characteristic
            self.bin = bin
            self.points = points
            self.maxPoints = maxPoints
            self.source = source
        }

        enum CodingKeys: String, CodingKey {
            case characteristic, bin, points, source
            case maxPoints = "max_points"
        }
    }

    public var id: String
    public var accountID: String
    public var score: Int
    public var tier: Tier
    public var outcome: Outcome
    public var recommendedLimit: Int
    public var reasons: [Scorecard.Reason]
    public var modelVersion: String
    /// The canonical JSON of the inputs while they are kept; nil once erased.
    public var inputs: String?
    public var inputsSHA256: String
    public var explanation: [ExplanationRow]
    public var scoredAt: Timestamp
    public var expiresAt: Timestamp

    public init(id: String, accountID: String, score: Int, tier: Tier, outcome: Outcome, recommendedLimit: Int,
                reasons: [Scorecard.Reason], modelVersion: String, inputs: String?, inputsSHA256: String,
                explanation: [ExplanationRow], scoredAt: Timestamp, expiresAt: Timestamp)
    {
        self.id = id
        self.accountID = accountID
        self.score = score
        self.tier = tier
        self.outcome = outcome
        self.recommendedLimit = recommendedLimit
        self.reasons = reasons
        self.modelVersion = modelVersion
        self.inputs = inputs
        self.inputsSHA256 = inputsSHA256
        self.explanation = explanation
        self.scoredAt = scoredAt
        self.expiresAt = expiresAt
    }

    public func isExpired(at now: Timestamp) -> Bool { now >= expiresAt }
}

/// A request for a person to look at something the system decided or could not decide.
public struct Review: Sendable, Equatable {
    public enum Kind: String, Sendable { case contest, activation }
    public enum Status: String, Sendable { case open, resolved, cancelled }

    public var id: String
    public var kind: Kind
    public var status: Status
    public var accountID: String
    public var decisionID: String
    public var statement: String?
    public var createdAt: Timestamp

    public init(id: String, kind: Kind, status: Status, accountID: String, decisionID: String, statement: String?,
                createdAt: Timestamp)
    {
        self.id = id
        self.kind = kind
        self.status = status
        self.accountID = accountID
        self.decisionID = decisionID
        self.statement = statement
        self.createdAt = createdAt
    }

    public static let maxStatementLength = 1000
}

/// A review as the queue shows it.
public struct ReviewRecord: Sendable, Equatable {
    public var review: Review
    public var resolvedAt: Timestamp?
    public var resolution: String?
    public var firstApprover: String?
    public var firstApprovedLimit: Int?
    /// Why an activation waits beyond its tier: `model-review-overdue`; nil for tier D.
    public var reason: String?
    /// The limit the customer asked for when activating, if they named one: no approval grants
    /// more (README "Activation, reviews and limits").
    public var requestedLimit: Int?

    public init(review: Review, resolvedAt: Timestamp? = nil, resolution: String? = nil, firstApprover: String? = nil,
                firstApprovedLimit: Int? = nil, reason: String? = nil, requestedLimit: Int? = nil)
    {
        self.reason = reason
        self.requestedLimit = requestedLimit
        self.review = review
        self.resolvedAt = resolvedAt
        self.resolution = resolution
        self.firstApprover = firstApprover
        self.firstApprovedLimit = firstApprovedLimit
    }
}
