import CreditLine
import Foundation
import GRDB
import Testing
@testable import CreditAPI
@testable import CreditStore

/// `POST /v1/demo/clock`: days pass under `serve --demo` only, for every rule and sweep, and the
/// jump is in the audit chain.
@Suite struct DemoClockTests {
    @Test func daysPassForEveryRuleAndTheChainSaysSo() async throws {
        let clock = DemoClock()
        let service = try TestService(clock: clock) { $0.consentExpirySweepSeconds = 86_400; $0.delinquencySweepSeconds = 86_400 }
        let account = try #require(try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"clock-1"}"#)
            .json["id"] as? String)
        let expiresAt = Timestamp(milliseconds: clock.now().milliseconds).adding(days: 30).rfc3339
        let consent = try #require(try await service.call(
            "POST", "/v1/accounts/\(account)/consents",
            body: ConsentTests.grantBody(purpose: "credit_assessment", extra: #","expires_at":"\#(expiresAt)""#))
            .json["id"] as? String)

        let before = clock.now()
        let reply = try await service.call("POST", "/v1/demo/clock", role: .operator, body: #"{"advance_days":40}"#)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.json["advanced_days"] as? Int == 40)
        let now = try #require(Timestamp(rfc3339: reply.json["now"] as? String ?? ""))
        #expect(now.milliseconds - before.milliseconds >= 40 * 86_400_000)
        // The consent's 30 days are over: recorded at once, not at the next sweep.
        #expect(try await service.call("GET", "/v1/consents/\(consent)").json["status"] as? String == "expired")
        // New writes carry the new time.
        let later = try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"clock-2"}"#)
        let created = try #require(Timestamp(rfc3339: later.json["created_at"] as? String ?? ""))
        #expect(created >= now)
        let actions = try await service.store.database.read { db in
            try String.fetchAll(db, sql: "SELECT action FROM audit_log ORDER BY at, chain, seq")
        }
        // The notice sweep runs beside the request and may write a notice between these entries.
        #expect(actions.filter { $0 != "notice.created" }.suffix(3) == ["demo.clock_advanced", "consent.expired", "account.created"])
        #expect(try service.store.verifyAudit() == .intact(checked: try await service.store.auditLength(),
                                                           heads: try await service.store.auditHeads()))
        await service.stop()
    }

    @Test(arguments: [
        (#"{"advance_days":0}"#, 422), (#"{"advance_days":3651}"#, 422), (#"{"advance_days":-1}"#, 422),
        (#"{"advance_days":1.5}"#, 422), (#"{}"#, 422), (#"{"advance_days":1,"back":true}"#, 422),
    ])
    func badRequestsMoveNothing(_ body: String, _ status: Int) async throws {
        let clock = DemoClock()
        let service = try TestService(clock: clock)
        let before = clock.now()
        let reply = try await service.call("POST", "/v1/demo/clock", role: .operator, body: body)
        #expect(reply.status == status)
        #expect(clock.now().milliseconds - before.milliseconds < 86_400_000)
    }

    @Test func onlyOperatorsAndOnlyUnderTheDemo() async throws {
        let demo = try TestService(clock: DemoClock())
        #expect(try await demo.call("POST", "/v1/demo/clock", role: .service, body: #"{"advance_days":1}"#).status == 403)
        #expect(try await demo.call("POST", "/v1/demo/clock", role: .auditor, body: #"{"advance_days":1}"#).status == 403)
        #expect(try await demo.call("POST", "/v1/demo/clock", role: nil, body: #"{"advance_days":1}"#).status == 401)
        await demo.stop()
        let plain = try TestService()
        #expect(try await plain.call("POST", "/v1/demo/clock", role: .operator, body: #"{"advance_days":1}"#).status == 404)
        await plain.stop()
    }

    @Test func aRestartedDemoGoesOnFromItsLastRecordedTime() {
        let clock = DemoClock()
        let ahead = clock.now().adding(days: 40)
        clock.catchUp(to: ahead)
        #expect(clock.now() >= ahead)
        clock.catchUp(to: ahead.adding(days: -100))
        #expect(clock.now() >= ahead)
    }
}
