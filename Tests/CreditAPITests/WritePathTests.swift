import CreditLine
import Foundation
import GRDB
import Synchronization
import Testing
@testable import CreditAPI
@testable import CreditStore

/// Counts commits on the store's writer, through SQLite's commit hook as GRDB reports it.
final class CommitCounter: TransactionObserver, Sendable {
    private let count = Atomic<Int>(0)
    var commits: Int { count.load(ordering: .relaxed) }
    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { count.wrappingAdd(1, ordering: .relaxed) }
    func databaseDidRollback(_ db: Database) {}
}

/// One request, one commit (docs/architecture.md, "The write path"): the business change, its
/// audit entries and the answer kept for its Idempotency-Key commit together.
@Suite struct WritePathTests {
    @Test func everyWriteRouteCommitsOncePerAcknowledgedRequest() async throws {
        let service = try TestService { $0.consentExpirySweepSeconds = 86_400 }
        try await Task.sleep(for: .milliseconds(100))  // the start-up sweep has run
        let counter = CommitCounter()
        service.store.database.add(transactionObserver: counter, extent: .observerLifetime)
        var serial = 0
        func once(_ method: String, _ path: String, role: Role = .service, body: String) throws -> RawClient.Reply {
            serial += 1
            let before = counter.commits
            let headers = ["Idempotency-Key": "one-commit-\(serial)"]
            let reply = try service.call(method, path, role: role, body: body, headers: headers)
            #expect((200..<300).contains(reply.status), "\(method) \(path): \(reply.status) \(reply.text)")
            #expect(counter.commits - before == 1, "\(method) \(path) committed \(counter.commits - before) times")
            // The replay reads; it commits nothing.
            let replayed = counter.commits
            let again = try service.call(method, path, role: role, body: body, headers: headers)
            #expect(again.header("Idempotent-Replayed") == "true")
            #expect(again.body == reply.body)
            #expect(counter.commits == replayed, "the replay of \(method) \(path) committed")
            return reply
        }
        let account = try #require(try once("POST", "/v1/accounts", body: #"{"customer_ref":"one-commit"}"#)
            .json["id"] as? String)
        let assessment = try #require(try once("POST", "/v1/accounts/\(account)/consents",
                                               body: ConsentTests.grantBody(purpose: "credit_assessment")).json["id"] as? String)
        let line = try #require(try once("POST", "/v1/accounts/\(account)/consents",
                                         body: ConsentTests.grantBody(purpose: "credit_line")).json["id"] as? String)
        let decision = try #require(try once("POST", "/v1/accounts/\(account)/scores", body: LineTests.tierD)
            .json["id"] as? String)
        _ = try once("POST", "/v1/decisions/\(decision)/review-requests", body: #"{"statement":"please look"}"#)
        let review = try #require(try once(
            "POST", "/v1/accounts/\(account)/activation",
            body: #"{"consent_id":"\#(line)","decision_id":"\#(decision)","terms_version":"2026-11"}"#).json["review_id"] as? String)
        _ = try once("POST", "/v1/reviews/\(review)/resolution", role: .operator, body: #"{"approve":true,"note":"fine"}"#)
        _ = try once("PUT", "/v1/accounts/\(account)/preferences", body: #"{"limit_increase_opt_out":true}"#)
        _ = try once("POST", "/v1/accounts/\(account)/limit-adjustments",
                     body: #"{"new_limit":100000,"reason":"customer asked","initiated_by":"customer"}"#)
        _ = try once("POST", "/v1/accounts/\(account)/freeze", role: .operator, body: #"{"reason":"checking"}"#)
        _ = try once("POST", "/v1/accounts/\(account)/unfreeze", role: .operator, body: #"{"reason":"checked"}"#)
        let better = try #require(try service.call("POST", "/v1/accounts/\(account)/scores", body: LineTests.tierA)
            .json["id"] as? String)
        _ = try once("POST", "/v1/accounts/\(account)/terms-acceptance",
                     body: #"{"decision_id":"\#(better)","terms_version":"2026-11"}"#)
        _ = try once("POST", "/v1/consents/\(assessment)/withdrawal", body: #"{"channel":"app"}"#)
        _ = try once("POST", "/v1/accounts/\(account)/closure", role: .operator, body: #"{"reason":"customer asked"}"#)
        await service.stop()
    }

    /// A refused request commits nothing and keeps nothing: the same key may be used again.
    @Test func aRefusalCommitsNothing() async throws {
        let service = try TestService { $0.consentExpirySweepSeconds = 86_400 }
        try await Task.sleep(for: .milliseconds(100))
        let counter = CommitCounter()
        service.store.database.add(transactionObserver: counter, extent: .observerLifetime)
        let account = try #require(try service.call("POST", "/v1/accounts", body: #"{"customer_ref":"refused-1"}"#)
            .json["id"] as? String)
        let before = counter.commits
        let refused = try service.call("POST", "/v1/accounts/\(account)/scores", body: LineTests.tierA,
                                       headers: ["Idempotency-Key": "refused-key"])
        #expect(refused.status == 409)
        #expect(counter.commits == before)
        _ = try service.call("POST", "/v1/accounts/\(account)/consents", body: ConsentTests.grantBody(purpose: "credit_assessment"))
        let retried = try service.call("POST", "/v1/accounts/\(account)/scores", body: LineTests.tierA,
                                       headers: ["Idempotency-Key": "refused-key"])
        #expect(retried.status == 201)
        await service.stop()
    }
}
