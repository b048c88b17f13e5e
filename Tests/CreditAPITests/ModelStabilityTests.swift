import CreditLine
import Foundation
import GRDB
import Testing
@testable import CreditAPI
@testable import CreditStore

/// Stability from stored decisions, against a synthetic population whose indices are worked out
/// here by hand (README "Periodic review").
@Suite struct ModelStabilityTests {
    /// One band's or cell's part of an index, written out: (actual − expected) · ln(actual ÷ expected).
    static func part(_ actual: Double, _ expected: Double) -> Double { (actual - expected) * log(actual / expected) }

    static func rounded(_ value: Double) -> Double { (value * 10_000).rounded() / 10_000 }

    /// 100 decisions an hour old: 20 at 400, 10 at 580, 20 at 620, 20 at 660, 10 at 700, 10 at 740,
    /// 10 at 800 (one per development band); identity verified for 70 of them; every one 30
    /// months on the platform. The challenger disagrees on 15: it declines the first 10 the
    /// champion approves (swap-out) and approves the first 5 the champion declines (swap-in).
    static func plant(_ service: TestService, account: String, champion: String, challenger: String) throws {
        let scores = [(400, 20), (580, 10), (620, 20), (660, 20), (700, 10), (740, 10), (800, 10)]
            .flatMap { Array(repeating: $0.0, count: $0.1) }
        let at = Timestamp(milliseconds: service.store.time.now().milliseconds - 3_600_000).rfc3339
        let queue = service.store.database
        try queue.write { db in
            var approved = 0
            var declined = 0
            for (index, score) in scores.enumerated() {
                let outcome = score >= 640 ? "approve" : score >= 600 ? "review" : "decline"
                let tier = score >= 720 ? "A" : score >= 680 ? "B" : score >= 640 ? "C" : score >= 600 ? "D" : "E"
                var other = outcome
                if outcome == "approve" { approved += 1; if approved <= 10 { other = "decline" } }
                if outcome == "decline" { declined += 1; if declined <= 5 { other = "approve" } }
                let inputs = #"{"identity_verified":\#(index % 10 < 7),"months_on_platform":30}"#
                try db.execute(sql: """
                    INSERT INTO decisions (id, account_id, score, tier, outcome, recommended_limit, reasons, explanation,
                                           model_version, inputs, inputs_sha256, scored_at, expires_at,
                                           challenger_model_version, challenger_score, challenger_tier, challenger_outcome)
                    VALUES (?, ?, ?, ?, ?, 0, '[]', '[]', ?, ?, 'h', ?, ?, ?, ?, ?, ?)
                    """, arguments: ["dec_syn_\(index)", account, score, tier, outcome, champion, inputs, at, at,
                                     challenger, score, tier, other])
            }
        }
    }

