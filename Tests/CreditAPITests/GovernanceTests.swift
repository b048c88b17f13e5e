import CreditLine
import Foundation
import GRDB
import Testing
@testable import CreditAPI
@testable import CreditStore

/// Data governance over real sockets (README "Data governance"): a lapse is a withdrawal, reasons
/// are codes and notes stay outside the chain, a customer's change carries their confirmation,
/// the register matches the schema, retention erases what it says, and the customer gets a copy.
@Suite struct GovernanceTests {
    static let confirmation = #""customer_confirmation":{"channel":"app","method":"explicit_opt_in","notice_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}"#

    /// An account whose consents end `days` from now, scored at tier A; activated when asked.
    func shortConsents(_ service: TestService, _ ref: String, days: Int, activate: Bool = true,
                       features: String = LineTests.tierA) async throws -> LineTests.Journey
    {
        let until = service.store.time.now().adding(days: days).rfc3339
        let account = try #require(try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"\#(ref)"}"#)
            .json["id"] as? String)
        func grant(_ purpose: String) async throws -> String {
            try #require(try await service.call("POST", "/v1/accounts/\(account)/consents", body: ConsentTests.grantBody(
                purpose: purpose, extra: #","expires_at":"\#(until)""#)).json["id"] as? String)
        }
        let assessment = try await grant("credit_assessment")
        let line = try await grant("credit_line")
        let decision = try #require(try await service.call("POST", "/v1/accounts/\(account)/scores", body: features)
            .json["id"] as? String)
        let journey = LineTests.Journey(account: account, lineConsent: line, assessmentConsent: assessment, decision: decision)
        if activate { _ = try await LineTests().activate(service, journey) }
        return journey
    }

    func entries(_ service: TestService, account: String) async throws -> [[String: Any]] {
        try await service.call("GET", "/v1/audit?account_id=\(account)&limit=1000", role: .auditor).json["items"] as? [[String: Any]] ?? []
    }

    // MARK: - Expiry = withdrawal

    @Test func aLapsedConsentHasExactlyTheEffectsOfItsWithdrawal() async throws {
        let clock = DemoClock()
        let service = try TestService(clock: clock)
        let active = try await shortConsents(service, "lapse-active", days: 2)
        let pending = try await shortConsents(service, "lapse-pending", days: 2, features: LineTests.tierD)
        #expect(try await service.call("GET", "/v1/accounts/\(pending.account)").json["status"] as? String == "pending_review")
        #expect(try await service.call("GET", "/v1/decisions/\(active.decision)").json["inputs_erased"] as? Bool == false)

        // Three days pass; the sweep records the lapse and applies its effects at once.
        #expect(try await service.call("POST", "/v1/demo/clock", role: .operator, body: #"{"advance_days":3}"#).status == 200)
        let line = try await service.call("GET", "/v1/accounts/\(active.account)").json
        #expect(line["status"] as? String == "frozen")                                     // credit_line: frozen
        #expect(try await service.call("GET", "/v1/decisions/\(active.decision)").json["inputs_erased"] as? Bool == true)
        #expect(try await service.call("GET", "/v1/accounts/\(pending.account)").json["status"] as? String == "prospect")
        let queue = try await service.call("GET", "/v1/reviews?status=cancelled", role: .operator).json["items"] as? [[String: Any]]
        #expect(queue?.contains { $0["account_id"] as? String == pending.account } == true)  // review cancelled

        // Each effect is in the chain with the lapse, and the customer is told in words.
        let log = try await entries(service, account: active.account)
        let expired = log.filter { $0["action"] as? String == "consent.expired" }
        #expect(expired.count == 2)
        let effects = Set(expired.flatMap { ($0["detail"] as? [String: Any])?["effects"] as? [String] ?? [] })
        #expect(effects.isSuperset(of: ["account_frozen", "scoring_inputs_erased"]))
        let frozen = log.first { $0["action"] as? String == "account.frozen" }
        #expect((frozen?["detail"] as? [String: Any])?["cause"] as? String == "consent_expiry")
        let notices = try await NoticeTests().notices(service, active.account)
        #expect(notices.contains { $0["kind"] as? String == "line_frozen" && ($0["text"] as? String)?.contains("授权已到期") == true })
        // A draw is refused on the frozen line.
        let draw = try await service.call("POST", "/v1/accounts/\(active.account)/draws", body: #"{"amount":100,"customer_selected":true}"#)
        #expect(draw.status == 409)
        await service.stop()
    }

    /// A consent that lapsed before the rule (its inputs kept) is brought up to date by its
    /// withdrawal: the inputs go.
    @Test func withdrawingALapsedConsentErasesWhatItLeft() async throws {
        let service = try TestService()
        let journey = try await LineTests().prepare(service, "lapsed-before")
        // Planted: the consent marked expired without its effects, as the old sweep did.
        try service.store.database.write { db in
            try db.execute(sql: "UPDATE consents SET status = 'expired' WHERE id = ?",
                           arguments: [journey.assessmentConsent])
        }
        #expect(try await service.call("GET", "/v1/decisions/\(journey.decision)").json["inputs_erased"] as? Bool == false)
        let withdrawn = try await service.call("POST", "/v1/consents/\(journey.assessmentConsent)/withdrawal", body: #"{"channel":"app"}"#)
        #expect(withdrawn.status == 200)
        #expect(try await service.call("GET", "/v1/decisions/\(journey.decision)").json["inputs_erased"] as? Bool == true)
        await service.stop()
    }

    // MARK: - Reason codes and notes

    @Test func reasonsAreCodesAndNotesStayOutsideTheChain() async throws {
        let service = try TestService()
        let journey = try await LineTests().prepare(service, "coded")
        _ = try await LineTests().activate(service, journey)
        let freeze = "/v1/accounts/\(journey.account)/freeze"
        let free = try await service.call("POST", freeze, role: .operator, body: #"{"reason":"Zhang San phoned"}"#)
        #expect(free.status == 422 && free.json["field"] as? String == "reason")
        let unknown = try await service.call("POST", freeze, role: .operator, body: #"{"reason_code":"because"}"#)
        #expect(unknown.status == 422 && unknown.json["code"] as? String == "invalid-reason-code")
        #expect(unknown.json["field"] as? String == "reason_code")
        let phone = try await service.call("POST", freeze, role: .operator, body: #"{"reason_code":"other","note":"call 13812345678"}"#)
        #expect(phone.status == 422 && phone.json["field"] as? String == "note")
        let long = try await service.call("POST", freeze, role: .operator,
                                    body: #"{"reason_code":"other","note":"\#(String(repeating: "a", count: 501))"}"#)
        #expect(long.status == 422 && long.json["field"] as? String == "note")
        let note = "Zhang San phoned about the parcel"
        #expect(try await service.call("POST", freeze, role: .operator, body: #"{"reason_code":"card_lost","note":"\#(note)"}"#)
            .status == 200)
        let adjust = try await service.call("POST", "/v1/accounts/\(journey.account)/limit-adjustments", role: .operator, body: """
            {"new_limit":100000,"reason_code":"risk_deterioration","note":"\(note)","initiated_by":"operator"}
            """)
        #expect(adjust.status == 201)

        let frozen = try await entries(service, account: journey.account).first { $0["action"] as? String == "account.frozen" }
        let detail = try #require(frozen?["detail"] as? [String: Any])
        #expect(detail["reason_code"] as? String == "card_lost" && detail["has_note"] as? Bool == true)
        #expect(detail["reason"] == nil)
        let (chain, notes) = try service.store.database.read { db in
            (try String.fetchAll(db, sql: "SELECT detail FROM audit_log"),
             try String.fetchAll(db, sql: "SELECT text FROM notes WHERE account_id = ?", arguments: [journey.account]))
        }
        #expect(!chain.contains { $0.contains("Zhang San") })
        #expect(notes == [note, note])
        let inventory = try await service.call("GET", "/v1/data-inventory", role: .auditor).json
        let from = try #require(inventory["reason_codes_from_seq"] as? Int)
        #expect(from >= 1)
        #expect((inventory["reason_codes"] as? [String: String])?["card_lost"] != nil)
        await service.stop()
    }

    // MARK: - The customer's confirmation

    @Test func aCustomersChangeCarriesWhatTheyConfirmed() async throws {
        let service = try TestService()
        let lines = LineTests()
        let journey = try await lines.prepare(service, "confirmed")
        _ = try await lines.activate(service, journey, limit: #","requested_limit":1000000"#)
        let path = "/v1/accounts/\(journey.account)/limit-adjustments"
        let claimed = try await service.call("POST", path, body: """
            {"new_limit":1200000,"reason_code":"customer_request","initiated_by":"customer"}
            """)
        #expect(claimed.status == 422 && claimed.json["code"] as? String == "confirmation-required")
        #expect(claimed.json["field"] as? String == "customer_confirmation")
        let badHash = try await service.call("POST", path, body: """
            {"new_limit":1200000,"reason_code":"customer_request","initiated_by":"customer","customer_confirmation":{"channel":"app","method":"explicit_opt_in","notice_sha256":"xyz"}}
            """)
        #expect(badHash.status == 422 && badHash.json["field"] as? String == "customer_confirmation.notice_sha256")
        let preTicked = try await service.call("POST", path, body: """
            {"new_limit":1200000,"reason_code":"customer_request","initiated_by":"customer","customer_confirmation":{"channel":"app","method":"pre_ticked","notice_sha256":"\(String(repeating: "a", count: 64))"}}
            """)
        #expect(preTicked.status == 422 && preTicked.json["field"] as? String == "customer_confirmation.method")
        let asked = try await service.call("POST", path, body: """
            {"new_limit":1200000,"reason_code":"customer_request","initiated_by":"customer",\(Self.confirmation)}
            """)
        #expect(asked.status == 201)
        let adjusted = try await entries(service, account: journey.account).first { $0["action"] as? String == "limit.adjusted" }
        #expect((adjusted?["detail"] as? [String: Any])?["confirmation_sha256"] as? String
            == "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb")
        let cancel = try await service.call("POST", "/v1/accounts/\(journey.account)/cancellation", body: #"{"channel":"app"}"#)
        #expect(cancel.status == 422 && cancel.json["code"] as? String == "confirmation-required")
        #expect(try await service.call("POST", "/v1/accounts/\(journey.account)/cancellation",
                                 body: #"{"channel":"app",\#(Self.confirmation)}"#).status == 200)
        let evidence = try service.store.database.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM customer_confirmations WHERE account_id = ?",
                             arguments: [journey.account])
        }
        #expect(evidence == 3, "the affordability assessment's, the increase's and the cancellation's")
        await service.stop()
    }

    // MARK: - The register

    @Test func theRegisterClassifiesEveryColumnAndNoOther() async throws {
        let service = try TestService()
        let schema = try await service.store.schemaColumns()
        let inventory = service.application.inventory
        let (unclassified, missing) = inventory.differences(schema: schema)
        #expect(unclassified == [], "columns the register lacks: \(unclassified)")
        #expect(missing == [], "register entries with no column: \(missing)")
        // The check fails on a column added without a line in the register, and on an entry whose
        // column is gone.
        var grown = schema
        grown["accounts", default: []].append("date_of_birth")
        #expect(inventory.differences(schema: grown).unclassified == ["accounts.date_of_birth"])
        var shrunk = schema
        shrunk["notes"] = shrunk["notes"]?.filter { $0 != "text" }
        #expect(inventory.differences(schema: shrunk).missing == ["notes.text"])
        // Every free-text column is erased by a sweep.
        for (table, columns) in inventory.tables {
            for (column, entry) in columns where entry.dataClass == .freeText {
                #expect(entry.swept, "\(table).\(column)")
            }
        }
        #expect(try await service.call("GET", "/v1/data-inventory", role: .operator).status == 403)
        await service.stop()
    }

    // MARK: - Retention

    @Test func retentionErasesNotesAndInputsAsTheRegisterSays() async throws {
        let clock = DemoClock()
        let service = try TestService(clock: clock) { $0.scoringInputRetentionDays = 30 }
        let lines = LineTests()
        let journey = try await lines.prepare(service, "retained")
        _ = try await lines.activate(service, journey)
        #expect(try await service.call("POST", "/v1/accounts/\(journey.account)/freeze", role: .operator,
                                 body: #"{"reason_code":"other","note":"looked odd"}"#).status == 200)
        let contest = try await service.call("POST", "/v1/decisions/\(journey.decision)/review-requests",
                                       body: #"{"statement":"I repaid everything on time"}"#)
        let reviewID = try #require(contest.json["id"] as? String)
        #expect(try await service.call("POST", "/v1/reviews/\(reviewID)/resolution", role: .operator,
                                 body: #"{"approve":false,"note":"checked the ledger"}"#).status == 200)

        // 31 days: the inputs go (the consent is still in force); the words stay.
        #expect(try await service.call("POST", "/v1/demo/clock", role: .operator, body: #"{"advance_days":31}"#).status == 200)
        #expect(try await service.call("GET", "/v1/decisions/\(journey.decision)").json["inputs_erased"] as? Bool == true)
        let consents = try await service.call("GET", "/v1/accounts/\(journey.account)/consents").json["items"] as? [[String: Any]]
        #expect(consents?.allSatisfy { $0["status"] as? String == "active" } == true)
        func stored() async throws -> (notes: [String?], statement: String?, resolution: String?) {
            try service.store.database.read { db in
                (try String?.fetchAll(db, sql: "SELECT text FROM notes"),
                 try String.fetchOne(db, sql: "SELECT statement FROM reviews WHERE id = ?", arguments: [reviewID]),
                 try String.fetchOne(db, sql: "SELECT resolution FROM reviews WHERE id = ?", arguments: [reviewID]))
            }
        }
        #expect(try await stored().notes == ["looked odd"])

        // 180 days after they were written, the words go too.
        #expect(try await service.call("POST", "/v1/demo/clock", role: .operator, body: #"{"advance_days":150}"#).status == 200)
        let after = try await stored()
        #expect(after.notes == [nil])
        #expect(after.statement == nil)
        #expect(after.resolution?.contains("checked") == false)
        #expect(after.resolution?.contains("approve") == true)
        let swept = try await service.call("GET", "/v1/audit?action=retention.swept&limit=100", role: .auditor)
            .json["items"] as? [[String: Any]] ?? []
        let counts = swept.compactMap { $0["detail"] as? [String: Any] }
        #expect(counts.contains { ($0["scoring_inputs"] as? Int ?? 0) >= 1 })
        #expect(counts.contains { ($0["notes"] as? Int ?? 0) == 1 && ($0["review_statements"] as? Int ?? 0) == 1 })
        await service.stop()
    }

    // MARK: - Subject access

    @Test func theCustomerGetsEverythingHeldAboutThem() async throws {
        let service = try TestService()
        let lines = LineTests()
        let journey = try await lines.prepare(service, "export-me")
        _ = try await lines.activate(service, journey)
        _ = try await service.call("POST", "/v1/accounts/\(journey.account)/draws", body: #"{"amount":60000,"plan_months":3,"customer_selected":true}"#)
        let reply = try await service.call("GET", "/v1/accounts/\(journey.account)/data-export")
        #expect(reply.status == 200)
        let tables = try #require(reply.json["tables"] as? [String: [[String: Any]]])
        for table in ["accounts", "consents", "decisions", "draws", "instalments", "notices", "audit_log", "events"] {
            #expect(tables[table]?.isEmpty == false, "\(table)")
        }
        // Decisions come with their explanation and inputs as JSON, not strings of it.
        let decision = try #require(tables["decisions"]?.first)
        #expect(decision["explanation"] is [Any])
        #expect((decision["inputs"] as? [String: Any])?["orders_12m"] as? Int == 20)
        #expect(tables["audit_log"]?.allSatisfy { $0["account_id"] as? String == journey.account } == true)
        #expect(try await service.call("GET", "/v1/accounts/acc_nobody/data-export").status == 404)
        #expect(try await service.call("GET", "/v1/accounts/\(journey.account)/data-export", role: .operator).status == 403)
        await service.stop()
    }
}
