import CreditLine
import Foundation
import Testing
@testable import CreditAPI

/// Regressions for what an attack on a server of our own found (README "Hostile clients").
@Suite struct HostileClientTests {
    /// RFC 9110 §9.1: unknown methods are 501, answered before any metric or log is made of them,
    /// so made-up method names cannot grow the metrics or the log.
    @Test func unknownMethodsAre501AndLeaveNoTrace() async throws {
        let logs = LogCapture()
        let service = try TestService(logs: logs)
        let client = try RawClient(port: service.port)
        let names = (0..<200).map { "BREW\($0)" } + ["CONNECT", "get", "PROPFIND"]
        client.send(names.map { "\($0) /healthz HTTP/1.1\r\nHost: a\r\n\r\n" }.joined())
        for name in names {
            let reply = try #require(client.read(), "no answer to \(name)")
            #expect(reply.status == 501, "\(name)")
            #expect(reply.json["code"] as? String == "not-implemented")
        }
        // TRACE is a method of RFC 9110 we do not route: 405 with Allow, not 501.
        client.send("TRACE /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(client.read()?.status == 405)
        client.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        // The connection is still in step: the next request is answered as itself.
        #expect(client.read()?.status == 200)
        let metrics = try await service.call("GET", "/metrics", role: nil).text
        #expect(!metrics.contains("BREW"))
        #expect(!metrics.contains("PROPFIND"))
        #expect(!logs.all.contains { $0.contains("BREW") || $0.contains("PROPFIND") })
        await service.stop()
    }
}

extension HostileClientTests {
    /// The client's X-Request-Id is echoed and logged, never stored in the audit chain, which
    /// holds the server's own id.
    @Test func theAuditChainHoldsOnlyTheServersRequestID() async throws {
        let logs = LogCapture()
        let service = try TestService(logs: logs)
        let reply = try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"rid-1"}"#,
                                     headers: ["X-Request-Id": "Zhang.San-1990"])
        #expect(reply.status == 201)
        #expect(reply.header("X-Client-Request-Id") == "Zhang.San-1990")
        let audit = try await service.call("GET", "/v1/audit?action=account.created", role: .auditor)
        let items = try #require(audit.json["items"] as? [[String: Any]])
        #expect(items.count == 1)
        let stored = try #require(items.first?["request_id"] as? String)
        #expect(stored.hasPrefix("req_") && stored == reply.header("X-Request-Id"))
        // The caller's own id finds nothing: it was never written.
        let byClientID = try await service.call("GET", "/v1/audit?request_id=Zhang.San-1990", role: .auditor)
        #expect((byClientID.json["items"] as? [[String: Any]])?.isEmpty == true)
        #expect(logs.all.contains { $0.contains("client_request_id=Zhang.San-1990") && $0.contains("request_id=\(stored)") })
        await service.stop()
    }
}