    @Test func psiCsiRatesAndAgreementFromStoredDecisions() async throws {
        let service = try TestService()
        let (account, _) = try await ScoringTests().consentedAccount(service, "stability-1")
        let models = try await service.call("GET", "/v1/models", role: .risk).json["models"] as? [[String: Any]] ?? []
        let version = { (name: String) in models.first { $0["version"] as? String == name }?["model_version"] as? String }
        let champion = try #require(version("v1"))
        let challenger = try #require(version("v2"))
        try Self.plant(service, account: account, champion: champion, challenger: challenger)

        let psi = Self.part(0.20, 0.06) + Self.part(0.10, 0.10) + Self.part(0.20, 0.16) + Self.part(0.20, 0.22)
            + Self.part(0.10, 0.20) + Self.part(0.10, 0.16) + Self.part(0.10, 0.10)
        let csiIdentity = Self.part(0.70, 0.85) + Self.part(0.30, 0.15)
        // Everyone in the last bin of five; an empty bin counts as a share of 0.0001.
        let csiMonths = Self.part(0.0001, 0.10) + Self.part(0.0001, 0.12) + Self.part(0.0001, 0.18)
            + Self.part(0.0001, 0.25) + Self.part(1.0, 0.35)

        let reply = try await service.call("GET", "/v1/models/v1/stability", role: .auditor)
        #expect(reply.status == 200)
        let report = reply.json
        #expect(report["decisions"] as? Int == 100)
        #expect(report["population_stability_index"] as? Double == Self.rounded(psi))
        #expect(report["status"] as? String == "act")  // ≈ 0.277
        let bands = report["bands"] as? [[String: Any]] ?? []
        #expect(bands.map { $0["count"] as? Int ?? -1 } == [20, 10, 20, 20, 10, 10, 10])
        #expect(bands.first?["label"] as? String == "[300, 560)")
        let characteristics = Dictionary(uniqueKeysWithValues: (report["characteristics"] as? [[String: Any]] ?? []).map {
            ($0["name"] as? String ?? "", $0)
        })
        #expect(characteristics["identity_verified"]?["index"] as? Double == Self.rounded(csiIdentity))
        #expect(characteristics["identity_verified"]?["status"] as? String == "watch")  // ≈ 0.133
        #expect(characteristics["months_on_platform"]?["index"] as? Double == Self.rounded(csiMonths))
        // No inputs held for it: nothing to compare, not an alarm.
        #expect(characteristics["orders_12m"]?["status"] as? String == "no-data")
        #expect(characteristics["orders_12m"]?["index"] as? Double == 0)
        #expect(report["rates"] as? [String: Double] == ["approve": 0.5, "review": 0.2, "decline": 0.3])
        let agreement = try #require(report["agreement"] as? [String: Any])
        #expect(agreement["compared"] as? Int == 100 && agreement["swap_in"] as? Int == 5 && agreement["swap_out"] as? Int == 10)
        #expect(agreement["rate"] as? Double == 0.85)

        // The challenger's own report reads the same decisions from its shadow columns.
        let shadow = try await service.call("GET", "/v1/models/v2/stability", role: .operator).json
        #expect(shadow["decisions"] as? Int == 100)
        #expect((shadow["rates"] as? [String: Double])?["approve"] == 0.45)

        // A window that holds none of them, and a window the wrong way round.
        let empty = try await service.call("GET", "/v1/models/v1/stability?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z",
                                     role: .auditor).json
        #expect(empty["decisions"] as? Int == 0 && empty["status"] as? String == "no-data")
        let backwards = try await service.call("GET", "/v1/models/v1/stability?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
                                         role: .auditor)
        #expect(backwards.status == 422 && backwards.json["field"] as? String == "from")
        #expect(try await service.call("GET", "/v1/models/v1/stability", role: .service).status == 403)

        // The same report as a table from the command line.
        let table = try CommandLine_.run(["model", "report", "--db", service.databasePath], environment: service.commandLineEnvironment)
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("100 decisions, PSI \(String(format: "%.4f", Self.rounded(psi))) (act)"))
        #expect(table.stdout.contains("identity_verified"))
        #expect(table.stdout.contains("swap-in 5, swap-out 10"))
        await service.stop()
    }

    /// One lender's customers' distribution is that lender's: a tenant's key counts its own
    /// tenant's decisions only, over the API and in the console; a key for all tenants counts all.
    @Test func aTenantsKeyCountsItsTenantsDecisionsOnly() async throws {
        let service = try TestService()
        let (account, _) = try await ScoringTests().consentedAccount(service, "stability-tenant")
        let models = try await service.call("GET", "/v1/models", role: .risk).json["models"] as? [[String: Any]] ?? []
        let version = { (name: String) in models.first { $0["version"] as? String == name }?["model_version"] as? String }
        try Self.plant(service, account: account, champion: try #require(version("v1")), challenger: try #require(version("v2")))
        let beta = try service.store.createKey(role: .auditor, name: "beta audit", tenant: "beta").token
        let own = try service.store.createKey(role: .auditor, name: "default audit", tenant: "default").token
        func decisions(_ token: String?) async throws -> Int? {
            try await service.call("GET", "/v1/models/v1/stability", role: token == nil ? .auditor : nil, token: token)
                .json["decisions"] as? Int
        }
        #expect(try await decisions(nil) == 100)
        #expect(try await decisions(own) == 100)
        #expect(try await decisions(beta) == 0, "a tenant's key counted another tenant's decisions")
        let console = ConsoleTests()
        let (_, signed) = try await console.signIn(service, token: beta)
        let page = try await console.get(service, "/console/models", try #require(signed)).text
        #expect(page.contains("· 0 "), "the console counted another tenant's decisions for beta")
        await service.stop()
    }

    @Test func theCommandLineReviewIsTheRoutesReview() async throws {
        let service = try TestService()
        let lines = LineTests()
        let journey = try await lines.prepare(service, "cli-review")
        #expect(try await lines.activate(service, journey).json["outcome"] as? String == "activated")
        let file = NSTemporaryDirectory() + "creditline-review-\(UUID().uuidString).ndjson"
        try Data((#"{"account_id":"\#(journey.account)","features":\#(PeriodicReviewTests.features(LineTests.tierE))}"#
            + "\n").utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let first = try CommandLine_.run(["review", "--db", service.databasePath, "--input", file], environment: service.commandLineEnvironment)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("completed: 1 of 1 rows"))
        #expect(first.stdout.contains(#""freeze":1"#))
        #expect(try await service.call("GET", "/v1/accounts/\(journey.account)").json["status"] as? String == "frozen")
        #expect(try await NoticeTests().kinds(service, journey.account).contains("line_frozen"))
        let again = try CommandLine_.run(["review", "--db", service.databasePath, "--input", file], environment: service.commandLineEnvironment)
        #expect(again.stdout.hasPrefix("already reviewed:"))
        let broken = try CommandLine_.run(["review", "--db", service.databasePath, "--input", "/nonexistent"], environment: service.commandLineEnvironment)
        #expect(broken.status == 1 && broken.stderr.contains("cannot read /nonexistent"))
        await service.stop()
    }
}
