import CreditLine
import CreditStore
import Foundation
import Testing
@testable import CreditAPI

/// A whole journey with recognisable values in every place a caller can put text or numbers;
/// afterwards none of them is in any log line or audit entry (README "Audit", "Operations").
@Suite struct CanaryTests {
    @Test func nothingACallerSentLeaksIntoLogsOrTheChain() async throws {
        let logs = LogCapture()
        let service = try TestService(logs: logs)
        let canaryRequestID = "canary-rid-4455"
        let canaries = [
            "canary-ref-7788", "canary-evidence-5511", "4242424", "canary-statement-9900", "canary-note-3344",
            "canary-reason-1212", canaryRequestID,
        ]
        let headers = ["X-Request-Id": canaryRequestID]
        func call(_ method: String, _ path: String, role: Role = .service, body: String? = nil) async throws -> RawClient.Reply {
            try await service.call(method, path, role: role, body: body, headers: headers)
        }
        let account = try #require(try await call("POST", "/v1/accounts", body: #"{"customer_ref":"canary-ref-7788"}"#)
            .json["id"] as? String)
        let assessment = try #require(try await call(
            "POST", "/v1/accounts/\(account)/consents",
            body: ConsentTests.grantBody(purpose: "credit_assessment", extra: #","evidence":"canary-evidence-5511""#))
            .json["id"] as? String)
        let line = try #require(try await call("POST", "/v1/accounts/\(account)/consents",
                                         body: ConsentTests.grantBody(purpose: "credit_line")).json["id"] as? String)
        let features = #"{"features":{"months_on_platform":4,"orders_12m":20,"spend_12m":4242424,"on_time_ratio_12m":null,"overdue_events_12m":2,"max_days_overdue_12m":0,"return_ratio_12m":0.2,"identity_verified":false}}"#
        let decision = try #require(try await call("POST", "/v1/accounts/\(account)/scores", body: features).json["id"] as? String)
        _ = try await call("POST", "/v1/decisions/\(decision)/review-requests", body: #"{"statement":"canary-statement-9900"}"#)
        let activation = try await call("POST", "/v1/accounts/\(account)/activation",
                                  body: #"{"consent_id":"\#(line)","decision_id":"\#(decision)","terms_version":"2026-11"}"#)
        let review = try #require(activation.json["review_id"] as? String)
        #expect(try await call("POST", "/v1/reviews/\(review)/resolution", role: .operator,
                         body: #"{"approve":true,"note":"canary-note-3344"}"#).status == 200)
        #expect(try await call("POST", "/v1/consents/\(assessment)/withdrawal",
                         body: #"{"channel":"app","reason":"canary-reason-1212"}"#).status == 200)

        let audit = try await service.call("GET", "/v1/audit?limit=1000", role: .auditor)
        let entries = String(decoding: audit.body, as: UTF8.self)
        #expect(entries.contains("consent.withdrawn"))
        for canary in canaries {
            #expect(!entries.contains(canary), "\(canary) is in the audit chain")
        }
        let keys = service.keys.values
        for line in logs.all {
            for canary in canaries where canary != canaryRequestID || !line.contains("client_request_id=\(canary)") {
                #expect(!line.contains(canary), "\(canary) is in a log line")
            }
            for key in keys { #expect(!line.contains(key), "a key is in a log line") }
        }
        for key in keys { #expect(!entries.contains(key)) }
        await service.stop()
    }
}
