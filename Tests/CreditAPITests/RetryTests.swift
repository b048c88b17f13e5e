import CreditLine
import Foundation
import GRDB
import Testing
@testable import CreditAPI
@testable import CreditStore

/// Sends every request on its own connection before reading any answer, so they are all in
/// flight at once.
func concurrently(_ service: TestService, _ requests: [String]) throws -> [RawClient.Reply] {
    let clients = try requests.map { _ in try RawClient(port: service.port, receiveTimeout: 20) }
    for (client, request) in zip(clients, requests) { client.send(request) }
    return try clients.map { try #require($0.read()) }
}

func rawPost(_ path: String, token: String, body: String, headers: [String: String] = [:]) -> String {
    var head = "POST \(path) HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(token)\r\nContent-Length: \(body.utf8.count)\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    return head + "\r\n" + body
}

@Suite struct RetryTests {
    func count(_ service: TestService, _ sql: String) async throws -> Int {
        try service.store.database.read { db in try Int.fetchOne(db, sql: sql) ?? -1 }
    }

    @Test func replayReturnsTheFirstAnswerByteForByte() async throws {
        let service = try TestService()
        let headers = ["Idempotency-Key": "create-42"]
        let first = try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"idem-1"}"#, headers: headers)
        let second = try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"idem-1"}"#, headers: headers)
        #expect(first.status == 201)
        #expect(second.status == 201)  // not 200: the first answer, replayed
        #expect(second.body == first.body)
        #expect(second.header("Idempotent-Replayed") == "true")
        #expect(first.header("Idempotent-Replayed") == nil)
        #expect(second.header("ETag") == first.header("ETag"))
        let reused = try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"idem-2"}"#, headers: headers)
        #expect(reused.status == 422)
        #expect(reused.json["code"] as? String == "idempotency-key-reused")
        // Keys belong to the calling API key: another caller may use the same string.
        let other = try service.store.createKey(role: .service, name: "other").token
        let elsewhere = try await service.call("POST", "/v1/accounts", token: other, body: #"{"customer_ref":"idem-3"}"#,
                                         headers: headers)
        #expect(elsewhere.status == 201)
        let bad = try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"idem-4"}"#,
                                   headers: ["Idempotency-Key": String(repeating: "k", count: 256)])
        #expect(bad.status == 422)
        #expect(bad.json["field"] as? String == "Idempotency-Key")
        await service.stop()
    }

    @Test func failedValidationDoesNotUseUpTheKey() async throws {
        let service = try TestService()
        let headers = ["Idempotency-Key": "retry-after-fix"]
        let invalid = try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"a b"}"#, headers: headers)
        #expect(invalid.status == 422)
        let fixed = try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"a-b"}"#, headers: headers)
        #expect(fixed.status == 201)
        await service.stop()
    }

    @Test func staleIfMatchIs412() async throws {
        let service = try TestService()
        let journey = try await LineTests().prepare(service, "im-1")
        _ = try await LineTests().activate(service, journey)
        let account = try await service.call("GET", "/v1/accounts/\(journey.account)")
        let etag = try #require(account.header("ETag"))
        let path = "/v1/accounts/\(journey.account)/preferences"
        let ok = try await service.call("PUT", path, body: #"{"limit_increase_opt_out":true}"#, headers: ["If-Match": etag])
        #expect(ok.status == 200)
        #expect(ok.header("ETag") != etag)
        let stale = try await service.call("PUT", path, body: #"{"limit_increase_opt_out":false}"#, headers: ["If-Match": etag])
        #expect(stale.status == 412)
        #expect(stale.json["code"] as? String == "version-mismatch")
        #expect(try await service.call("GET", "/v1/accounts/\(journey.account)").json["limit_increase_opt_out"] as? Bool == true)
        await service.stop()
    }

    @Test func rateLimitAnswers429WithRetryAfter() async throws {
        let service = try TestService { $0.rateLimitOperator = 1; $0.rateLimitBurstSeconds = 2 }
        // A token a second: over sockets without yielding, so that a loaded test run cannot
        // spread the calls over the seconds that would refill the bucket.
        var statuses: [Int] = []
        for _ in 0..<4 { statuses.append(try service.socketCall("GET", "/v1/accounts/acc_x", role: .operator).status) }
        #expect(statuses == [404, 404, 429, 429])
        let limited = try service.socketCall("GET", "/v1/accounts/acc_x", role: .operator)
        #expect(limited.json["code"] as? String == "rate-limited")
        #expect(limited.header("Retry-After") == "1")
        // Other keys and the health endpoints are not affected.
        #expect(try await service.call("GET", "/v1/accounts/acc_x", role: .service).status == 404)
        #expect(try await service.call("GET", "/healthz", role: nil).status == 200)
        await service.stop()
    }

    @Test func sixtyFourConcurrentActivationsOpenOneLine() async throws {
        let service = try TestService()
        let journey = try await LineTests().prepare(service, "race-1")
        let body = #"{"consent_id":"\#(journey.lineConsent)","decision_id":"\#(journey.decision)","terms_version":"2026-11"}"#
        let path = "/v1/accounts/\(journey.account)/activation"
        let token = try #require(service.keys[.service])
        // Half with one idempotency key, half with keys of their own.
        let requests = (0..<64).map { index in
            rawPost(path, token: token, body: body, headers: ["Idempotency-Key": index < 32 ? "same" : "own-\(index)"])
        }
        let replies = try concurrently(service, requests)
        let activated = replies.filter { $0.status == 200 && $0.header("Idempotent-Replayed") == nil }
        #expect(activated.count == 1)
        #expect(replies.allSatisfy { [200, 409].contains($0.status) })
        #expect(try await count(service, "SELECT COUNT(*) FROM audit_log WHERE action = 'account.activated'") == 1)
        await service.stop()
    }

    @Test func thirtyTwoConcurrentIncreasesApplyOnce() async throws {
        let service = try TestService()
        let journey = try await LineTests().prepare(service, "race-2")
        _ = try await LineTests().activate(service, journey, limit: #","requested_limit":1000000"#)
        let token = try #require(service.keys[.service])
        let path = "/v1/accounts/\(journey.account)/limit-adjustments"
        let body = #"{"new_limit":1500000,"reason_code":"customer_request","note":"customer asked","initiated_by":"customer","customer_confirmation":{"channel":"app","method":"explicit_opt_in","notice_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}"#
        let replies = try concurrently(service, (0..<32).map { _ in rawPost(path, token: token, body: body) })
        #expect(replies.filter { $0.status == 201 }.count == 1)
        #expect(replies.filter { $0.status == 422 }.count == 31)
        #expect(try await service.call("GET", "/v1/accounts/\(journey.account)").json["credit_limit"] as? Int == 1_500_000)
        #expect(try await count(service, "SELECT COUNT(*) FROM limit_adjustments") == 1)
        await service.stop()
    }

    @Test func twoHundredReplaysHaveOneEffect() async throws {
        let service = try TestService()
        let token = try #require(service.keys[.service])
        let before = try await service.store.auditLength()
        let request = rawPost("/v1/accounts", token: token, body: #"{"customer_ref":"replayed"}"#,
                              headers: ["Idempotency-Key": "once"])
        let replies = try concurrently(service, Array(repeating: request, count: 200))
        #expect(replies.allSatisfy { $0.status == 201 || ($0.status == 409 && $0.json["code"] as? String == "request-in-progress") })
        #expect(replies.filter { $0.status == 201 }.count >= 1)
        #expect(try await count(service, "SELECT COUNT(*) FROM accounts WHERE customer_ref = 'replayed'") == 1)
        #expect(try await service.store.auditLength() == before + 1)
        await service.stop()
    }
}
