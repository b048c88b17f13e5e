import CreditLine
import CreditStore
import Foundation
import HTTPServer
import HTTPTypes

/// Ability to repay (README "Ability to repay"): the customer's income and obligations, recorded
/// with their confirmation, and read back.
struct AffordabilityRoutes: RouteFamily {
    let application: Application

    struct AssessmentRequest: RequestFields {
        var monthlyIncome: FeatureInput
        var monthlyObligations: FeatureInput
        var source: String
        var evidenceRef: String?
        var customerConfirmation: ConfirmationRequest?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case source
            case monthlyIncome = "monthly_income"
            case monthlyObligations = "monthly_obligations"
            case evidenceRef = "evidence_ref"
            case customerConfirmation = "customer_confirmation"
        }
    }

    /// An assessment as answered: its amounts (null once erased), its term, and whether it is
    /// current now.
    static func body(_ assessment: AffordabilityAssessment, now: Timestamp) -> JSONValue {
        func optional(_ value: Int?) -> JSONValue { value.map(JSONValue.int) ?? .null }
        return .object([
            "id": .string(assessment.id), "account_id": .string(assessment.accountID),
            "monthly_income": optional(assessment.monthlyIncome), "monthly_obligations": optional(assessment.monthlyObligations),
            "source": .string(assessment.source.rawValue), "evidence_ref": assessment.evidenceRef.map(JSONValue.string) ?? .null,
            "assessed_at": .string(assessment.assessedAt.rfc3339), "valid_until": .string(assessment.validUntil.rfc3339),
            "current": .bool(assessment.isCurrent(at: now)),
        ])
    }

    func register(on router: inout Router) {
        router.post("/v1/accounts/{id}/affordability", handler: application.authorized([.service], record))
        router.get("/v1/accounts/{id}/affordability", handler: application.authorized([.service, .operator], current))
    }

    @Sendable func record(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let body = try RequestBody.decode(AssessmentRequest.self, from: request)
        // Whole fen, 0 or more, read as every amount is; the rule says which may not be 0.
        let income = try LineRoutes.amount(body.monthlyIncome, field: "monthly_income") ?? 0
        let obligations = try LineRoutes.amount(body.monthlyObligations, field: "monthly_obligations") ?? 0
        let (source, evidenceRef) = try Affordability.validate(monthlyIncome: income, monthlyObligations: obligations,
                                                               source: body.source, evidenceRef: body.evidenceRef)
        let write = RecordAffordability(
            accountID: try context.parameter("id"), monthlyIncome: income, monthlyObligations: obligations, source: source,
            evidenceRef: evidenceRef, confirmation: try ConfirmationRequest.parse(body.customerConfirmation))
        return try await call.perform(write) { assessment in
            try ResponseBody.json(Self.body(assessment, now: call.now), status: .created)
        }
    }

    /// The latest assessment, current or not (`current` says); 404 `not-found` when there is none.
    @Sendable func current(_: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let (found, assessment) = try await store.affordability(accountID: try context.parameter("id"))
        guard found else { throw DomainError.notFound("account") }
        guard let assessment else { throw DomainError.notFound("affordability assessment") }
        return try ResponseBody.json(Self.body(assessment, now: call.now))
    }
}
