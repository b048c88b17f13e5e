import CreditApp
import CreditLine
import CreditStore
import Foundation
import HTTPServer
import HTTPTypes

extension PortfolioReviewRunner {
    /// A review's models and limits, as this service is configured.
    public static func settings(_ model: ScoringModel, _ configuration: ServiceConfiguration) -> PortfolioReviewSettings {
        PortfolioReviewSettings(champion: model.registry.champion, challenger: model.registry.challenger,
                                prohibited: model.prohibited, policy: configuration.limitPolicy)
    }
}

struct PortfolioRoutes: RouteFamily {
    let application: Application

    struct ReviewBody: Encodable {
        var review: PortfolioReviewRecord
        enum CodingKeys: String, CodingKey {
            case id, status, rows, summary
            case rowsDone = "rows_done"
            case modelVersion = "model_version"
            case createdAt = "created_at"
            case completedAt = "completed_at"
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(review.id, forKey: .id)
            try container.encode(review.status.rawValue, forKey: .status)
            try container.encode(review.rowsTotal, forKey: .rows)
            try container.encode(review.rowsDone, forKey: .rowsDone)
            try container.encode(review.modelVersion, forKey: .modelVersion)
            try container.encode(review.summary, forKey: .summary)
            try container.encode(review.createdAt.rfc3339, forKey: .createdAt)
            try container.encode(review.completedAt?.rfc3339, forKey: .completedAt)
        }
    }

    struct OfferBody: Encodable {
        var offer: LimitOffer
        var now: Timestamp
        enum CodingKeys: String, CodingKey {
            case id, status
            case accountID = "account_id"
            case reviewID = "portfolio_review_id"
            case reasonCode = "reason_code"
            case decisionID = "decision_id"
            case currentLimit = "current_limit"
            case offeredLimit = "offered_limit"
            case createdAt = "created_at"
            case expiresAt = "expires_at"
            case acceptedAt = "accepted_at"
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(offer.id, forKey: .id)
            try container.encode(offer.accountID, forKey: .accountID)
            try container.encode(offer.reviewID, forKey: .reviewID)
            try container.encode(offer.reasonCode, forKey: .reasonCode)
            try container.encode(offer.decisionID, forKey: .decisionID)
            try container.encode(offer.currentLimit, forKey: .currentLimit)
            try container.encode(offer.offeredLimit, forKey: .offeredLimit)
            try container.encode(offer.status(at: now).rawValue, forKey: .status)
            try container.encode(offer.createdAt.rfc3339, forKey: .createdAt)
            try container.encode(offer.expiresAt.rfc3339, forKey: .expiresAt)
            try container.encode(offer.acceptedAt?.rfc3339, forKey: .acceptedAt)
        }
    }

    struct AcceptanceBody: Encodable {
        var offer: OfferBody
        var account: AccountBody
    }

    private var settings: PortfolioReviewSettings {
        PortfolioReviewRunner.settings(application.scoring, application.configuration)
    }
    private var policy: LimitPolicy { application.configuration.limitPolicy }

    func register(on router: inout Router) {
        router.post("/v1/portfolio-reviews", admission: application.uploadAdmission([.operator]),
                    handler: application.authorized([.operator], runPortfolioReview))
        router.get("/v1/portfolio-reviews/{id}", handler: application.authorized([.operator], readPortfolioReview))
        router.get("/v1/accounts/{id}/limit-offers", handler: application.authorized([.service, .operator], listLimitOffers))
        router.post("/v1/accounts/{id}/limit-offers", handler: application.authorized([.operator], offerLimit))
        router.post("/v1/accounts/{id}/limit-offers/{offer_id}/acceptance", handler: application.authorized([.service], acceptLimitOffer))
    }

    // MARK: - Endpoints

    @Sendable func runPortfolioReview(_ request: Request, _: RequestContext, _ call: Call) async throws -> Response {
        // The whole upload is on disk before this runs, and nothing of it is applied until
        // every row was found (a broken upload is refused whole).
        let (review, isNew) = try await PortfolioReviewRunner.run(
            try request.wholeBody(), store: store, settings: settings, scope: call.scope, actor: call.actor,
            createdBy: call.key.approver)
        var response = try ResponseBody.json(ReviewBody(review: review), status: isNew ? .created : .ok)
        response.headerFields[.location] = "/v1/portfolio-reviews/\(review.id)"
        return response
    }

    @Sendable func readPortfolioReview(_: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        guard let review = try await store.portfolioReview(id: try context.parameter("id")),
              call.scope.tenant == nil || review.scope == call.scope.tenant
        else { throw DomainError.notFound("portfolio review") }
        return try ResponseBody.json(ReviewBody(review: review))
    }

    @Sendable func listLimitOffers(_: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let accountID = try context.parameter("id")
        guard try await store.account(id: accountID) != nil else { throw DomainError.notFound("account") }
        let offers = try await store.limitOffers(accountID: accountID)
        return try ResponseBody.json(["items": offers.map { OfferBody(offer: $0, now: call.now) }])
    }

    /// An operator's offer of more than the line has (above all, more than the customer asked
    /// for at activation): nothing moves until the customer accepts it.
    @Sendable func offerLimit(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        struct Offer: RequestFields {
            var offeredLimit: FeatureInput?
            var reasonCode: String
            var note: String?
            enum CodingKeys: String, CodingKey, CaseIterable {
                case note
                case offeredLimit = "offered_limit"
                case reasonCode = "reason_code"
            }
        }
        let body = try RequestBody.decode(Offer.self, from: request)
        guard let offered = try LineRoutes.amount(body.offeredLimit, field: "offered_limit") else {
            throw DomainError(.invalid, code: .invalidAmount, "offered_limit is required.", field: "offered_limit")
        }
        let (reasonCode, note) = try application.reasonCodes.parse(code: body.reasonCode, note: body.note)
        return try await call.perform(MakeLimitOffer(
            accountID: try context.parameter("id"), offeredLimit: offered, reasonCode: reasonCode, note: note,
            policy: policy, actorKeyID: call.key.id)
        ) { offer in
            var response = try ResponseBody.json(OfferBody(offer: offer, now: call.now), status: .created)
            response.headerFields[.location] = "/v1/accounts/\(offer.accountID)/limit-offers"
            return response
        }
    }

    @Sendable func acceptLimitOffer(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let accountID = try context.parameter("id")
        struct Acceptance: RequestFields {
            var customerConfirmation: ConfirmationRequest?
            enum CodingKeys: String, CodingKey, CaseIterable { case customerConfirmation = "customer_confirmation" }
        }
        let body = request.body.isEmpty ? Acceptance() : try RequestBody.decode(Acceptance.self, from: request)
        return try await call.perform(AcceptLimitOffer(
            accountID: accountID, offerID: try context.parameter("offer_id"),
            confirmation: try ConfirmationRequest.parse(body.customerConfirmation), policy: policy,
            actorKeyID: call.key.id)
        ) { offer, account in
            var response = try ResponseBody.json(AcceptanceBody(
                offer: OfferBody(offer: offer, now: call.now), account: AccountBody(account, asOf: call.now)))
            response.headerFields[.eTag] = "\"\(account.version)\""
            return response
        }
    }
}
