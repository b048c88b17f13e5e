import CreditLine
import Foundation
import Logging
import Synchronization
import Testing
@testable import CreditAPI
@testable import CreditStore

/// Two service instances on one PostgreSQL database (README "Running on PostgreSQL"): the race
/// tests of the idempotency work with their requests split across both. Each instance has its
/// own group commit and lanes; the chains' locks in the database keep each chain one chain.
@Suite(.enabled(if: TestDatabase.postgres != nil, "two instances share a PostgreSQL database"))
struct TwoInstanceTests {
    /// A second instance of `service`: its own store (connections), its own HTTP server.
    final class SecondInstance: Sendable {
        let application: Application
        let store: Store

        init(of service: TestService) throws {
            var configuration = service.configuration
            configuration.port = 0
            store = try Store.open(url: configuration.effectiveDatabaseURL, options: try Application.storeOptions(configuration),
                                   time: service.store.time)
            var logger = Logger(label: "second")
            logger.logLevel = .critical
            application = try Application(configuration: configuration, store: store, logger: logger)
            try application.start()
        }

        func stop() async {
            await application.shutdown()
            try? store.close()
        }
    }

    /// Sends every request at once, the even ones to the first instance and the odd ones to the
    /// second, and reads every answer.
    func split(_ ports: (Int, Int), _ requests: [String]) throws -> [RawClient.Reply] {
        let clients = try requests.indices.map { try RawClient(port: $0 % 2 == 0 ? ports.0 : ports.1, receiveTimeout: 30) }
        for (client, request) in zip(clients, requests) { client.send(request) }
        return try clients.map { try #require($0.read()) }
    }

    func count(_ service: TestService, _ sql: String, _ arguments: SQLArguments = []) throws -> Int {
        try service.store.database.read { db in try Int.fetchOne(db, sql: sql, arguments: arguments) ?? -1 }
    }

    func chainIsWhole(_ service: TestService) async throws {
        let verified = try await service.call("GET", "/v1/audit/verify", role: .auditor).json
        #expect(verified["ok"] as? Bool == true, "\(verified)")
        #expect(verified["checked"] as? Int == (try await service.store.auditLength()))
        // Numbered without a gap or a repeat: a fork would show as two entries of a chain with one
        // prev_hash.
        #expect(try count(service, "SELECT COUNT(*) FROM (SELECT DISTINCT chain, prev_hash FROM audit_log) links")
                == (try count(service, "SELECT COUNT(*) FROM audit_log")))
    }

    @Test func sixtyFourActivationsAcrossTwoInstancesOpenOneLine() async throws {
        let service = try TestService()
        let second = try SecondInstance(of: service)
        let journey = try await LineTests().prepare(service, "two-race-1")
        let body = #"{"consent_id":"\#(journey.lineConsent)","decision_id":"\#(journey.decision)","terms_version":"2026-11"}"#
        let token = try #require(service.keys[.service])
        let requests = (0..<64).map { index in
            rawPost("/v1/accounts/\(journey.account)/activation", token: token, body: body,
                    headers: ["Idempotency-Key": index < 32 ? "same" : "own-\(index)"])
        }
        let replies = try split((service.port, second.application.port), requests)
        #expect(replies.filter { $0.status == 200 && $0.header("Idempotent-Replayed") == nil }.count == 1)
        #expect(replies.allSatisfy { [200, 409].contains($0.status) }, "\(Set(replies.map(\.status)))")
        #expect(try count(service, "SELECT COUNT(*) FROM audit_log WHERE action = 'account.activated'") == 1)
        try await chainIsWhole(service)
        await second.stop()
        await service.stop()
    }

