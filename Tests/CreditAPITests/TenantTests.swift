import CreditLine
import CreditStore
import Foundation
import Testing
@testable import CreditAPI

/// Tenants (README "Tenants"): a key sees its tenant's accounts and everything under them;
/// another tenant's id is answered exactly as an id that does not exist.
@Suite struct TenantTests {
    /// Every route with an id in its path, with a body that would otherwise pass validation.
    static func routes(_ ids: (account: String, consent: String, decision: String, review: String))
        -> [(method: String, path: String, role: Role, body: String?)]
    {
        [
            ("GET", "/v1/accounts/\(ids.account)", .service, nil),
            ("GET", "/v1/accounts/\(ids.account)", .operator, nil),
            ("POST", "/v1/accounts/\(ids.account)/consents", .service, ConsentTests.grantBody(purpose: "credit_assessment")),
            ("GET", "/v1/accounts/\(ids.account)/consents", .service, nil),
            ("POST", "/v1/accounts/\(ids.account)/scores", .service, LineTests.tierA),
            ("POST", "/v1/accounts/\(ids.account)/activation", .service,
             #"{"consent_id":"\#(ids.consent)","decision_id":"\#(ids.decision)","terms_version":"2026-11"}"#),
            ("POST", "/v1/accounts/\(ids.account)/terms-acceptance", .service,
             #"{"decision_id":"\#(ids.decision)","terms_version":"2026-11"}"#),
            ("POST", "/v1/accounts/\(ids.account)/limit-adjustments", .service,
             #"{"new_limit":100000,"reason_code":"customer_request","note":"customer asked","initiated_by":"customer","customer_confirmation":{"channel":"app","method":"explicit_opt_in","notice_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}"#),
            ("PUT", "/v1/accounts/\(ids.account)/preferences", .service, #"{"limit_increase_opt_out":true}"#),
            ("POST", "/v1/accounts/\(ids.account)/freeze", .operator, #"{"reason_code":"other","note":"suspected fraud"}"#),
            ("POST", "/v1/accounts/\(ids.account)/unfreeze", .operator, #"{"reason_code":"other","note":"cleared"}"#),
            ("POST", "/v1/accounts/\(ids.account)/closure", .operator, #"{"reason_code":"other","note":"customer asked"}"#),
            ("GET", "/v1/consents/\(ids.consent)", .service, nil),
            ("POST", "/v1/consents/\(ids.consent)/withdrawal", .service, #"{"channel":"app"}"#),
            ("GET", "/v1/decisions/\(ids.decision)", .service, nil),
            ("POST", "/v1/decisions/\(ids.decision)/review-requests", .service, #"{"statement":"please look again"}"#),
            ("POST", "/v1/reviews/\(ids.review)/resolution", .operator, #"{"approve":false,"note":"declined"}"#),
        ]
    }

    /// Tenant "default" has an account with both consents, a tier-D decision and an open review.
    func defaultTenantJourney(_ service: TestService) async throws -> (account: String, consent: String, decision: String,
                                                                    review: String)
    {
        let lines = LineTests()
        let journey = try await lines.prepare(service, "shared-ref", features: LineTests.tierD)
        let review = try await #require(try lines.activate(service, journey).json["review_id"] as? String)
        return (journey.account, journey.lineConsent, journey.decision, review)
    }

    @Test func anotherTenantsIdsAreNotFoundAndChangeNothing() async throws {
        let service = try TestService()
        let ids = try await defaultTenantJourney(service)
        let beta: [Role: String] = [
            .service: try service.store.createKey(role: .service, name: "beta", tenant: "beta").token,
            .operator: try service.store.createKey(role: .operator, name: "beta ops", tenant: "beta").token,
        ]
        let before = try await service.store.auditLength()
        let missing = (account: "acc_none", consent: "con_none", decision: "dec_none", review: "rev_none")
        for (route, absent) in zip(Self.routes(ids), Self.routes(missing)) {
            let reply = try await service.call(route.method, route.path, token: beta[route.role], body: route.body)
            let nothing = try await service.call(absent.method, absent.path, token: beta[absent.role], body: absent.body)
            #expect(reply.status == 404, "\(route.method) \(route.path)")
            // Byte for byte what an id that does not exist gets, but for the id itself.
            #expect(reply.json["code"] as? String == nothing.json["code"] as? String, "\(route.method) \(route.path)")
            #expect(reply.json["detail"] as? String == nothing.json["detail"] as? String, "\(route.method) \(route.path)")
        }
        #expect(try await service.store.auditLength() == before)
        // The owner still sees it all.
        #expect(try await service.call("GET", "/v1/accounts/\(ids.account)").status == 200)
        await service.stop()
    }

    @Test func customerRefIsUniquePerTenant() async throws {
        let service = try TestService()
        let beta = try service.store.createKey(role: .service, name: "beta", tenant: "beta").token
        let first = try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"c-1"}"#)
        let other = try await service.call("POST", "/v1/accounts", token: beta, body: #"{"customer_ref":"c-1"}"#)
        let again = try await service.call("POST", "/v1/accounts", token: beta, body: #"{"customer_ref":"c-1"}"#)
        #expect(first.status == 201)
        #expect(other.status == 201)
        #expect(again.status == 200)
        #expect(first.json["id"] as? String != other.json["id"] as? String)
        #expect(again.json["id"] as? String == other.json["id"] as? String)
        await service.stop()
    }

    @Test func listsShowOnlyTheKeysTenant() async throws {
        let service = try TestService()
        _ = try await defaultTenantJourney(service)
        let betaOperator = try service.store.createKey(role: .operator, name: "beta ops", tenant: "beta").token
        let betaAuditor = try service.store.createKey(role: .auditor, name: "beta audit", tenant: "beta").token
        let defaultAuditor = try service.store.createKey(role: .auditor, name: "default audit").token
        let queue = try await service.call("GET", "/v1/reviews", token: betaOperator)
        #expect((queue.json["items"] as? [Any])?.isEmpty == true)
        #expect((try await service.call("GET", "/v1/reviews", role: .operator).json["items"] as? [Any])?.count == 1)
        let betaAudit = try await service.call("GET", "/v1/audit", token: betaAuditor)
        #expect((betaAudit.json["items"] as? [Any])?.isEmpty == true)
        let ownAudit = try #require(try await service.call("GET", "/v1/audit?limit=1000", token: defaultAuditor)
            .json["items"] as? [[String: Any]])
        #expect(!ownAudit.isEmpty)
        #expect(ownAudit.allSatisfy { $0["account_id"] is String })
        await service.stop()
    }

    /// Four eyes are two persons: two keys of one person cannot approve together.
    @Test func fourEyesAreTwoPersons() async throws {
        let service = try TestService()
        let lines = LineTests()
        let journey = try await lines.prepare(service, "four-eyes-1", features: LineTests.tierD)
        let review = try #require(try await lines.activate(service, journey).json["review_id"] as? String)
        let ana1 = try service.store.createKey(role: .operator, name: "ana laptop", tenant: nil, person: "ana").token
        let ana2 = try service.store.createKey(role: .operator, name: "ana phone", tenant: nil, person: "ana").token
        let bo = try service.store.createKey(role: .operator, name: "bo", tenant: nil, person: "bo").token
        let body = #"{"approve":true,"credit_limit":300000,"note":"good history"}"#
        #expect(try await service.call("POST", "/v1/reviews/\(review)/resolution", token: ana1, body: body).status == 202)
        let same = try await service.call("POST", "/v1/reviews/\(review)/resolution", token: ana2, body: body)
        #expect(same.status == 409)
        #expect(same.json["code"] as? String == "four-eyes-required")
        #expect(try await service.call("POST", "/v1/reviews/\(review)/resolution", token: bo, body: body).status == 200)
        await service.stop()
    }

    /// A model review rules every tenant's decisions (the gate in README "Periodic review"): a
    /// tenant's risk key may not record one, in either direction; a risk key for all tenants may.
    @Test(arguments: ["approved", "rejected"])
    func aTenantsRiskKeyCannotReviewTheModels(outcome: String) async throws {
        let service = try TestService(modelReviewed: false)
        let tenantRisk = try service.store.createKey(role: .risk, name: "t1 risk", tenant: "t1").token
        let body = #"{"outcome":"\#(outcome)","valid_until":"\#(service.store.time.now().adding(days: 90).rfc3339)"}"#
        let before = try await service.store.auditLength()
        let refused = try await service.call("POST", "/v1/models/v1/reviews", role: nil, token: tenantRisk, body: body)
        #expect(refused.status == 403)
        #expect(refused.json["code"] as? String == "all-tenants-key-required", "\(refused.text)")
        #expect(try await service.store.auditLength() == before, "a refused review wrote something")
        let models = try await service.call("GET", "/v1/models", role: nil, token: tenantRisk).json["models"] as? [[String: Any]]
        #expect(models?.allSatisfy { $0["latest_review"] is NSNull || $0["latest_review"] == nil } == true, "\(models ?? [])")
        #expect(try await service.call("POST", "/v1/models/v1/reviews", role: .risk, body: body).status == 201)
        await service.stop()
    }

    @Test func aServiceKeyAlwaysHasATenant() async throws {
        let service = try TestService()
        #expect(throws: (any Error).self) { try service.store.createKey(role: .service, name: "nobody's", tenant: nil) }
        await service.stop()
    }
}
