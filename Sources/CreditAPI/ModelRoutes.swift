import CreditLine
import CreditStore
import Foundation
import HTTPServer
import HTTPTypes

/// The model registry, model reviews and stability (README "Periodic review").
struct ModelRoutes: RouteFamily {
    let application: Application

    struct ReviewRequest: RequestFields {
        var outcome: String
        var findings: String?
        var validUntil: String
        enum CodingKeys: String, CodingKey, CaseIterable {
            case outcome, findings
            case validUntil = "valid_until"
        }
    }

    struct ReviewBody: Encodable {
        var review: ModelReview
        var now: Timestamp
        enum CodingKeys: String, CodingKey {
            case id, version, outcome, findings
            case modelVersion = "model_version"
            case validUntil = "valid_until"
            case inForce = "in_force"
            case createdAt = "created_at"
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(review.id, forKey: .id)
            try container.encode(review.version, forKey: .version)
            try container.encode(review.modelVersion, forKey: .modelVersion)
            try container.encode(review.outcome.rawValue, forKey: .outcome)
            try container.encode(review.findings, forKey: .findings)
            try container.encode(review.validUntil.rfc3339, forKey: .validUntil)
            try container.encode(review.isInForce(at: now), forKey: .inForce)
            try container.encode(review.createdAt.rfc3339, forKey: .createdAt)
        }
    }

    struct ModelBody: Encodable {
        var version: String
        var modelVersion: String
        var sha256: String
        var role: String
        /// Whether the model may approve anyone by itself now (an approved review in force).
        var decidesAlone: Bool
        var latestReview: ReviewBody?
        enum CodingKeys: String, CodingKey {
            case version, sha256, role
            case modelVersion = "model_version"
            case decidesAlone = "decides_alone"
            case latestReview = "latest_review"
        }
    }

    struct ModelsBody: Encodable {
        var champion: String
        var challenger: String?
        var models: [ModelBody]
    }

    private var registry: ModelRegistry { application.scoring.registry }

    func register(on router: inout Router) {
        router.get("/v1/models", handler: application.authorized([.operator, .auditor, .risk], listModels))
        router.post("/v1/models/{version}/reviews", handler: application.authorized([.risk], allTenants: true, reviewModel))
        router.get("/v1/models/{version}/stability", handler: application.authorized([.operator, .auditor, .risk], readStability))
    }

    // MARK: - Endpoints

    @Sendable func listModels(_: Request, _: RequestContext, _ call: Call) async throws -> Response {
        let reviews = try await store.latestModelReviews(modelVersions: registry.scorecards.map(\.modelVersion))
        return try ResponseBody.json(ModelsBody(
            champion: registry.champion.version, challenger: registry.challenger?.version,
            models: registry.scorecards.map { card in
                let latest = reviews[card.modelVersion]
                let part = registry.part(of: card.version)
                return ModelBody(
                    version: card.version, modelVersion: card.modelVersion, sha256: card.sha256, role: part.rawValue,
                    decidesAlone: part == .champion && latest?.isInForce(at: call.now) == true,
                    latestReview: latest.map { ReviewBody(review: $0, now: call.now) })
            }))
    }

    /// One review rules the model for every tenant's decisions: a tenant's risk key may not.
    @Sendable func reviewModel(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let card = try Self.scorecard(registry, try context.parameter("version"))
        let body = try RequestBody.decode(ReviewRequest.self, from: request)
        guard let outcome = ModelReviewRules.Outcome(rawValue: body.outcome) else {
            throw DomainError.invalidField("outcome", "outcome must be approved or rejected.")
        }
        guard let validUntil = Timestamp(rfc3339: body.validUntil) else {
            throw DomainError.invalidField("valid_until", "valid_until must be an RFC 3339 date-time.")
        }
        if let findings = body.findings {
            try FreeText.check(findings, field: "findings", max: ModelReviewRules.maxFindingsLength)
        }
        return try await call.perform(RecordModelReview(
            version: card.version, modelVersion: card.modelVersion, outcome: outcome, findings: body.findings,
            validUntil: validUntil, reviewer: call.key.approver)
        ) { review in
            try ResponseBody.json(ReviewBody(review: review, now: call.now), status: .created)
        }
    }

    @Sendable func readStability(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let card = try Self.scorecard(registry, try context.parameter("version"))
        let query = request.queryParameters
        let (from, to) = try ReportWindow.resolve(from: query["from"], to: query["to"], now: call.now)
        guard var report = StabilityReport(try await store.stabilityCounts(of: card, from: from, to: to, scope: call.scope))
        else {
            throw DomainError(.conflict, code: .noDevelopmentDistribution,
                              "Scorecard \(card.version) carries no development distribution to compare with.")
        }
        (report.from, report.to) = (from.rfc3339, to.rfc3339)
        return try ResponseBody.json(report)
    }

    static func scorecard(_ registry: ModelRegistry, _ version: String) throws -> Scorecard {
        guard let card = registry.scorecard(version: version) else { throw DomainError.notFound("model") }
        return card
    }
}
