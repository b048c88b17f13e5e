import CreditLine
import Foundation
@testable import CreditStore
import GRDB
import Testing
@testable import CreditAPI

@Suite struct ConsentTests {
    /// The SHA-256 of a published notice's text, as a calling backend computes it.
    static func notice(_ purpose: String) -> String {
        Hashing.sha256Hex(FileManager.default.contents(atPath: repositoryRoot + "/config/notices/\(purpose)/2026-11.txt")!)
    }

    static func grantBody(purpose: String = "credit_line", method: String = "explicit_opt_in",
                          extra: String = "") -> String
    {
        #"{"purpose":"\#(purpose)","notice_version":"2026-11","notice_sha256":"\#(notice(purpose))","channel":"app","method":"\#(method)"\#(extra)}"#
    }

    func account(_ service: TestService, _ ref: String = "c-1") async throws -> String {
        try #require(try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"\#(ref)"}"#).json["id"] as? String)
    }

    @Test func grantReturnsAReceipt() async throws {
        let service = try TestService()
        let id = try await account(service)
        let reply = try await service.call("POST", "/v1/accounts/\(id)/consents",
                                     body: Self.grantBody(extra: #","evidence":"checkbox unticked, tapped Agree""#))
        #expect(reply.status == 201)
        let receipt = reply.json
        let consentID = try #require(receipt["id"] as? String)
        #expect(consentID.hasPrefix("con_"))
        #expect(reply.header("Location") == "/v1/consents/\(consentID)")
        #expect(receipt["account_id"] as? String == id)
        #expect(receipt["purpose"] as? String == "credit_line")
        #expect(receipt["notice_version"] as? String == "2026-11")
        #expect(receipt["notice_sha256"] as? String == Self.notice(receipt["purpose"] as? String ?? ""))
        #expect(receipt["channel"] as? String == "app")
        #expect(receipt["method"] as? String == "explicit_opt_in")
        #expect(receipt["evidence"] as? String == "checkbox unticked, tapped Agree")
        #expect(receipt["status"] as? String == "active")
        #expect(receipt["withdrawn_at"] is NSNull)
        #expect(receipt["withdrawal_channel"] is NSNull)
        let granted = try #require(Timestamp(rfc3339: receipt["granted_at"] as? String ?? ""))
        let expires = try #require(Timestamp(rfc3339: receipt["expires_at"] as? String ?? ""))
        #expect(expires == granted.adding(days: 365))
        #expect((receipt["events"] as? [[String: Any]])?.first?["event"] as? String == "granted")

        let read = try await service.call("GET", "/v1/consents/\(consentID)", role: .operator)
        #expect(read.status == 200)
        #expect(read.json["id"] as? String == consentID)
        let list = try await service.call("GET", "/v1/accounts/\(id)/consents")
        #expect((list.json["items"] as? [[String: Any]])?.count == 1)
        await service.stop()
    }

    @Test(arguments: ["pre_ticked", "implied", "default", "bundled", "opt_out", "checkbox"])
    func nonExplicitConsentIs422AndLeavesNoTrace(method: String) async throws {
        let service = try TestService()
        let id = try await account(service)
        let before = try await service.store.auditLength()
        let reply = try await service.call("POST", "/v1/accounts/\(id)/consents", body: Self.grantBody(method: method))
        #expect(reply.status == 422)
        #expect(reply.json["code"] as? String == "consent-not-explicit")
        #expect(reply.json["field"] as? String == "method")
        #expect((reply.json["detail"] as? String)?.contains("PIPL Art. 14") == true)
        #expect(try await service.store.auditLength() == before)
        #expect(((try await service.call("GET", "/v1/accounts/\(id)/consents").json["items"]) as? [Any])?.isEmpty == true)
        await service.stop()
    }

    @Test(arguments: [("11010519491231002X", "customer_ref"), ("13812345678", "customer_ref"),
                      ("li.wang@example.cn", "customer_ref")])
    func personalDataInCustomerRefIs422(value: String, field: String) async throws {
        let service = try TestService()
        let reply = try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"\#(value)"}"#)
        #expect(reply.status == 422)
        #expect(reply.json["code"] as? String == "pii-not-allowed")
        #expect(reply.json["field"] as? String == field)
        #expect(!reply.text.contains(value))  // the answer does not echo it
        await service.stop()
    }

    @Test func withdrawalFreezesAnActiveLineAndIsIdempotent() async throws {
        let service = try TestService()
        let id = try await account(service)
        let consentID = try #require(try await service.call("POST", "/v1/accounts/\(id)/consents", body: Self.grantBody())
            .json["id"] as? String)
        // The account is made active directly: this test is about withdrawal, not activation.
        try service.store.database.write { db in
            try db.execute(sql: "UPDATE accounts SET status = 'active', credit_limit = 200000 WHERE id = ?", arguments: [id])
        }
        let first = try await service.call("POST", "/v1/consents/\(consentID)/withdrawal", body: #"{"channel":"web"}"#)
        #expect(first.status == 200)
        #expect((first.json["effects"] as? [[String: Any]])?.compactMap { $0["effect"] as? String } == ["account_frozen"])
        #expect(first.json["account_status"] as? String == "frozen")
        let consent = try #require(first.json["consent"] as? [String: Any])
        #expect(consent["status"] as? String == "withdrawn")
        #expect(consent["withdrawal_channel"] as? String == "web")
        #expect((consent["events"] as? [[String: Any]])?.last?["event"] as? String == "withdrawn")
        let account = try await service.call("GET", "/v1/accounts/\(id)")
        #expect(account.json["status"] as? String == "frozen")
        #expect(account.json["credit_limit"] as? Int == 200000)

        let length = try await service.store.auditLength()
        let second = try await service.call("POST", "/v1/consents/\(consentID)/withdrawal", body: #"{"channel":"app"}"#)
        #expect(second.status == 200)
        #expect((second.json["effects"] as? [Any])?.isEmpty == true)
        #expect((second.json["consent"] as? [String: Any])?["withdrawn_at"] as? String == consent["withdrawn_at"] as? String)
        #expect(try await service.store.auditLength() == length)
        await service.stop()
    }

    @Test func withdrawingAssessmentConsentReportsErasure() async throws {
        let service = try TestService()
        let id = try await account(service)
        let consentID = try #require(try await service.call(
            "POST", "/v1/accounts/\(id)/consents", body: Self.grantBody(purpose: "credit_assessment")).json["id"] as? String)
        let reply = try await service.call("POST", "/v1/consents/\(consentID)/withdrawal", body: #"{"channel":"phone","reason":"changed my mind"}"#)
        let effects = try #require(reply.json["effects"] as? [[String: Any]])
        #expect(effects.compactMap { $0["effect"] as? String } == ["scoring_stopped", "scoring_inputs_erased"])
        #expect(effects.last?["decisions"] as? Int == 0)
        await service.stop()
    }

    @Test func refusalsHaveTheirStatus() async throws {
        let service = try TestService()
        let id = try await account(service)
        #expect(try await service.call("POST", "/v1/accounts/acc_missing/consents", body: Self.grantBody()).status == 404)
        #expect(try await service.call("GET", "/v1/consents/con_missing").status == 404)
        #expect(try await service.call("GET", "/v1/accounts/acc_missing/consents").status == 404)
        #expect(try await service.call("POST", "/v1/consents/con_missing/withdrawal", body: #"{"channel":"app"}"#).status == 404)
        #expect(try await service.call("POST", "/v1/accounts/\(id)/consents", role: .operator, body: Self.grantBody()).status == 403)
        #expect(try await service.call("GET", "/v1/consents/con_x", role: .auditor).status == 403)
        let granted = try await service.call("POST", "/v1/accounts/\(id)/consents", body: Self.grantBody())
        #expect(granted.status == 201)
        let consent = try #require(granted.json["id"] as? String)
        let again = try await service.call("POST", "/v1/accounts/\(id)/consents", body: Self.grantBody())
        #expect(again.status == 409)
        #expect(again.json["code"] as? String == "consent-already-active")
        // An id that does not exist is 404 before the body is read, exactly as another tenant's.
        #expect(try await service.call("POST", "/v1/consents/con_x/withdrawal", body: #"{"channel":"fax"}"#).status == 404)
        let badChannel = try await service.call("POST", "/v1/consents/\(consent)/withdrawal", body: #"{"channel":"fax"}"#)
        #expect(badChannel.status == 422)
        #expect(badChannel.json["field"] as? String == "channel")
        let piiReason = try await service.call("POST", "/v1/consents/\(consent)/withdrawal",
                                         body: #"{"channel":"app","reason":"call me on 13812345678"}"#)
        #expect(piiReason.json["code"] as? String == "pii-not-allowed")
        #expect(piiReason.json["field"] as? String == "reason")
        await service.stop()
    }

    @Test func auditEntriesCarryNoPersonalData() async throws {
        let service = try TestService()
        let id = try await account(service, "shopper-777")
        let consentID = try #require(try await service.call(
            "POST", "/v1/accounts/\(id)/consents",
            body: Self.grantBody(extra: #","evidence":"tapped Agree on screen 3""#)).json["id"] as? String)
        _ = try await service.call("POST", "/v1/consents/\(consentID)/withdrawal", body: #"{"channel":"app","reason":"too expensive"}"#)
        let details = try service.store.database.read { db in
            try String.fetchAll(db, sql: "SELECT actor || role || action || detail || request_id FROM audit_log")
        }.joined()
        #expect(details.contains("consent.granted"))
        #expect(details.contains("consent.withdrawn"))
        for secret in ["shopper-777", "tapped Agree", "too expensive"] + service.keys.values {
            #expect(!details.contains(secret), "\(secret) leaked into the audit log")
        }
        await service.stop()
    }
}
