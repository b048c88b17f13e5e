import CreditLine
import CreditStore
import Foundation
import HTTPServer
import HTTPTypes

/// The files the service reads at start-up: a missing one stops it, naming the file.
enum ConfigFile {
    static func read(_ path: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else { throw ScorecardError("cannot read \(path)") }
        return data
    }
}

/// The models, the deny list and the terms, loaded and checked once at start-up.
public struct ScoringModel: Sendable {
    public let registry: ModelRegistry
    public let prohibited: ProhibitedFeatures
    public let terms: Terms

    /// The champion: the model that decides.
    public var scorecard: Scorecard { registry.champion }

    /// What the compliance report checks against: the current terms, the single-approver limit,
    /// and the configured grace for delivery reports.
    public func complianceSettings(_ configuration: ServiceConfiguration) -> ComplianceSettings {
        ComplianceSettings(currentTermsVersion: terms.version, singleApproverLimit: scorecard.tierDLimit,
                           noticeReportGraceHours: configuration.noticeReportGraceHours)
    }

    struct ModelsFile: Decodable {
        var champion: String
        var challenger: String?
    }

    /// A bad or missing file stops start-up, naming the file and the problem. Every scorecard
    /// in `scorecards/` beside the registry is loaded and checked, not only the two in use.
    public static func load(_ configuration: ServiceConfiguration) throws -> ScoringModel {
        let read = ConfigFile.read
        let prohibited = try ProhibitedFeatures(json: read(configuration.prohibitedFeatures))
        let models: ModelsFile
        do {
            models = try JSONDecoder().decode(ModelsFile.self, from: read(configuration.models))
        } catch let error as ScorecardError {
            throw error
        } catch {
            throw ScorecardError("\(configuration.models): not {\"champion\": ..., \"challenger\": ...}: \(error)")
        }
        let folder = URL(fileURLWithPath: configuration.models).deletingLastPathComponent()
            .appendingPathComponent("scorecards").path
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasSuffix(".json") }.sorted()
        var scorecards: [Scorecard] = []
        for file in files {
            let path = folder + "/" + file
            let card = try read(path)
            let scorecard: Scorecard
            do {
                scorecard = try Scorecard(json: card, sha256: Hashing.sha256Hex(card))
            } catch {
                throw ScorecardError("\(path): \(error.description)")
            }
            guard file == scorecard.version + ".json" else {
                throw ScorecardError("\(path): holds version \(scorecard.version); its file must be \(scorecard.version).json")
            }
            if let name = prohibited.firstUsed(by: scorecard) {
                throw ScorecardError("\(path): characteristic '\(name)' is on the deny list "
                    + "(\(configuration.prohibitedFeatures)); a model may not decide on it")
            }
            scorecards.append(scorecard)
        }
        let registry: ModelRegistry
        do {
            registry = try ModelRegistry(scorecards: scorecards, champion: models.champion, challenger: models.challenger)
        } catch {
            throw ScorecardError("\(configuration.models): \(error.description)")
        }
        let terms: Terms
        do {
            terms = try Terms(json: read(configuration.terms))
            // No line may cost more than the cap: terms above it are refused at start-up.
            try CostCap.check(terms, capBps: configuration.aprCapBps)
        } catch {
            throw ScorecardError("\(configuration.terms): \(error)")
        }
        return ScoringModel(registry: registry, prohibited: prohibited, terms: terms)
    }

    /// The challenger's view of the same features, or nil when there is no challenger or it
    /// cannot score them (a characteristic it needs is missing): shadow scoring never refuses.
    public func shadow(_ features: [String: FeatureInput]) -> (modelVersion: String, result: Scorecard.Result)? {
        guard let challenger = registry.challenger,
              let values = try? challenger.validate(features, denyList: prohibited) else { return nil }
        return (challenger.modelVersion, challenger.score(values))
    }
}

/// A decision as the API shows it; `explanation` only on GET.
struct DecisionBody: Encodable {
    let decision: Decision
    let explain: Bool

    struct Row: Encodable {
        var characteristic: String
        var value: FeatureJSON
        var bin: String
        var points: Int
        var maxPoints: Int
        var source: String?
        enum CodingKeys: String, CodingKey {
            case characteristic, value, bin, points, source
            case maxPoints = "max_points"
        }
    }

