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
    @Test(.sqliteFile) func everyWriteRouteCommitsOncePerAcknowledgedRequest() async throws {
        let service = try TestService { $0.consentExpirySweepSeconds = 86_400; $0.delinquencySweepSeconds = 86_400 }
        #expect(await eventually { service.application.sweepsCompleted >= 1 })  // no sweep commits during the count
        let counter = CommitCounter()
        service.store.sqliteWriter!.add(transactionObserver: counter, extent: .observerLifetime)
        var serial = 0
        func once(_ method: String, _ path: String, role: Role = .service, body: String) async throws -> RawClient.Reply {
            serial += 1
            let before = counter.commits
            let headers = ["Idempotency-Key": "one-commit-\(serial)"]
            let reply = try await service.call(method, path, role: role, body: body, headers: headers)
            #expect((200..<300).contains(reply.status), "\(method) \(path): \(reply.status) \(reply.text)")
            #expect(counter.commits - before == 1, "\(method) \(path) committed \(counter.commits - before) times")
            // The replay reads; it commits nothing.
            let replayed = counter.commits
            let again = try await service.call(method, path, role: role, body: body, headers: headers)
            #expect(again.header("Idempotent-Replayed") == "true")
            #expect(again.body == reply.body)
            #expect(counter.commits == replayed, "the replay of \(method) \(path) committed")
            return reply
        }
        let account = try #require(try await once("POST", "/v1/accounts", body: #"{"customer_ref":"one-commit"}"#)
            .json["id"] as? String)
        let assessment = try #require(try await once("POST", "/v1/accounts/\(account)/consents",
                                               body: ConsentTests.grantBody(purpose: "credit_assessment")).json["id"] as? String)
        let line = try #require(try await once("POST", "/v1/accounts/\(account)/consents",
                                         body: ConsentTests.grantBody(purpose: "credit_line")).json["id"] as? String)
        _ = try await once("POST", "/v1/accounts/\(account)/affordability", body: AffordabilityAPITests.body(income: 5_000_000))
        let decision = try #require(try await once("POST", "/v1/accounts/\(account)/scores", body: LineTests.tierD)
            .json["id"] as? String)
        _ = try await once("POST", "/v1/decisions/\(decision)/review-requests", body: #"{"statement":"please look"}"#)
        let review = try #require(try await once(
            "POST", "/v1/accounts/\(account)/activation",
            body: #"{"consent_id":"\#(line)","decision_id":"\#(decision)","terms_version":"2026-11"}"#).json["review_id"] as? String)
        _ = try await once("POST", "/v1/reviews/\(review)/resolution", role: .operator, body: #"{"approve":true,"note":"fine"}"#)
        _ = try await once("PUT", "/v1/accounts/\(account)/preferences", body: #"{"limit_increase_opt_out":true}"#)
        _ = try await once("POST", "/v1/accounts/\(account)/limit-adjustments",
                     body: #"{"new_limit":100000,"reason_code":"customer_request","note":"customer asked","initiated_by":"customer","customer_confirmation":{"channel":"app","method":"explicit_opt_in","notice_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}"#)
        _ = try await once("POST", "/v1/accounts/\(account)/freeze", role: .operator, body: #"{"reason_code":"other","note":"checking"}"#)
        _ = try await once("POST", "/v1/accounts/\(account)/unfreeze", role: .operator, body: #"{"reason_code":"other","note":"checked"}"#)
        let better = try #require(try await service.call("POST", "/v1/accounts/\(account)/scores", body: LineTests.tierA)
            .json["id"] as? String)
        _ = try await once("POST", "/v1/accounts/\(account)/terms-acceptance",
                     body: #"{"decision_id":"\#(better)","terms_version":"2026-11"}"#)
        _ = try await once("POST", "/v1/consents/\(assessment)/withdrawal", body: #"{"channel":"app"}"#)
        _ = try await once("POST", "/v1/accounts/\(account)/closure", role: .operator, body: #"{"reason_code":"other","note":"customer asked"}"#)
        await service.stop()
    }

    /// A refused request commits nothing and keeps nothing: the same key may be used again.
    @Test(.sqliteFile) func aRefusalCommitsNothing() async throws {
        let service = try TestService { $0.consentExpirySweepSeconds = 86_400; $0.delinquencySweepSeconds = 86_400 }
        try await Task.sleep(for: .milliseconds(100))
        let counter = CommitCounter()
        service.store.sqliteWriter!.add(transactionObserver: counter, extent: .observerLifetime)
        let account = try #require(try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"refused-1"}"#)
            .json["id"] as? String)
        let before = counter.commits
        let refused = try await service.call("POST", "/v1/accounts/\(account)/scores", body: LineTests.tierA,
                                       headers: ["Idempotency-Key": "refused-key"])
        #expect(refused.status == 409)
        #expect(counter.commits == before)
        _ = try await service.call("POST", "/v1/accounts/\(account)/consents", body: ConsentTests.grantBody(purpose: "credit_assessment"))
        let retried = try await service.call("POST", "/v1/accounts/\(account)/scores", body: LineTests.tierA,
                                       headers: ["Idempotency-Key": "refused-key"])
        #expect(retried.status == 201)
        await service.stop()
    }
}

extension WritePathTests {
    /// Sends `count` copies of one request shape at once, each on its own connection, and reads
    /// every answer.
    static func concurrently(_ service: TestService, _ count: Int, _ make: (Int) -> String) throws -> [RawClient.Reply] {
        let token = service.keys[.service]!
        let clients = try (0..<count).map { _ in try RawClient(port: service.port) }
        for (index, client) in clients.enumerated() {
            let body = make(index)
            client.send("POST /v1/accounts HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
        }
        return try clients.map { try #require($0.read()) }
    }

    /// Many requests, one commit: writes arriving together share a transaction and its fsync,
    /// each in its own savepoint, and each gets its own answer.
    @Test(.sqliteFile) func concurrentWritesShareCommits() async throws {
        let service = try TestService { $0.consentExpirySweepSeconds = 86_400; $0.delinquencySweepSeconds = 86_400; $0.rateLimitService = 0 }
        #expect(await eventually { service.application.sweepsCompleted >= 1 })
        let counter = CommitCounter()
        service.store.sqliteWriter!.add(transactionObserver: counter, extent: .observerLifetime)
        // A third of them repeat an earlier customer_ref: those answer 200 with that account.
        let replies = try Self.concurrently(service, 96) { #"{"customer_ref":"batch-\#($0 % 64)"}"# }
        let odd = replies.filter { $0.status != 201 && $0.status != 200 }.map { "\($0.status) \($0.text)" }
        #expect(odd.isEmpty, "\(odd)")
        #expect(replies.filter { $0.status == 201 }.count == 64)
        #expect(counter.commits < 64, "\(counter.commits) commits for 64 new accounts")
        let stored = try await service.store.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM accounts") }
        #expect(stored == 64)
        #expect(try service.store.verifyAudit() == .intact(checked: try await service.store.auditLength(),
                                                           heads: try await service.store.auditHeads()))
        await service.stop()
    }

    /// The queue is bounded: past `write_queue_max` waiting writes the answer is 503 `overloaded`
    /// with Retry-After, and nothing of it is written.
    @Test func aFullWriteQueueAnswers503() async throws {
        let service = try TestService { $0.writeQueueMax = 1; $0.rateLimitService = 0 }
        let replies = try Self.concurrently(service, 64) { #"{"customer_ref":"queue-\#($0)"}"# }
        let overloaded = replies.filter { $0.status == 503 }
        #expect(!overloaded.isEmpty)
        #expect(overloaded.allSatisfy { $0.json["code"] as? String == "overloaded" && $0.header("Retry-After") == "1" })
        let created = replies.filter { $0.status == 201 }.count
        let stored = try await service.store.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM accounts") }
        #expect(stored == created)
        await service.stop()
    }

    /// A write that its rule refuses inside a batch rolls back alone: the others in the batch
    /// commit, and each caller gets its own answer.
    @Test func aRefusalInABatchRollsBackAlone() async throws {
        let service = try TestService { $0.rateLimitService = 0 }
        let lines = LineTests()
        var journeys: [LineTests.Journey] = []
        for index in 0..<24 { journeys.append(try await lines.prepare(service, "batch-refusal-\(index)")) }
        let token = service.keys[.service]!
        let clients = try journeys.map { _ in try RawClient(port: service.port) }
        for (index, (journey, client)) in zip(journeys, clients).enumerated() {
            // Every other activation names terms that are not current: refused inside its write.
            let terms = index % 2 == 0 ? "2026-11" : "2020-01"
            let body = #"{"consent_id":"\#(journey.lineConsent)","decision_id":"\#(journey.decision)","terms_version":"\#(terms)"}"#
            client.send("POST /v1/accounts/\(journey.account)/activation HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
        }
        for (index, (journey, client)) in zip(journeys, clients).enumerated() {
            let reply = try #require(client.read())
            if index % 2 == 0 {
                #expect(reply.status == 200)
                #expect(try await service.store.account(id: journey.account)?.status == .active)
            } else {
                #expect(reply.status == 409)
                #expect(reply.json["code"] as? String == "terms-mismatch")
                #expect(try await service.store.account(id: journey.account)?.status == .prospect)
            }
        }
        await service.stop()
    }
}