extension HostileClientTests {
    /// Length is counted in code points, as the database counts it: 256 characters of e plus a
    /// combining accent (512 code points) is too long, a 422 naming the field, not a 500.
    @Test func combiningAccentsAreCountedAsTheDatabaseCountsThem() async throws {
        let service = try TestService()
        let id = try await ConsentTests().account(service, "accents-1")
        let evidence = String(repeating: "e\u{301}", count: 200)
        #expect(evidence.count == 200)
        let reply = try await service.call("POST", "/v1/accounts/\(id)/consents",
                                     body: ConsentTests.grantBody(extra: #","evidence":"\#(evidence)""#))
        #expect(reply.status == 422)
        #expect(reply.json["field"] as? String == "evidence")
        await service.stop()
    }

    /// A problem quotes at most a bounded piece of what the caller sent.
    @Test func hugeFieldNamesAreNotEchoed() async throws {
        let service = try TestService()
        let name = String(repeating: "n", count: 100_000)
        let reply = try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"echo-1","\#(name)":1}"#)
        #expect(reply.status == 422)
        #expect(reply.body.count < 1_000)
        let method = try await service.call("POST", "/v1/accounts/acc_x/consents",
                                      body: ConsentTests.grantBody(method: String(repeating: "m", count: 50_000)))
        #expect(method.status == 422 || method.status == 404)
        #expect(method.body.count < 1_000)
        await service.stop()
    }
}

extension HostileClientTests {
    /// With credit_assessment withdrawn (its inputs erased), no increase passes on the old
    /// decision, and an open activation review is cancelled, not approvable.
    @Test func assessmentConsentIsRecheckedAfterActivation() async throws {
        let service = try TestService()
        let lines = LineTests()
        let active = try await lines.prepare(service, "reassess-1")
        #expect(try await lines.activate(service, active).status == 200)
        _ = try await service.call("POST", "/v1/consents/\(active.assessmentConsent)/withdrawal", body: #"{"channel":"app"}"#)
        let increase = try await service.call("POST", "/v1/accounts/\(active.account)/limit-adjustments",
                                        body: #"{"new_limit":2500000,"reason_code":"customer_request","note":"customer asked","initiated_by":"customer","customer_confirmation":{"channel":"app","method":"explicit_opt_in","notice_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}"#)
        #expect(increase.status == 409)
        #expect(increase.json["code"] as? String == "consent-required")

        let pending = try await lines.prepare(service, "reassess-2", features: LineTests.tierD)
        let review = try #require(try await lines.activate(service, pending).json["review_id"] as? String)
        let withdrawal = try await service.call("POST", "/v1/consents/\(pending.assessmentConsent)/withdrawal",
                                          body: #"{"channel":"app"}"#)
        let effects = (withdrawal.json["effects"] as? [[String: Any]])?.compactMap { $0["effect"] as? String }
        #expect(effects?.contains("review_cancelled") == true)
        #expect(withdrawal.json["account_status"] as? String == "prospect")
        let approval = try await service.call("POST", "/v1/reviews/\(review)/resolution", role: .operator,
                                        body: #"{"approve":true,"note":"looks fine"}"#)
        #expect(approval.status == 409)
        #expect(approval.json["code"] as? String == "review-cancelled")
        await service.stop()
    }
}

extension HostileClientTests {
    /// One fraction anywhere no longer turns the unknown-field check off, and a name twice in
    /// one object (however it is escaped, at any depth) is refused.
    @Test(arguments: [
        (#"{"customer_ref":"frac-1","status":"active","x":1.5}"#, "status"),
        (#"{"customer_ref":"dup-1","customer_ref":"dup-2"}"#, "customer_ref"),
        (#"{"customer_ref":"dup-3","\u0063ustomer_ref":"dup-4"}"#, "customer_ref"),
    ])
    func bodiesAreReadOneWayOnly(body: String, field: String) async throws {
        let service = try TestService()
        let reply = try await service.call("POST", "/v1/accounts", body: body)
        #expect(reply.status == 422)
        #expect(reply.json["code"] as? String == "invalid-field")
        #expect(reply.json["field"] as? String == field)
        #expect(try await service.store.auditLength() == 5)  // the four keys and the model review, no account
        await service.stop()
    }

    @Test func duplicateNamesInNestedObjectsAreRefused() async throws {
        let service = try TestService()
        let account = try await ConsentTests().account(service, "nested-dup")
        _ = try await service.call("POST", "/v1/accounts/\(account)/consents", body: ConsentTests.grantBody(purpose: "credit_assessment"))
        let reply = try await service.call("POST", "/v1/accounts/\(account)/scores",
                                     body: #"{"features":{"orders_12m":1,"orders_12m":900}}"#)
        #expect(reply.status == 422)
        #expect(reply.json["field"] as? String == "orders_12m")
        await service.stop()
    }
}

extension HostileClientTests {
    static func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int ?? -1) & 0o777
    }

    /// The database, its WAL and shared memory, and the audit signing key are the service
    /// user's alone; the key may live elsewhere (`audit_key`).
    @Test(.sqliteFile) func filesAreOwnerOnly() async throws {
        let keyPath = NSTemporaryDirectory() + "creditline-key-" + UUID().uuidString
        let service = try TestService { $0.auditKey = keyPath }
        _ = try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"modes-1"}"#)
        for path in [service.databasePath, service.databasePath + "-wal", service.databasePath + "-shm", keyPath] {
            #expect(Self.mode(path) == 0o600, "\(path)")
        }
        #expect(!FileManager.default.fileExists(atPath: service.databasePath + ".audit-key"))
        await service.stop()
        try? FileManager.default.removeItem(atPath: keyPath)
    }
}
