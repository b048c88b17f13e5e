import CreditLine
import CreditStore
import Foundation
import HTTPServer
import HTTPTypes

/// Hardship plans (README "Hardship plans"): the customer asks through the calling service, an
/// operator decides, the plan runs until it is complete or broken.
struct HardshipRoutes: RouteFamily {
    let application: Application

    struct Ask: RequestFields {
        var kind: String
        var months: FeatureInput
        var customerConfirmation: ConfirmationRequest?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case kind, months
            case customerConfirmation = "customer_confirmation"
        }
    }

    struct Decide: RequestFields {
        var approve: Bool
        var reasonCode: String
        var note: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case approve, note
            case reasonCode = "reason_code"
        }
    }

    /// A request as answered: every member, null where there is none yet.
    static func body(_ request: HardshipRequest) -> JSONValue {
        func time(_ value: Timestamp?) -> JSONValue { value.map { .string($0.rfc3339) } ?? .null }
        return .object([
            "id": .string(request.id), "account_id": .string(request.accountID), "kind": .string(request.kind.rawValue),
            "months": .int(request.months), "status": .string(request.status.rawValue),
            "requested_at": .string(request.requestedAt.rfc3339), "resolved_at": time(request.resolvedAt),
            "reason_code": request.reasonCode.map(JSONValue.string) ?? .null,
            "delinquency_at_approval": request.delinquencyAtApproval.map { .string($0.rawValue) } ?? .null,
            "ended_at": time(request.endedAt), "end_reason": request.endReason.map(JSONValue.string) ?? .null,
        ])
    }

    func register(on router: inout Router) {
        router.post("/v1/accounts/{id}/hardship-requests", handler: application.authorized([.service], ask))
        router.get("/v1/hardship-requests", handler: application.authorized([.operator], waiting))
        router.get("/v1/hardship-requests/{id}", handler: application.authorized([.service, .operator], read))
        router.post("/v1/hardship-requests/{id}/resolution", handler: application.authorized([.operator], decide))
    }

    @Sendable func ask(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let body = try RequestBody.decode(Ask.self, from: request)
        guard case .integer(let months) = body.months else {
            throw DomainError.invalidField("months", "months must be a whole number.")
        }
        let kind = try HardshipRules.validate(kind: body.kind, months: months)
        let write = RequestHardship(accountID: try context.parameter("id"), kind: kind, months: months,
                                    confirmation: try ConfirmationRequest.parse(body.customerConfirmation))
        return try await call.perform(write) { made in
            var response = try ResponseBody.json(Self.body(made), status: .created)
            response.headerFields[.location] = "/v1/hardship-requests/\(made.id)"
            return response
        }
    }

    /// `?status=pending` (the only listing): the operators' queue, oldest first.
    @Sendable func waiting(_ request: Request, _: RequestContext, _ call: Call) async throws -> Response {
        guard request.queryParameters["status"] == "pending" else {
            throw DomainError.invalidField("status", "status must be pending: the queue of requests waiting for a decision.")
        }
        let items = try await store.pendingHardshipRequests(scope: call.scope)
        return try ResponseBody.json(JSONValue.object(["items": .array(items.map(Self.body))]))
    }

    @Sendable func read(_: Request, _ context: RequestContext, _: Call) async throws -> Response {
        guard let found = try await store.hardshipRequest(id: try context.parameter("id")) else {
            throw DomainError.notFound("hardship request")
        }
        return try ResponseBody.json(Self.body(found))
    }

    @Sendable func decide(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let body = try RequestBody.decode(Decide.self, from: request)
        let (reasonCode, note) = try application.reasonCodes.parse(code: body.reasonCode, note: body.note)
        let write = ResolveHardship(requestID: try context.parameter("id"), approve: body.approve, reasonCode: reasonCode,
                                    note: note, resolvedBy: call.key.id)
        return try await call.perform(write) { decided in try ResponseBody.json(Self.body(decided)) }
    }
}