    /// A stored input value re-encoded in its own JSON type, as it was given: read with the
    /// typed decoder, so that 0 and 1 stay numbers (Foundation's untyped parser would bridge them
    /// to booleans).
    enum FeatureJSON: Encodable {
        case value(FeatureInput?)
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .value(.boolean(let value)?): try container.encode(value)
            case .value(.integer(let value)?): try container.encode(value)
            case .value(.number(let value)?): try container.encode(value)
            case .value(.text(let value)?): try container.encode(value)
            default: try container.encodeNil()
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, score, tier, outcome, reasons, explanation
        case accountID = "account_id"
        case recommendedLimit = "recommended_limit"
        case modelVersion = "model_version"
        case inputsSHA256 = "inputs_sha256"
        case inputsErased = "inputs_erased"
        case scoredAt = "scored_at"
        case expiresAt = "expires_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(decision.id, forKey: .id)
        try container.encode(decision.accountID, forKey: .accountID)
        try container.encode(decision.score, forKey: .score)
        try container.encode(decision.tier, forKey: .tier)
        try container.encode(decision.outcome, forKey: .outcome)
        try container.encode(decision.recommendedLimit, forKey: .recommendedLimit)
        try container.encode(decision.reasons, forKey: .reasons)
        try container.encode(decision.modelVersion, forKey: .modelVersion)
        try container.encode(decision.inputsSHA256, forKey: .inputsSHA256)
        try container.encode(decision.scoredAt.rfc3339, forKey: .scoredAt)
        try container.encode(decision.expiresAt.rfc3339, forKey: .expiresAt)
        guard explain else { return }
        try container.encode(decision.inputs == nil, forKey: .inputsErased)
        let inputs = decision.inputs.flatMap { try? JSONDecoder().decode([String: FeatureInput].self, from: Data($0.utf8)) }
        try container.encode(decision.explanation.map {
            Row(characteristic: $0.characteristic, value: .value(inputs?[$0.characteristic]), bin: $0.bin,
                points: $0.points, maxPoints: $0.maxPoints, source: $0.source)
        }, forKey: .explanation)
    }
}

struct ScoringRoutes: RouteFamily {
    let application: Application

    struct ScoreRequest: RequestFields {
        var features: [String: FeatureInput]
        enum CodingKeys: String, CodingKey, CaseIterable { case features }
    }

    struct ReviewRequest: RequestFields {
        var statement: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case statement }
    }

    private var model: ScoringModel { application.scoring }

    func register(on router: inout Router) {
        router.post("/v1/accounts/{id}/scores", handler: application.authorized([.service], scoreAccount))
        router.get("/v1/decisions/{id}", handler: application.authorized([.service, .operator], readDecision))
        router.post("/v1/decisions/{id}/review-requests", handler: application.authorized([.service], requestReview))
    }

    // MARK: - Endpoints

    @Sendable func scoreAccount(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let accountID = try context.parameter("id")
        // No processing at all without consent: the features are not even read before this.
        try await store.checkScoringEligibility(accountID: accountID, at: call.now)
        let features = try ScoreBody.features(request.body) ?? RequestBody.decode(ScoreRequest.self, from: request).features
        let values = try model.scorecard.validate(features, denyList: model.prohibited)
        let result = model.scorecard.score(values)
                    return try await call.perform(
            try ScoreAccount(accountID: accountID, result: result, modelVersion: model.scorecard.modelVersion,
                             validityDays: model.scorecard.decisionValidityDays, shadow: model.shadow(features))
        ) { decision in
            var response = Response.json(DecisionBody.unexplained(decision), status: .created)
            response.headerFields[.location] = "/v1/decisions/\(decision.id)"
            return response
        }
    }

    @Sendable func readDecision(_: Request, _ context: RequestContext, _: Call) async throws -> Response {
        guard let decision = try await store.decision(id: try context.parameter("id")) else {
            throw DomainError.notFound("decision")
        }
        return try ResponseBody.json(DecisionBody(decision: decision, explain: true))
    }

    @Sendable func requestReview(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let decisionID = try context.parameter("id")
        // An empty body is a request without a statement.
        let body = request.body.isEmpty
            ? ReviewRequest(statement: nil)
            : try RequestBody.decode(ReviewRequest.self, from: request)
        if let statement = body.statement {
            try FreeText.check(statement, field: "statement", max: Review.maxStatementLength)
        }
        return try await call.perform(RequestReview(decisionID: decisionID, statement: body.statement)) { review in
            try ResponseBody.json(LineRoutes.ReviewQueueBody.Item(record: ReviewRecord(review: review)), status: .created)
        }
    }
}
