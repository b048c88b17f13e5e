import CreditLine
import Foundation
import Synchronization
import GRDB
import Testing
@testable import CreditAPI
import CreditApp
@testable import CreditStore

/// Periodic review and model governance over real sockets (README "Periodic review").
@Suite struct PeriodicReviewTests {
    /// Tier C: tier A's features with a poorer repayment record (660 points).
    static let tierC = #"{"features":{"months_on_platform":30,"orders_12m":20,"spend_12m":500000,"on_time_ratio_12m":0.5,"overdue_events_12m":1,"max_days_overdue_12m":3,"return_ratio_12m":0.05,"identity_verified":true}}"#

    /// What the customer saw and confirmed (README "Data governance").
    static let confirmed = #"{"customer_confirmation":{"channel":"app","method":"explicit_opt_in","notice_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}"#

    static func features(_ body: String) -> String {
        // The `features` object of a scoring body, for a review row.
        String(body.dropFirst(#"{"features":"#.count).dropLast())
    }

    func upload(_ service: TestService, _ body: String, role: Role = .operator) async throws -> RawClient.Reply {
        try await service.call("POST", "/v1/portfolio-reviews", role: role, body: body)
    }

    func review(_ service: TestService, _ modelVersion: String, outcome: String = "approved", validUntil: Timestamp)
        async throws -> RawClient.Reply
    {
        try await service.call("POST", "/v1/models/v1/reviews", role: .risk, body: """
            {"outcome":"\(outcome)","findings":"Back-tested on the last two quarters.","valid_until":"\(validUntil.rfc3339)"}
            """)
    }

    // MARK: - The gate

    @Test func aLapsedModelReviewSendsEveryApprovalToAPerson() async throws {
        let clock = DemoClock()
        let service = try TestService(clock: clock, modelReviewed: false)
        let lines = LineTests()

        // No review at all: tier A waits for a person, and says why.
        let models = try await service.call("GET", "/v1/models", role: .risk).json
        let listed = try #require(models["models"] as? [[String: Any]])
        #expect(models["champion"] as? String == "v1" && models["challenger"] as? String == "v2")
        #expect(listed.first { $0["version"] as? String == "v1" }?["decides_alone"] as? Bool == false)
        let first = try await lines.prepare(service, "gate-1")
        let held = try await lines.activate(service, first)
        #expect(held.status == 200)
        #expect(held.json["outcome"] as? String == "pending_review")
        #expect(held.json["review_reason"] as? String == "model-review-overdue")
        // Nor does it run a periodic review: lowering, freezing and offering are its word alone.
        let refused = try await upload(service, #"{"account_id":"\#(first.account)","features":{}}"#)
        #expect(refused.status == 409 && refused.json["code"] as? String == "model-review-overdue")
        let queue = try await service.call("GET", "/v1/reviews", role: .operator).json["items"] as? [[String: Any]] ?? []
        #expect(queue.first { $0["account_id"] as? String == first.account }?["review_reason"] as? String
            == "model-review-overdue")

        // Only the risk role records a review, and only within a year.
        let v1 = try #require(listed.first { $0["version"] as? String == "v1" }?["model_version"] as? String)
        #expect(try await service.call("POST", "/v1/models/v1/reviews", role: .operator, body: "{}").status == 403)
        let tooLong = try await review(service, v1, validUntil: clock.now().adding(days: 400))
        #expect(tooLong.status == 422 && tooLong.json["field"] as? String == "valid_until")
        #expect(try await service.call("POST", "/v1/models/v9/reviews", role: .risk, body: "{}").status == 404)
        let recorded = try await review(service, v1, validUntil: clock.now().adding(days: 90))
        #expect(recorded.status == 201)
        #expect(recorded.json["in_force"] as? Bool == true)

        // Under an approved review in force, tier A activates by itself.
        let second = try await lines.prepare(service, "gate-2")
        #expect(try await lines.activate(service, second).json["outcome"] as? String == "activated")
        let approved = try await service.call("GET", "/v1/models", role: .auditor).json["models"] as? [[String: Any]] ?? []
        #expect(approved.first { $0["version"] as? String == "v1" }?["decides_alone"] as? Bool == true)

        // The review lapses (time passes): the gate holds again, for increases too.
        clock.advance(days: 91)
        #expect(try await service.call("POST", "/v1/accounts/\(second.account)/scores", body: LineTests.tierA).status == 201)
        let increase = try await service.call("POST", "/v1/accounts/\(second.account)/limit-adjustments", body: """
            {"new_limit":2500000,"reason_code":"customer_request","note":"customer asked","initiated_by":"customer","customer_confirmation":{"channel":"app","method":"explicit_opt_in","notice_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}
            """)
        #expect(increase.status == 409 && increase.json["code"] as? String == "model-review-overdue")
        let third = try await lines.prepare(service, "gate-3")
        let lapsed = try await lines.activate(service, third)
        #expect(lapsed.json["outcome"] as? String == "pending_review")
        #expect(lapsed.json["review_reason"] as? String == "model-review-overdue")

        // A rejected review is no better than none.
        #expect(try await review(service, v1, outcome: "rejected", validUntil: clock.now().adding(days: 90)).status == 201)
        let fourth = try await lines.prepare(service, "gate-4")
        #expect(try await lines.activate(service, fourth).json["outcome"] as? String == "pending_review")

        // A person approves the held line: it opens on its own tier's terms.
        let reviewID = try #require(lapsed.json["review_id"] as? String)
        let resolved = try await service.call("POST", "/v1/reviews/\(reviewID)/resolution", role: .operator,
                                        body: #"{"approve":true,"note":"checked by hand"}"#)
        #expect(resolved.status == 200)
        let account = try await service.call("GET", "/v1/accounts/\(third.account)").json
        #expect(account["status"] as? String == "active")
        // Tier A's plans (three of them, the first free), not tier D's single one.
        let plans = (account["terms"] as? [String: Any])?["instalment_plans"] as? [[String: Any]]
        #expect(plans?.count == 3 && plans?.first?["monthly_fee_bps"] as? Int == 0)
        await service.stop()
    }

    // MARK: - Shadow scoring

    @Test func theChallengerScoresInShadowAndIsNeverAnswered() async throws {
        let service = try TestService()
        let journey = try await LineTests().prepare(service, "shadow-1")
        let answer = try await service.call("GET", "/v1/decisions/\(journey.decision)").json
        #expect(answer.keys.allSatisfy { !$0.contains("challenger") })
        #expect((answer["model_version"] as? String)?.hasPrefix("v1+sha256:") == true)
        let row = try #require(try service.store.database.read { db in
            try StoreRow.fetchOne(db, sql: """
                SELECT challenger_model_version, challenger_score, challenger_tier, challenger_outcome
                FROM decisions WHERE id = ?
                """, arguments: [journey.decision])
        })
        let (version, score, tier, outcome): (String, Int, String, String) = (
            try row["challenger_model_version"], try row["challenger_score"], try row["challenger_tier"],
            try row["challenger_outcome"])
        #expect(version.hasPrefix("v2+sha256:"))
        // v2 gives the same tier-A applicant 840 − 80 + 70 − 120 + 135 = 845 points.
        #expect(score == 845 && tier == "A" && outcome == "approve")
        await service.stop()
    }

    // MARK: - Portfolio review

    @Test func aReviewLowersFreezesOffersAndSkipsAndIsIdempotentByContent() async throws {
        let clock = DemoClock()
        let service = try TestService(clock: clock)
        let lines = LineTests()
        func open(_ ref: String, _ features: String = LineTests.tierA) async throws -> String {
            let journey = try await lines.prepare(service, ref, features: features)
            await #expect(try lines.activate(service, journey).json["outcome"] as? String == "activated")
            return journey.account
        }
        let lowered = try await open("rv-lower")
        let frozen = try await open("rv-freeze")
        let improved = try await open("rv-offer", Self.tierC)
        let optedOut = try await open("rv-opted-out", Self.tierC)
        #expect(try await service.call("PUT", "/v1/accounts/\(optedOut)/preferences",
                                 body: #"{"limit_increase_opt_out":true}"#).status == 200)
        let ledger = try await open("rv-ledger")
        let prospect = try await lines.prepare(service, "rv-prospect").account
        let a = Self.features(LineTests.tierA)
        let rows = [
            #"{"account_id":"\#(lowered)","features":\#(Self.features(LineTests.tierD))}"#,
            #"{"account_id":"\#(frozen)","features":\#(Self.features(LineTests.tierE))}"#,
            #"{"account_id":"\#(improved)","features":\#(a)}"#,
            #"{"account_id":"\#(optedOut)","features":\#(a)}"#,
            // The behaviour characteristics left out: the ledger supplies them.
            #"{"account_id":"\#(ledger)","features":{"months_on_platform":30,"orders_12m":20,"spend_12m":500000,"return_ratio_12m":0.05,"identity_verified":true}}"#,
            #"{"account_id":"\#(prospect)","features":\#(a)}"#,
            #"{"account_id":"acc_nobody","features":\#(a)}"#,
            #"{"account":"not a row"}"#,
        ].joined(separator: "\n") + "\n"
        let before = try await service.store.auditPosition().text
        let reply = try await upload(service, rows)
        #expect(reply.status == 201)
        let reviewID = try #require(reply.json["id"] as? String)
        #expect(reply.json["status"] as? String == "completed")
        #expect(reply.json["rows"] as? Int == 8)
        let summary = try #require(reply.json["summary"] as? [String: Any])
        #expect(summary["actions"] as? [String: Int] == [
            "lower_limit": 1, "freeze": 1, "offer": 1, "none": 2, "skipped": 3,
        ])
        #expect(summary["skipped"] as? [String: Int] == [
            "account-not-open": 1, "account-not-found": 1, "invalid-row": 1,
        ])
        #expect(summary["tier_moves"] as? [String: Int] == ["A->D": 1, "A->E": 1, "C->A": 2, "A->A": 1])

        // Tier D: lowered to tier D's recommendation, with a notice giving the reasons.
        let lowerAccount = try await service.call("GET", "/v1/accounts/\(lowered)").json
        #expect(lowerAccount["credit_limit"] as? Int == 200_000)
        let lowerNotices = try await NoticeTests().notices(service, lowered)
        let decrease = try #require(lowerNotices.first { ($0["text"] as? String)?.contains("定期复核") == true })
        #expect(decrease["kind"] as? String == "limit_change")
        #expect((decrease["text"] as? String)?.contains("主要原因") == true)

        // Tier E: frozen, with a notice.
        #expect(try await service.call("GET", "/v1/accounts/\(frozen)").json["status"] as? String == "frozen")
        #expect(try await NoticeTests().kinds(service, frozen).contains("line_frozen"))

        // Better: an offer, never an applied increase; the opted-out account gets none.
        #expect(try await service.call("GET", "/v1/accounts/\(improved)").json["credit_limit"] as? Int == 500_000)
        let offers = try await service.call("GET", "/v1/accounts/\(improved)/limit-offers").json["items"] as? [[String: Any]] ?? []
        #expect(offers.count == 1)
        let offer = try #require(offers.first)
        #expect(offer["offered_limit"] as? Int == 750_000)
        #expect(offer["status"] as? String == "open")
        #expect(offer["portfolio_review_id"] as? String == reviewID)
        #expect(try await NoticeTests().kinds(service, improved).contains("limit_offer"))
        #expect((try await service.call("GET", "/v1/accounts/\(optedOut)/limit-offers").json["items"] as? [Any])?.isEmpty == true)

        // The ledger's values are marked as such in the decision's explanation.
        let decisions = try service.store.database.read { db in
            try String.fetchOne(db, sql: "SELECT id FROM decisions WHERE account_id = ? AND portfolio_review_id = ?",
                                arguments: [ledger, reviewID])
        }
        let explained = try await service.call("GET", "/v1/decisions/\(try #require(decisions))").json
        let sources = Dictionary(uniqueKeysWithValues: (explained["explanation"] as? [[String: Any]] ?? []).map {
            ($0["characteristic"] as? String ?? "", $0["source"] as? String ?? "")
        })
        #expect(sources["on_time_ratio_12m"] == "ledger" && sources["overdue_events_12m"] == "ledger"
            && sources["max_days_overdue_12m"] == "ledger")
        #expect(sources["months_on_platform"] == "supplied" && sources["identity_verified"] == "supplied")

        // Every action is an audit entry carrying the review id.
        let entries = try await service.call("GET", "/v1/audit?after=\(before)&limit=500", role: .auditor)
            .json["items"] as? [[String: Any]] ?? []
        for action in ["limit.adjusted", "account.frozen", "limit_offer.created", "decision.scored"] {
            let carrying = entries.filter {
                $0["action"] as? String == action
                    && ($0["detail"] as? [String: Any])?["portfolio_review_id"] as? String == reviewID
            }
            #expect(!carrying.isEmpty, "\(action)")
        }
        #expect(entries.contains { $0["action"] as? String == "portfolio_review.completed" })

        // The same file again changes nothing and answers the same review.
        let length = try await service.store.auditLength()
        let again = try await upload(service, rows)
        #expect(again.status == 200)
        #expect(again.json["id"] as? String == reviewID)
        #expect(try await service.store.auditLength() == length)
        #expect(try await service.call("GET", "/v1/portfolio-reviews/\(reviewID)", role: .operator).json["status"] as? String
            == "completed")

        // The customer accepts: the increase rules run again, and the limit rises.
        let offerID = try #require(offer["id"] as? String)
        let unconfirmed = try await service.call("POST", "/v1/accounts/\(improved)/limit-offers/\(offerID)/acceptance")
        #expect(unconfirmed.status == 422 && unconfirmed.json["code"] as? String == "confirmation-required")
        let accepted = try await service.call("POST", "/v1/accounts/\(improved)/limit-offers/\(offerID)/acceptance",
                                        body: Self.confirmed)
        #expect(accepted.status == 200)
        #expect((accepted.json["account"] as? [String: Any])?["credit_limit"] as? Int == 750_000)
        #expect((accepted.json["offer"] as? [String: Any])?["status"] as? String == "accepted")
        let twice = try await service.call("POST", "/v1/accounts/\(improved)/limit-offers/\(offerID)/acceptance",
                                     body: Self.confirmed)
        #expect(twice.status == 409 && twice.json["code"] as? String == "offer-not-open")
        #expect(try await service.call("POST", "/v1/accounts/\(lowered)/limit-offers/\(offerID)/acceptance", body: Self.confirmed).status == 404)
        // The taken offer's increase stands on the customer's confirmation of the offer (check 5).
        let report = try await service.call("GET", "/v1/compliance/report", role: .auditor).json
        let five = (report["checks"] as? [[String: Any]])?.first { $0["number"] as? String == "5" }
        #expect(five?["holds"] as? Bool == true && (five?["checked"] as? Int ?? 0) >= 1, "\(five ?? [:])")
        await service.stop()
    }

    /// A review cut short (its first chunk committed, then nothing: a crash) is finished by the
    /// same file sent again, and no row is applied twice.
    @Test func aReviewCutShortResumesWhereItStopped() async throws {
        let service = try TestService()
        let lines = LineTests()
        var accounts: [String] = []
        for index in 0..<5 {
            let journey = try await lines.prepare(service, "rv-resume-\(index)")
            _ = try await lines.activate(service, journey)
            accounts.append(journey.account)
        }
        let data = Data(accounts.map { #"{"account_id":"\#($0)","features":\#(Self.features(LineTests.tierD))}"# }
            .joined(separator: "\n").utf8)
        let store = service.store
        let settings = PortfolioReviewRunner.settings(service.application.scoring, service.application.configuration)
        let actor = Actor.cli("test")
        let (opened, _) = try await store.perform(OpenPortfolioReview(
            scope: .all, contentSHA256: Hashing.sha256Hex(data), rowsTotal: 5, modelVersion: settings.champion.modelVersion,
            createdBy: "test"), by: actor)
        let ranges = try PortfolioUpload.rows(in: data)
        let firstTwo = try await store.prepareReviewRows(
            ranges.prefix(2).map { PortfolioUpload.decode(data, $0, with: JSONDecoder()) }, settings: settings)
        let partial = try await store.perform(
            ApplyPortfolioRows(reviewID: opened.id, start: 0, rows: firstTwo, scope: .all, settings: settings), by: actor)
        #expect(partial.status == .running && partial.rowsDone == 2)

        // What the runner reports first says where it resumes (`review --input` prints it).
        let heard = Mutex<[Int]>([])
        let (finished, isNew) = try await PortfolioReviewRunner.run(
            data, store: store, settings: settings, scope: .all, actor: actor, createdBy: "test", chunkRows: 2
        ) { record in heard.withLock { $0.append(record.rowsDone) } }
        #expect(heard.withLock { $0 } == [2, 4, 5])
        #expect(!isNew)
        #expect(finished.id == opened.id && finished.status == .completed && finished.rowsDone == 5)
        #expect(finished.summary.actions == ["lower_limit": 5])
        let perAccount = try service.store.database.read { db in
            try Int.fetchAll(db, sql: "SELECT count(*) FROM decisions WHERE portfolio_review_id = ? GROUP BY account_id",
                             arguments: [opened.id])
        }
        #expect(perAccount == [1, 1, 1, 1, 1])
        await service.stop()
    }

    @Test func anOfferLapsesAfterThirtyDays() async throws {
        let clock = DemoClock()
        let service = try TestService(clock: clock)
        let lines = LineTests()
        let journey = try await lines.prepare(service, "rv-lapse", features: Self.tierC)
        _ = try await lines.activate(service, journey)
        // A JSON array is as good as NDJSON.
        let reply = try await upload(service, #"[ {"account_id":"\#(journey.account)","features":\#(Self.features(LineTests.tierA))} ]"#)
        #expect(reply.status == 201)
        let offers = try await service.call("GET", "/v1/accounts/\(journey.account)/limit-offers").json["items"] as? [[String: Any]]
        let offerID = try #require(offers?.first?["id"] as? String)
        clock.advance(days: 30)
        let offered = try await service.call("GET", "/v1/accounts/\(journey.account)/limit-offers").json["items"] as? [[String: Any]]
        #expect(offered?.first?["status"] as? String == "expired")
        let late = try await service.call("POST", "/v1/accounts/\(journey.account)/limit-offers/\(offerID)/acceptance",
                                    body: Self.confirmed)
        #expect(late.status == 409 && late.json["code"] as? String == "offer-expired")
        #expect(try await service.call("GET", "/v1/accounts/\(journey.account)").json["credit_limit"] as? Int == 500_000)
        await service.stop()
    }

    @Test(arguments: [
        ("", "no rows"), ("[]", "no rows"), ("[{\"account_id\":\"a\"}", "not closed"),
        ("[{\"account_id\":\"a\"},]", "empty element"), ("[{\"account_id\":\"a\"}] x", "follow"),
        ("[1]", "Row 1 is not a JSON object"), ("{\"account_id\":\"a\"}\n\"text\"", "Row 2 is not a JSON object"),
    ])
    func aBrokenUploadIsRefusedWhole(body: String, problem: String) async throws {
        let service = try TestService()
        let before = try await service.store.auditLength()
        let reply = try await upload(service, body)
        #expect(reply.status == 422)
        #expect(reply.json["field"] as? String == "body")
        #expect((reply.json["detail"] as? String)?.contains(problem) == true, "\(reply.json)")
        #expect(try await service.store.auditLength() == before)
        await service.stop()
    }

    @Test func anUploadAboveTheBulkCapIsRefusedAndOtherRoutesKeepTheirs() async throws {
        let service = try TestService { $0.portfolioReviewMaxBytes = 4096; $0.maxBodyBytes = 2048 }
        let big = "[" + Array(repeating: #"{"account_id":"acc_x","features":{}}"#, count: 200).joined(separator: ",") + "]"
        #expect(try await upload(service, big).status == 413)
        let fits = "[" + Array(repeating: #"{"account_id":"acc_x","features":{}}"#, count: 80).joined(separator: ",") + "]"
        #expect(fits.utf8.count > 2048)
        let reply = try await upload(service, fits)
        #expect(reply.status == 201)
        #expect((reply.json["summary"] as? [String: Any])?["skipped"] as? [String: Int] == ["account-not-found": 80])
        let padded = #"{"customer_ref":"big-1","x":""# + String(repeating: "a", count: 3000) + #""}"#
        // The body cap is the HTTP server's: over a socket.
        #expect(try service.socketCall("POST", "/v1/accounts", body: padded).status == 413)
        await service.stop()
    }
}
