import CreditLine
import Foundation
import GRDB
import Testing
@testable import CreditAPI
@testable import CreditStore

@Suite struct ScoringTests {
    static let features = #"{"features":{"months_on_platform":30,"orders_12m":20,"spend_12m":500000,"on_time_ratio_12m":0.98,"overdue_events_12m":0,"max_days_overdue_12m":0,"return_ratio_12m":0.05,"identity_verified":true}}"#

    /// Every characteristic's value in the explanation is in its own JSON type: 0 and 1 stay
    /// numbers, never false and true (Foundation's untyped parser bridged them); booleans stay
    /// booleans. Read back with the typed decoder, which tells the two apart.
    @Test(arguments: [0, 1])
    func explanationValuesKeepTheirType(value: Int) async throws {
        struct Decision: Decodable {
            struct Row: Decodable { var characteristic: String; var value: FeatureInput }
            var explanation: [Row]
        }
        let service = try TestService()
        let (account, _) = try await consentedAccount(service, "typed-\(value)")
        let numbers = ["months_on_platform", "orders_12m", "spend_12m", "on_time_ratio_12m", "overdue_events_12m",
                       "max_days_overdue_12m", "return_ratio_12m"]
        let features = numbers.map { #""\#($0)":\#(value)"# }.joined(separator: ",")
            + #","identity_verified":\#(value == 1)"#
        let scored = try await service.call("POST", "/v1/accounts/\(account)/scores", body: #"{"features":{\#(features)}}"#)
        #expect(scored.status == 201, "\(scored.text)")
        let id = try #require(scored.json["id"] as? String)
        let read = try JSONDecoder().decode(Decision.self, from: Data(try await service.call("GET", "/v1/decisions/\(id)", role: .operator).body))
        for name in numbers {
            #expect(read.explanation.first { $0.characteristic == name }?.value == .integer(value), "\(name) at \(value)")
        }
        #expect(read.explanation.first { $0.characteristic == "identity_verified" }?.value == .boolean(value == 1))
        await service.stop()
    }

    /// An account with an active credit_assessment consent; returns (account id, consent id).
    func consentedAccount(_ service: TestService, _ ref: String = "s-1") async throws -> (String, String) {
        let account = try #require(try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"\#(ref)"}"#)
            .json["id"] as? String)
        let consent = try #require(try await service.call(
            "POST", "/v1/accounts/\(account)/consents", body: ConsentTests.grantBody(purpose: "credit_assessment"))
            .json["id"] as? String)
        return (account, consent)
    }

    func decisionCount(_ service: TestService) async throws -> Int {
        try service.store.database.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM decisions") ?? 0
        }
    }

    @Test func scoringWithoutConsentCreatesNothing() async throws {
        let service = try TestService()
        let account = try #require(try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"nc-1"}"#)
            .json["id"] as? String)
        // A credit_line consent is not a credit_assessment consent.
        _ = try await service.call("POST", "/v1/accounts/\(account)/consents", body: ConsentTests.grantBody(purpose: "credit_line"))
        let before = try await service.store.auditLength()
        let reply = try await service.call("POST", "/v1/accounts/\(account)/scores", body: Self.features)
        #expect(reply.status == 409)
        #expect(reply.json["code"] as? String == "consent-required")
        // Even invalid features are not looked at without consent.
        let invalid = try await service.call("POST", "/v1/accounts/\(account)/scores", body: #"{"features":{"religion":"x"}}"#)
        #expect(invalid.json["code"] as? String == "consent-required")
        #expect(try await decisionCount(service) == 0)
        #expect(try await service.store.auditLength() == before)
        await service.stop()
    }

    @Test func decisionExplainsItself() async throws {
        let service = try TestService()
        let (account, _) = try await consentedAccount(service)
        let reply = try await service.call("POST", "/v1/accounts/\(account)/scores", body: Self.features)
        #expect(reply.status == 201)
        let decision = reply.json
        let id = try #require(decision["id"] as? String)
        #expect(id.hasPrefix("dec_"))
        #expect(reply.header("Location") == "/v1/decisions/\(id)")
        // 75 + 115 + 90 + 80 + 120 + 120 + 110 + 60 + 70
        #expect(decision["score"] as? Int == 840)
        #expect(decision["tier"] as? String == "A")
        #expect(decision["outcome"] as? String == "approve")
        #expect(decision["recommended_limit"] as? Int == 2_000_000)
        let reasons = try #require(decision["reasons"] as? [[String: Any]])
        #expect(reasons.count == 1)
        #expect(reasons.first?["code"] as? String == "R04")
        #expect(reasons.first?["points_lost"] as? Int == 10)
        #expect((decision["model_version"] as? String)?.hasPrefix("v1+sha256:") == true)
        #expect((decision["inputs_sha256"] as? String)?.count == 64)
        let scored = try #require(Timestamp(rfc3339: decision["scored_at"] as? String ?? ""))
        #expect(Timestamp(rfc3339: decision["expires_at"] as? String ?? "") == scored.adding(days: 30))
        #expect(decision["explanation"] == nil)

        let read = try await service.call("GET", "/v1/decisions/\(id)", role: .operator)
        #expect(read.status == 200)
        let rows = try #require(read.json["explanation"] as? [[String: Any]])
        #expect(rows.count == 8)
        let spend = try #require(rows.first { $0["characteristic"] as? String == "spend_12m" })
        #expect(spend["value"] as? Int == 500000)
        #expect(spend["bin"] as? String == "[200000, 1000000)")
        #expect(spend["points"] as? Int == 80)
        #expect(spend["max_points"] as? Int == 90)
        #expect(read.json["inputs_erased"] as? Bool == false)
        await service.stop()
    }

    @Test func sameInputsGiveTheSameScoreAndHash() async throws {
        let service = try TestService()
        let (account, _) = try await consentedAccount(service)
        let first = try await service.call("POST", "/v1/accounts/\(account)/scores", body: Self.features).json
        let second = try await service.call("POST", "/v1/accounts/\(account)/scores", body: Self.features).json
        #expect(first["score"] as? Int == second["score"] as? Int)
        #expect(first["inputs_sha256"] as? String == second["inputs_sha256"] as? String)
        #expect(first["id"] as? String != second["id"] as? String)
        await service.stop()
    }

    @Test(arguments: [
        (#"{"features":{"ethnicity":"x"}}"#, "prohibited-feature", "features.ethnicity"),
        (#"{"features":{"browser_history":1}}"#, "unknown-feature", "features.browser_history"),
        (#"{"features":{}}"#, "invalid-feature", "features.months_on_platform"),
        (#"{"features":{"months_on_platform":"long","orders_12m":1,"spend_12m":1,"on_time_ratio_12m":null,"overdue_events_12m":0,"max_days_overdue_12m":0,"return_ratio_12m":0,"identity_verified":true}}"#, "invalid-feature", "features.months_on_platform"),
        (#"{"features":{"months_on_platform":1,"orders_12m":1,"spend_12m":-5,"on_time_ratio_12m":null,"overdue_events_12m":0,"max_days_overdue_12m":0,"return_ratio_12m":0,"identity_verified":true}}"#, "invalid-feature", "features.spend_12m"),
        (#"{"features":{"months_on_platform":1,"orders_12m":1,"spend_12m":1,"on_time_ratio_12m":2,"overdue_events_12m":0,"max_days_overdue_12m":0,"return_ratio_12m":0,"identity_verified":true}}"#, "invalid-feature", "features.on_time_ratio_12m"),
        (#"{"features":[1,2]}"#, "invalid-field", "features"),
        (#"{"score":850}"#, "invalid-field", "score"),
    ])
    func badFeaturesAre422NamingTheField(body: String, code: String, field: String) async throws {
        let service = try TestService()
        let (account, _) = try await consentedAccount(service)
        let reply = try await service.call("POST", "/v1/accounts/\(account)/scores", body: body)
        #expect(reply.status == 422)
        #expect(reply.json["code"] as? String == code)
        #expect(reply.json["field"] as? String == field)
        #expect(try await decisionCount(service) == 0)
        await service.stop()
    }

    @Test func withdrawingConsentErasesInputsButNotTheDecision() async throws {
        let service = try TestService()
        let (account, consent) = try await consentedAccount(service)
        let id = try #require(try await service.call("POST", "/v1/accounts/\(account)/scores", body: Self.features)
            .json["id"] as? String)
        let withdrawal = try await service.call("POST", "/v1/consents/\(consent)/withdrawal", body: #"{"channel":"app"}"#)
        #expect((withdrawal.json["effects"] as? [[String: Any]])?.last?["decisions"] as? Int == 1)
        let read = try await service.call("GET", "/v1/decisions/\(id)")
        #expect(read.json["score"] as? Int == 840)
        #expect(read.json["inputs_erased"] as? Bool == true)
        let rows = try #require(read.json["explanation"] as? [[String: Any]])
        #expect(rows.allSatisfy { $0["value"] is NSNull })
        #expect(rows.allSatisfy { $0["points"] is Int })
        #expect(try await service.call("POST", "/v1/accounts/\(account)/scores", body: Self.features).status == 409)
        await service.stop()
    }

    @Test func customerCanAskForAHumanReviewOncePerDecision() async throws {
        let service = try TestService()
        let (account, _) = try await consentedAccount(service)
        let id = try #require(try await service.call("POST", "/v1/accounts/\(account)/scores", body: Self.features)
            .json["id"] as? String)
        let review = try await service.call("POST", "/v1/decisions/\(id)/review-requests",
                                      body: #"{"statement":"My late payment was a bank error."}"#)
        #expect(review.status == 201)
        #expect(review.json["kind"] as? String == "contest")
        #expect(review.json["status"] as? String == "open")
        #expect(review.json["decision_id"] as? String == id)
        let again = try await service.call("POST", "/v1/decisions/\(id)/review-requests", body: "")
        #expect(again.status == 409)
        #expect(again.json["code"] as? String == "review-already-open")
        #expect(try await service.call("POST", "/v1/decisions/dec_none/review-requests", body: "{}").status == 404)
        await service.stop()
    }

    @Test func theAuditLogRecordsTheDecisionNotItsInputs() async throws {
        let service = try TestService()
        let (account, _) = try await consentedAccount(service)
        _ = try await service.call("POST", "/v1/accounts/\(account)/scores", body: Self.features)
        let detail = try service.store.database.read { db in
            try String.fetchOne(db, sql: "SELECT detail FROM audit_log WHERE action = 'decision.scored'")
        }
        let text = try #require(detail)
        #expect(text.contains(#""score":840"#))
        #expect(text.contains(#""reason_codes":["R04"]"#))
        for input in ["500000", "0.98", "0.05", "months_on_platform"] {
            #expect(!text.contains(input), "\(input) leaked into the audit log")
        }
        await service.stop()
    }
}
