import CreditLine
import CreditStore
import HTTPServer
import HTTPTypes

/// Credit reporting (README "Credit reporting"): what was reported of an account and corrected.
struct BureauRoutes: RouteFamily {
    let application: Application

    func register(on router: inout Router) {
        router.get("/v1/accounts/{id}/bureau-reports", handler: application.authorized([.service, .operator, .auditor], list))
    }

    /// A missing account (or another tenant's) is 404 already: `authorized` checked its tenant.
    @Sendable func list(_: Request, _ context: RequestContext, _: Call) async throws -> Response {
        let reports = try await store.bureauReports(accountID: try context.parameter("id"))
        return try ResponseBody.json(JSONValue.object(["items": .array(reports.map(\.json))]))
    }
}

/// Disputes of credit reporting (README "Credit reporting"): the customer's through the calling
/// service, an operator's answer within 20 days.
struct BureauDisputeRoutes: RouteFamily {
    let application: Application

    struct Open: RequestFields {
        var item: String
        var statement: String
        enum CodingKeys: String, CodingKey, CaseIterable { case item, statement }
    }

    struct Answer: RequestFields {
        var upheld: Bool
        var reasonCode: String
        var note: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case upheld, note
            case reasonCode = "reason_code"
        }
    }

    /// A dispute as answered: every member, null where there is none yet (never the statement).
    static func body(_ dispute: BureauDispute) -> JSONValue {
        .object([
            "id": .string(dispute.id), "account_id": .string(dispute.accountID), "item": .string(dispute.item.rawValue),
            "status": .string(dispute.status.rawValue), "opened_at": .string(dispute.openedAt.rfc3339),
            "due_by": .string(dispute.dueBy.rfc3339), "resolved_at": dispute.resolvedAt.map { .string($0.rfc3339) } ?? .null,
            "reason_code": dispute.reasonCode.map(JSONValue.string) ?? .null,
        ])
    }

    func register(on router: inout Router) {
        router.post("/v1/accounts/{id}/bureau-disputes", handler: application.authorized([.service], open))
        router.get("/v1/bureau-disputes", handler: application.authorized([.operator], waiting))
        router.get("/v1/bureau-disputes/{id}", handler: application.authorized([.service, .operator], read))
        router.post("/v1/bureau-disputes/{id}/resolution", handler: application.authorized([.operator], answer))
    }

    @Sendable func open(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let body = try RequestBody.decode(Open.self, from: request)
        let item = try BureauDisputeRules.validate(item: body.item, statement: body.statement)
        return try await call.perform(OpenBureauDispute(accountID: try context.parameter("id"), item: item, statement: body.statement)) {
            var response = try ResponseBody.json(Self.body($0), status: .created)
            response.headerFields[.location] = "/v1/bureau-disputes/\($0.id)"
            return response
        }
    }

    /// `?status=open` (the only listing): the operators' queue, the nearest deadline first.
    @Sendable func waiting(_ request: Request, _: RequestContext, _ call: Call) async throws -> Response {
        guard request.queryParameters["status"] == "open" else {
            throw DomainError.invalidField("status", "status must be open: the disputes waiting for an answer.")
        }
        let items = try await store.openBureauDisputes(scope: call.scope)
        return try ResponseBody.json(JSONValue.object(["items": .array(items.map(Self.body))]))
    }

    @Sendable func read(_: Request, _ context: RequestContext, _: Call) async throws -> Response {
        guard let found = try await store.bureauDispute(id: try context.parameter("id")) else {
            throw DomainError.notFound("bureau dispute")
        }
        return try ResponseBody.json(Self.body(found))
    }

    @Sendable func answer(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let body = try RequestBody.decode(Answer.self, from: request)
        let (reasonCode, note) = try application.reasonCodes.parse(code: body.reasonCode, note: body.note)
        let write = ResolveBureauDispute(disputeID: try context.parameter("id"), upheld: body.upheld, reasonCode: reasonCode,
                                         note: note, resolvedBy: call.key.id)
        return try await call.perform(write) { try ResponseBody.json(Self.body($0)) }
    }
}
