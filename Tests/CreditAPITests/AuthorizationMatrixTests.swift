import CreditLine
import CreditStore
import Foundation
import Testing
@testable import CreditAPI

/// Every route × every kind of credential (README "Roles", "Tenants"): no key, a malformed key, an
/// unknown key, a revoked key, each role's key, and another tenant's keys. Nothing refused writes
/// anything.
@Suite struct AuthorizationMatrixTests {
    /// Who may call each route. A route the router has and this table lacks fails the test, so a
    /// new route cannot be added without saying who may call it.
    /// Routes that act for the whole installation: a key of one tenant is refused even in its role.
    static let installationWide: Set<String> = ["POST /v1/models/{version}/reviews"]

    static let allowed: [String: Set<Role>] = [
        "GET /healthz": [], "GET /readyz": [], "GET /metrics": [], "GET /openapi.json": [],
        "POST /v1/accounts": [.service],
        "GET /v1/accounts/{id}": [.service, .operator],
        "POST /v1/accounts/{id}/consents": [.service],
        "GET /v1/accounts/{id}/consents": [.service, .operator],
        "POST /v1/accounts/{id}/scores": [.service],
        "POST /v1/accounts/{id}/activation": [.service],
        "POST /v1/accounts/{id}/terms-acceptance": [.service],
        "POST /v1/accounts/{id}/limit-adjustments": [.service, .operator],
        "PUT /v1/accounts/{id}/preferences": [.service],
        "POST /v1/accounts/{id}/freeze": [.operator],
        "POST /v1/accounts/{id}/unfreeze": [.operator],
        "POST /v1/accounts/{id}/closure": [.operator],
        "GET /v1/accounts/{id}/draw-quote": [.service],
        "POST /v1/accounts/{id}/draws": [.service],
        "POST /v1/accounts/{id}/repayments": [.service],
        "GET /v1/accounts/{id}/statement": [.service, .operator],
        "POST /v1/accounts/{id}/cancellation": [.service],
        "POST /v1/accounts/{id}/charge-off": [.operator],
        "GET /v1/consents/{id}": [.service, .operator],
        "GET /v1/accounts/{id}/notices": [.service, .operator],
        "GET /v1/notices": [.operator],
        "POST /v1/notices/{id}/delivery": [.service],
        "GET /v1/events": [.service],
        "POST /v1/events/{id}/redelivery": [.operator],
        "POST /v1/webhook-endpoints": [.operator],
        "GET /v1/webhook-endpoints/{id}": [.operator],
        "DELETE /v1/webhook-endpoints/{id}": [.operator],
        "GET /v1/webhook-endpoints/{id}/deliveries": [.operator],
        "POST /v1/consents/{id}/withdrawal": [.service],
        "GET /v1/decisions/{id}": [.service, .operator],
        "POST /v1/decisions/{id}/review-requests": [.service],
        "GET /v1/reviews": [.operator],
        "POST /v1/reviews/{id}/resolution": [.operator],
        "GET /v1/terms": [.service, .operator],
        "GET /v1/consent-notices": [.service],
        "GET /v1/audit": [.auditor],
        "GET /v1/audit/head": [.auditor],
        "GET /v1/audit/public-key": [.auditor],
        "GET /v1/audit/verify": [.auditor],
        "POST /v1/audit/verify": [.auditor],
        "GET /v1/models": [.operator, .auditor, .risk],
        "POST /v1/models/{version}/reviews": [.risk],
        "GET /v1/models/{version}/stability": [.operator, .auditor, .risk],
        "POST /v1/portfolio-reviews": [.operator],
        "GET /v1/portfolio-reviews/{id}": [.operator],
        "GET /v1/accounts/{id}/limit-offers": [.service, .operator],
        "POST /v1/accounts/{id}/limit-offers/{offer_id}/acceptance": [.service],
        "POST /v1/accounts/{id}/limit-offers": [.operator],
        "GET /v1/data-inventory": [.auditor],
        "GET /v1/compliance/report": [.auditor],
        "GET /v1/accounts/{id}/data-export": [.service],
        "POST /v1/accounts/{id}/customer-links": [.service],
        "POST /v1/accounts/{id}/affordability": [.service],
        "GET /v1/accounts/{id}/affordability": [.service, .operator],
        "POST /v1/accounts/{id}/hardship-requests": [.service],
        "POST /v1/accounts/{id}/draws/{draw_id}/refunds": [.service],
        "GET /v1/accounts/{id}/bureau-reports": [.service, .operator, .auditor],
        "POST /v1/accounts/{id}/bureau-disputes": [.service],
        "GET /v1/bureau-disputes": [.operator],
        "GET /v1/bureau-disputes/{id}": [.service, .operator],
        "POST /v1/bureau-disputes/{id}/resolution": [.operator],
        "GET /v1/hardship-requests": [.operator],
        "GET /v1/hardship-requests/{id}": [.service, .operator],
        "POST /v1/hardship-requests/{id}/resolution": [.operator],
    ]

