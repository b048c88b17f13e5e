import CreditLine
import Foundation
import GRDB
import Testing
import TestSupport
@testable import CreditAPI
@testable import CreditStore

/// What an operator watches (README "Operations", "What to watch"): the alert rules and the
/// dashboard in deploy/ name only metrics the service exports, every signal is exported from the
/// start at zero, and each rises when what it watches goes wrong.
@Suite struct WatchTests {
    static let signals = [
        "creditline_notices_overdue", "creditline_webhook_failing_seconds", "creditline_webhook_deliveries_given_up",
        "creditline_review_oldest_open_seconds",
        "creditline_write_queue_depth", "creditline_not_ready", "creditline_audit_verification_failed",
    ]

    /// Every `creditline_…` name in the alert rules, their tests and the dashboard's queries.
    static func namedMetrics() throws -> Set<String> {
        var texts = [
            try String(contentsOfFile: repositoryRoot + "/deploy/prometheus/alerts.yml", encoding: .utf8),
            try String(contentsOfFile: repositoryRoot + "/deploy/prometheus/alerts.test.yml", encoding: .utf8),
        ]
        let dashboard = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/deploy/grafana/creditline.json"))) as? [String: Any]
        let panels = try #require(dashboard?["panels"] as? [[String: Any]])
        #expect(panels.count >= 10)
        for panel in panels {
            let targets = try #require(panel["targets"] as? [[String: Any]], "\(panel["title"] ?? "?")")
            #expect(!targets.isEmpty && panel["description"] is String && panel["gridPos"] is [String: Any])
            texts += targets.compactMap { $0["expr"] as? String }
        }
        var names: Set<String> = []
        for text in texts {
            for match in text.matches(of: /creditline_[a-z_]+/) { names.insert(String(match.output)) }
        }
        return names
    }

    /// The metric names a scrape exports, with each unlabelled sample's value.
    static func scrape(_ service: TestService) async throws -> (names: Set<String>, values: [String: Double]) {
        let text = try await service.call("GET", "/metrics", role: nil).text
        var names: Set<String> = []
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let name = String(line.prefix { $0 != "{" && $0 != " " })
            names.insert(name)
            let parts = line.split(separator: " ")
            if !line.contains("{"), parts.count == 2 { values[name] = Double(parts[1]) }
        }
        return (names, values)
    }

    @Test func everyMetricTheAlertsAndTheDashboardNameIsExportedAtZeroFromTheStart() async throws {
        let named = try Self.namedMetrics()
        #expect(Set(Self.signals).isSubset(of: named))
        let service = try TestService()
        // The request metrics appear with the first request answered.
        _ = try await service.call("GET", "/healthz", role: nil)
        let (exported, values) = try await Self.scrape(service)
        #expect(named.subtracting(exported).isEmpty, "named but not exported: \(named.subtracting(exported).sorted())")
        // The write queue may hold the start's own writes (the sweeps' first pass) for a moment.
        for signal in Self.signals where signal != "creditline_write_queue_depth" {
            #expect(values[signal] == 0, "\(signal)")
        }
        let limit = try #require(values["creditline_write_queue_limit"])
        #expect(limit > 0 && (values["creditline_write_queue_depth"] ?? .infinity) < 0.8 * limit)
        await service.stop()
    }

    @Test func eachSignalRisesWhenWhatItWatchesGoesWrong() async throws {
        let clock = SteppedTime()
        let receiver = try WebhookReceiver(failures: 1_000_000)
        let service = try TestService(clock: clock)
        // A receiver that refuses every push, and events owed to it.
        let endpoint = try await service.call("POST", "/v1/webhook-endpoints", role: .operator,
                                              body: #"{"url":"\#(receiver.url)","event_types":["consent.granted"],"tenant":"default"}"#)
        #expect(endpoint.status == 201, "\(endpoint.text)")
        receiver.secret.withLock { $0 = endpoint.json["secret"] as? String ?? "" }
        // A review waiting for a person: a customer contests a decision.
        let (account, _) = try await ScoringTests().consentedAccount(service, "watch-1")
        let decision = try #require(try await service.call("POST", "/v1/accounts/\(account)/scores", body: ScoringTests.features)
            .json["id"] as? String)
        #expect(try await service.call("POST", "/v1/decisions/\(decision)/review-requests", body: "").status == 201)
        // The refusal recorded, not only the push received.
        let deadline = ContinuousClock.now + .seconds(10)
        func failedAttempts() throws -> Int {
            try service.store.database.read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM webhook_deliveries WHERE attempts > 0") ?? 0
            }
        }
        while try failedAttempts() == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let failed = try failedAttempts()
        #expect(!receiver.pushes.isEmpty && failed > 0)
        // Two hours pass (within webhook_retry_hours, so the delivery is still owed).
        clock.advance(seconds: 7_200)
        var values = try await Self.scrape(service).values
        #expect((values["creditline_review_oldest_open_seconds"] ?? 0) >= 7_200)
        #expect((values["creditline_webhook_failing_seconds"] ?? 0) >= 7_200 - 60)
        #expect(values["creditline_webhook_deliveries_given_up"] == 0)
        // Past webhook_retry_hours every delivery is tried once more and given up: it leaves the
        // failing age and is counted as given up, for a day after its last attempt.
        clock.advance(seconds: 23 * 3_600)
        func deliveries(_ status: String) throws -> Int {
            try service.store.database.read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM webhook_deliveries WHERE status = ?", arguments: [status]) ?? 0
            }
        }
        // A loaded CI took more than 10 s over the few pushes this is.
        let givingUp = ContinuousClock.now + .seconds(120)
        while try deliveries("pending") > 0, ContinuousClock.now < givingUp { try await Task.sleep(for: .milliseconds(20)) }
        let givenUp = try deliveries("failed")
        #expect(try deliveries("pending") == 0 && givenUp > 0)
        values = try await Self.scrape(service).values
        #expect(values["creditline_webhook_failing_seconds"] == 0)
        #expect(values["creditline_webhook_deliveries_given_up"] == Double(givenUp))
        clock.advance(seconds: 24 * 3_600 + 1)
        values = try await Self.scrape(service).values
        #expect(values["creditline_webhook_deliveries_given_up"] == 0)
        #expect(values["creditline_audit_verification_failed"] == 0)
        // Someone with the database owner's rights edits an entry; the next walk finds it.
        while service.application.sweepsCompleted < 1 { try await Task.sleep(for: .milliseconds(20)) }
        try service.store.database.write { db in
            try db.execute(sql: db.dialect == .sqlite ? "DROP TRIGGER audit_log_no_update"
                : "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
            try db.execute(sql: "UPDATE audit_log SET actor = 'someone-else' WHERE chain = 0 AND seq = 1")
        }
        try await service.application.sweeps.verifyAudit()
        values = try await Self.scrape(service).values
        #expect(values["creditline_audit_verification_failed"] == 1)
        // A service shutting down is not ready, and says so until it stops.
        // (The scrape goes to the router in-process, as every call here does.)
        _ = service.port
        await service.application.server?.shutdown()
        values = try await Self.scrape(service).values
        #expect(values["creditline_not_ready"] == 1)
        await service.stop()
        await receiver.stop()
    }
}