    /// Both instances push webhooks from the same outbox; each delivery is claimed in the database
    /// first, so each of 200 (100 events, two endpoints) is pushed once between them.
    @Test func twoInstancesPushEachOfTwoHundredDeliveriesOnce() async throws {
        let service = try TestService()
        let second = try SecondInstance(of: service)
        // 50 ms an answer: a delivery stays pending long enough for both instances to see it.
        let receivers = try (0..<2).map { _ in try WebhookReceiver(failures: 0, delayMilliseconds: 50) }
        for receiver in receivers {
            let made = try await service.call("POST", "/v1/webhook-endpoints", role: .operator,
                                        body: #"{"url":"\#(receiver.url)","event_types":["consent.granted"],"tenant":"default"}"#)
            #expect(made.status == 201, "\(made.text)")
            receiver.secret.withLock { $0 = made.json["secret"] as? String ?? "" }
        }
        let token = try #require(service.keys[.service])
        let ports = (service.port, second.application.port)
        let accounts = try split(ports, (0..<100).map { rawPost("/v1/accounts", token: token, body: #"{"customer_ref":"push-\#($0)"}"#) })
        let ids = try accounts.map { try #require($0.json["id"] as? String, "\($0.text)") }
        let grants = try split(ports, ids.map { rawPost("/v1/accounts/\($0)/consents", token: token,
                                                        body: ConsentTests.grantBody(purpose: "credit_assessment")) })
        #expect(grants.allSatisfy { $0.status == 201 })
        for receiver in receivers {
            #expect(await eventually(seconds: 60) { receiver.received.count >= 100 }, "\(receiver.received.count) of 100")
        }
        // Time for a second push of anything pushed twice to arrive.
        try await Task.sleep(for: .milliseconds(500))
        for receiver in receivers {
            let pushes = receiver.pushes
            #expect(pushes.count == 100)
            #expect(pushes.values.allSatisfy { $0 == 1 }, "pushed more than once: \(pushes.values.filter { $0 > 1 }.count)")
            #expect(receiver.signatureFailures == 0)
        }
        #expect(try count(service, "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'delivered'") == 200)
        #expect(try count(service, "SELECT COUNT(*) FROM webhook_deliveries WHERE lease_owner IS NOT NULL") == 0)
        for receiver in receivers { await receiver.stop() }
        await second.stop()
        await service.stop()
    }

    @Test func thirtyTwoIncreasesAcrossTwoInstancesApplyOnce() async throws {
        let service = try TestService()
        let second = try SecondInstance(of: service)
        let journey = try await LineTests().prepare(service, "two-race-2")
        _ = try await LineTests().activate(service, journey, limit: #","requested_limit":1000000"#)
        let token = try #require(service.keys[.service])
        let body = #"{"new_limit":1500000,"reason_code":"customer_request","initiated_by":"customer",\#(GovernanceTests.confirmation)}"#
        let replies = try split((service.port, second.application.port),
                                (0..<32).map { _ in rawPost("/v1/accounts/\(journey.account)/limit-adjustments", token: token,
                                                            body: body) })
        #expect(replies.filter { $0.status == 201 }.count == 1)
        #expect(replies.filter { $0.status == 422 }.count == 31)
        #expect(try count(service, "SELECT COUNT(*) FROM limit_adjustments") == 1)
        #expect(try await service.call("GET", "/v1/accounts/\(journey.account)").json["credit_limit"] as? Int == 1_500_000)
        try await chainIsWhole(service)
        await second.stop()
        await service.stop()
    }

    @Test func sixtyFourDrawsAcrossTwoInstancesNeverOverdraw() async throws {
        let service = try TestService()
        let second = try SecondInstance(of: service)
        let id = try await LineInUseTests().openLine(service, "two-race-3", limit: 100_000)
        let token = try #require(service.keys[.service])
        let body = #"{"amount":3000,"customer_selected":true}"#
        let replies = try split((service.port, second.application.port),
                                (0..<64).map { _ in rawPost("/v1/accounts/\(id)/draws", token: token, body: body) })
        #expect(replies.filter { $0.status == 201 }.count == 33)
        #expect(replies.filter { $0.status == 422 && $0.json["code"] as? String == "insufficient-credit" }.count == 31)
        #expect(try count(service, "SELECT SUM(amount) FROM draws WHERE account_id = ?", [id]) == 99_000)
        #expect(try await service.call("GET", "/v1/accounts/\(id)").json["balance"] as? Int == 99_000)
        try await chainIsWhole(service)
        await second.stop()
        await service.stop()
    }

    /// Readers that poll the audit log and the events from a position never skip what commits
    /// behind them (docs/audit-chain.md, "Reading the log"): two instances write to 16 chains,
    /// each chain's entries committing out of order with the others', while a reader polls both
    /// listings; at the end it has every entry and every event exactly once. (Under this load a
    /// reader of the events by their `seq`, the cursor before the chains, skipped 2 to 4 of about
    /// 260 events in each of three runs, measured while this test was written.)
    @Test func pollingReadersSkipNothingWhileTwoInstancesWriteToSixteenChains() async throws {
        let service = try TestService()
        try service.store.raiseAuditChains(to: 16)
        let second = try SecondInstance(of: service)
        let stores = [service.store, second.store]
        let writer = Actor(keyID: "key-test", role: .key(.service), requestID: "req-poll")
        let done = Atomic<Bool>(false)
        let writing = Task {
            defer { done.store(true, ordering: .releasing) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<32 {
                    group.addTask {
                        let store = stores[lane % 2]
                        for index in 0..<8 {
                            let (account, _) = try await store.perform(CreateAccount(customerRef: "poll-\(lane)-\(index)"), by: writer)
                            _ = try await store.perform(GrantConsent(accountID: account.id, grant: ConsentRules.Grant(
                                purpose: .creditAssessment, noticeVersion: "2026-11", noticeSHA256: String(repeating: "0f", count: 32),
                                channel: .app, method: .explicitOptIn, evidence: nil, expiresAt: store.time.now().adding(days: 30))),
                                by: writer)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        var entries: [String] = []
        var events: [String] = []
        var (auditAt, eventsAt) = (AuditPosition(), AuditPosition())
        func poll() async throws -> Bool {
            let page = try await service.store.auditPage(accountID: nil, action: nil, after: auditAt, limit: 50)
            entries += page.entries.map { "\($0.chain):\($0.seq)" }
            auditAt = page.next
            let feed = try await service.store.events(after: eventsAt, limit: 50, type: nil, scope: .all)
            events += feed.events.map(\.id)
            eventsAt = feed.next
            return page.hasMore || feed.hasMore
        }
        var rounds = 0
        while !done.load(ordering: .acquiring) {
            _ = try await poll()
            rounds += 1
        }
        try await writing.value
        while try await poll() {}
        let (allEntries, allEvents) = try service.store.database.read { db in
            (try StoreRow.fetchAll(db, sql: "SELECT chain, seq FROM audit_log").map { "\(try $0["chain"] as Int):\(try $0["seq"] as Int)" },
             try String.fetchAll(db, sql: "SELECT id FROM events"))
        }
        #expect(rounds > 3, "the reader polled while the writes went on")
        #expect(Set(try await service.store.auditHeads().filter { $0.seq > 0 }.map(\.chain)).count > 8, "the writes reached many chains")
        #expect(entries.count == Set(entries).count, "an entry read twice")
        #expect(Set(entries) == Set(allEntries), "entries skipped: \(Set(allEntries).subtracting(entries).sorted().prefix(5))")
        #expect(events.count == Set(events).count, "an event read twice")
        #expect(Set(events) == Set(allEvents), "events skipped: \(Set(allEvents).subtracting(events).count)")
        try await chainIsWhole(service)
        await second.stop()
        await service.stop()
    }
}
