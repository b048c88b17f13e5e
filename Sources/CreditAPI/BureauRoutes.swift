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

    @Sendable func list(_: Request, _ context: RequestContext, _: Call) async throws -> Response {
        let accountID = try context.parameter("id")
        guard try await store.account(id: accountID) != nil else { throw DomainError.notFound("account") }
        let reports = try await store.bureauReports(accountID: accountID)
        return try ResponseBody.json(JSONValue.object(["items": .array(reports.map(\.json))]))
    }
}