    /// A harmless body per route, so that a refusal is about the credential, never the input.
    static func body(for route: String, _ ids: (account: String, consent: String, decision: String, review: String))
        -> String?
    {
        switch route {
        case "POST /v1/accounts": return #"{"customer_ref":"matrix-new"}"#
        case "POST /v1/accounts/{id}/consents": return ConsentTests.grantBody(purpose: "credit_assessment")
        case "POST /v1/accounts/{id}/scores": return LineTests.tierA
        case "POST /v1/accounts/{id}/activation":
            return #"{"consent_id":"\#(ids.consent)","decision_id":"\#(ids.decision)","terms_version":"2026-11"}"#
        case "POST /v1/accounts/{id}/terms-acceptance": return #"{"decision_id":"\#(ids.decision)","terms_version":"2026-11"}"#
        case "POST /v1/accounts/{id}/limit-adjustments":
            return #"{"new_limit":100000,"reason_code":"customer_request","note":"customer asked","initiated_by":"customer","customer_confirmation":{"channel":"app","method":"explicit_opt_in","notice_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}"#
        case "PUT /v1/accounts/{id}/preferences": return #"{"limit_increase_opt_out":true}"#
        case "POST /v1/accounts/{id}/freeze", "POST /v1/accounts/{id}/unfreeze", "POST /v1/accounts/{id}/closure":
            return #"{"reason_code":"other","note":"matrix"}"#
        case "POST /v1/consents/{id}/withdrawal": return #"{"channel":"app"}"#
        case "POST /v1/accounts/{id}/cancellation", "POST /v1/accounts/{id}/limit-offers/{offer_id}/acceptance":
            return #"{"channel":"app","customer_confirmation":{"channel":"app","method":"explicit_opt_in","notice_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}"#
        case "POST /v1/accounts/{id}/limit-offers": return #"{"offered_limit":100000,"reason_code":"customer_request"}"#
        case "POST /v1/accounts/{id}/draws": return #"{"amount":100,"customer_selected":true}"#
        case "POST /v1/accounts/{id}/repayments": return #"{"amount":100}"#
        case "POST /v1/accounts/{id}/draws/{draw_id}/refunds": return #"{"amount":100,"merchant_ref":"matrix"}"#
        case "POST /v1/accounts/{id}/bureau-disputes": return #"{"item":"overdue","statement":"matrix"}"#
        case "POST /v1/bureau-disputes/{id}/resolution": return #"{"upheld":false,"reason_code":"dispute_rejected_accurate"}"#
        case "POST /v1/accounts/{id}/charge-off": return #"{"reason_code":"fraud"}"#
        case "POST /v1/notices/{id}/delivery": return #"{"channel":"app","delivered_at":"2026-01-01T00:00:00Z"}"#
        case "POST /v1/webhook-endpoints": return #"{"url":"http://127.0.0.1:9/hook","event_types":["account.activated"]}"#
        case "POST /v1/decisions/{id}/review-requests": return #"{"statement":"please look"}"#
        case "POST /v1/reviews/{id}/resolution": return #"{"approve":false,"note":"matrix"}"#
        case "POST /v1/models/{version}/reviews":
            return #"{"outcome":"rejected","valid_until":"2099-01-01T00:00:00Z"}"#
        case "POST /v1/portfolio-reviews": return #"[]"#
        case "POST /v1/audit/verify": return #"{"at":"2026-01-01T00:00:00.000Z","heads":[],"signature":"AA=="}"#
        case "POST /v1/accounts/{id}/hardship-requests":
            return #"{"kind":"payment_holiday","months":1,"customer_confirmation":{"channel":"app","method":"explicit_opt_in","notice_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}"#
        case "POST /v1/hardship-requests/{id}/resolution": return #"{"approve":false,"reason_code":"hardship_not_needed"}"#
        case "POST /v1/accounts/{id}/affordability":
            return #"{"monthly_income":100000,"monthly_obligations":0,"source":"self_declared","customer_confirmation":{"channel":"app","method":"explicit_opt_in","notice_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}"#
        case "POST /v1/accounts/{id}/customer-links":
            return #"{"purpose":"withdrawal","consent_purpose":"credit_line","return_url":"http://127.0.0.1:9/back"}"#
        default: return nil
        }
    }

    static func path(_ pattern: String, _ ids: (account: String, consent: String, decision: String, review: String),
                     _ more: [Store.Subject: String]) -> String
    {
        let id: String
        switch RouteSubject.of(pattern) {
        case .account: id = ids.account
        case .consent: id = ids.consent
        case .decision: id = ids.decision
        case .review: id = ids.review
        case let subject?: id = more[subject] ?? "missing"
        case nil: id = "missing"
        }
        // The model routes name a version, an offer has its own id: real-looking values, so that
        // the credential, not the path, decides the answer.
        return pattern.replacingOccurrences(of: "{id}", with: id).replacingOccurrences(of: "{version}", with: "v1")
            .replacingOccurrences(of: "{offer_id}", with: "lof_missing").replacingOccurrences(of: "{draw_id}", with: "drw_missing")
    }

    @Test func everyRouteEveryCredential() async throws {
        let service = try TestService { $0.rateLimitService = 0; $0.rateLimitOperator = 0; $0.rateLimitAuditor = 0; $0.rateLimitRisk = 0 }
        // The console's pages sign in with a session, not a key: ConsoleTests covers them. The
        // customer's own pages take the link's token in their address: CustomerPageTests.
        let routes = service.application.makeRouter().routes.map { "\($0.method) \($0.pattern)" }
            .filter { !$0.contains(" /console") && !$0.contains(" /c/") }
        #expect(Set(routes) == Set(Self.allowed.keys), "the table and the router disagree")
        let ids = try await TenantTests().defaultTenantJourney(service)
        // A notice (an activation confirmation), an event and a webhook endpoint of the default tenant.
        let opened = try await LineTests().prepare(service, "matrix-open")
        _ = try await LineTests().activate(service, opened)
        let notices = try await service.call("GET", "/v1/accounts/\(opened.account)/notices").json["items"] as? [[String: Any]]
        let events = try await service.call("GET", "/v1/events").json["items"] as? [[String: Any]]
        let endpoint = try await service.call("POST", "/v1/webhook-endpoints", role: .operator, body: """
            {"url":"http://127.0.0.1:9/hook","event_types":["account.activated"],"tenant":"default"}
            """).json["id"] as? String
        let more: [Store.Subject: String] = [
            .notice: try #require(notices?.first?["id"] as? String), .event: try #require(events?.first?["id"] as? String),
            .webhookEndpoint: try #require(endpoint),
        ]

        let store = service.store
        var revoked: [Role: String] = [:]
        for role in Role.allCases {
            let issued = try store.createKey(role: role, name: "revoked \(role.rawValue)", tenant: role == .service ? "default" : nil)
            _ = try store.revokeKey(id: issued.key.id)
            revoked[role] = issued.token
        }
        let other: [Role: String] = [
            .service: try store.createKey(role: .service, name: "other", tenant: "other").token,
            .operator: try store.createKey(role: .operator, name: "other ops", tenant: "other").token,
            .auditor: try store.createKey(role: .auditor, name: "other audit", tenant: "other").token,
            .risk: try store.createKey(role: .risk, name: "other risk", tenant: "other").token,
        ]
        let before = try await store.auditPosition().text

        for route in routes.sorted() {
            let parts = route.split(separator: " ", maxSplits: 1).map(String.init)
            let (method, pattern) = (parts[0], parts[1])
            let roles = Self.allowed[route] ?? []
            let path = Self.path(pattern, ids, more)
            let body = Self.body(for: route, ids)
            let public_ = roles.isEmpty
            // No key, a malformed one, an unknown one, a revoked one of each role.
            var unauthenticated: [String?] = [nil, "not-a-key", "clk_nobody_nothing"]
            unauthenticated += Role.allCases.map { revoked[$0] }
            for token in unauthenticated {
                let reply = try await service.call(method, path, role: nil, token: token, body: body)
                if public_ {
                    #expect(reply.status < 400 || route == "GET /readyz", "\(route) with \(token ?? "no key")")
                } else {
                    #expect(reply.status == 401, "\(route) with \(token ?? "no key"): \(reply.status)")
                }
            }
            guard !public_ else { continue }
            for role in Role.allCases where !roles.contains(role) {
                let reply = try await service.call(method, path, role: role, body: body)
                #expect(reply.status == 403, "\(route) as \(role): \(reply.status)")
                let foreign = try await service.call(method, path, role: nil, token: other[role], body: body)
                #expect(foreign.status == 403, "\(route) as another tenant's \(role): \(foreign.status)")
            }
            for role in roles {
                let foreign = try await service.call(method, path, role: nil, token: other[role], body: body)
                if Self.installationWide.contains(route) {
                    #expect(foreign.status == 403 && foreign.json["code"] as? String == "all-tenants-key-required",
                            "\(route) as another tenant's \(role): \(foreign.status)")
                } else if RouteSubject.of(pattern) != nil {
                    #expect(foreign.status == 404, "\(route) as another tenant's \(role): \(foreign.status)")
                } else {
                    #expect(foreign.status < 500 && foreign.status != 401 && foreign.status != 403,
                            "\(route) as another tenant's \(role): \(foreign.status)")
                }
            }
        }
        // Of all those calls, only the other tenant's own account and endpoint creation wrote anything.
        let written = try await service.call("GET", "/v1/audit?after=\(before)", role: .auditor)
            .json["items"] as? [[String: Any]] ?? []
        #expect(written.compactMap { $0["action"] as? String }.sorted() == ["account.created", "webhook_endpoint.created"])
        await service.stop()
    }
}
