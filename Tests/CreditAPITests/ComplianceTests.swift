import CreditLine
import Crypto
import Foundation
import GRDB
import Testing
@testable import CreditAPI
@testable import CreditStore

/// The compliance report (README "Data governance"): every check holds on a database made
/// through the API, and finds and names a violation planted with raw SQL.
@Suite struct ComplianceTests {
    struct World {
        let service: TestService
        let clock: DemoClock
        let opened: String       // tier A, activated a day after its consent, then increased
        let reviewed: String     // tier D, approved above tier D's limit by two people
        let withdrawn: String    // consent withdrawn: frozen in the same transaction
        let bystander: String    // an account with no consent at all
        let lineConsent: String
        let assessmentConsent: String
        let decision: String
        let review: String
    }

    /// Everything the checks look at, done the lawful way, a day apart so that no activation is
    /// quick and no key busy.
    static func world() async throws -> World {
        let clock = DemoClock()
        let service = try TestService(clock: clock)
        let lines = LineTests()
        func day() async throws { _ = try await service.call("POST", "/v1/demo/clock", role: .operator, body: #"{"advance_days":1}"#) }
        let a = try await lines.prepare(service, "world-a")
        try await day()
        _ = try await lines.activate(service, a)
        #expect(try await service.call("POST", "/v1/accounts/\(a.account)/limit-adjustments", body: """
            {"new_limit":2500000,"reason_code":"customer_request","initiated_by":"customer",\(GovernanceTests.confirmation)}
            """).status == 201)
        let d = try await lines.prepare(service, "world-d", features: LineTests.tierD)
        try await day()
        let pending = try await lines.activate(service, d)
        let review = try #require(pending.json["review_id"] as? String)
        let second = try service.store.createKey(role: .operator, name: "second", tenant: nil, person: "second-person").token
        let approve = #"{"approve":true,"credit_limit":300000,"note":"checked"}"#
        #expect(try await service.call("POST", "/v1/reviews/\(review)/resolution", role: .operator, body: approve).status == 202)
        #expect(try await service.call("POST", "/v1/reviews/\(review)/resolution", role: nil, token: second, body: approve).status
            == 200)
        let w = try await lines.prepare(service, "world-w")
        try await day()
        _ = try await lines.activate(service, w)
        #expect(try await service.call("POST", "/v1/consents/\(w.lineConsent)/withdrawal", body: #"{"channel":"app"}"#).status == 200)
        let bystander = try await ConsentTests().account(service, "world-none")
        // Every notice reached its customer.
        for account in [a.account, d.account, w.account] {
            for notice in try await NoticeTests().notices(service, account) where notice["status"] as? String != "delivered" {
                let id = try #require(notice["id"] as? String)
                let at = try #require(notice["created_at"] as? String)
                #expect(try await service.call("POST", "/v1/notices/\(id)/delivery",
                                         body: #"{"channel":"app","delivered_at":"\#(at)"}"#).status == 200)
            }
        }
        return World(service: service, clock: clock, opened: a.account, reviewed: d.account, withdrawn: w.account,
                     bystander: bystander, lineConsent: a.lineConsent, assessmentConsent: a.assessmentConsent,
                     decision: a.decision, review: review)
    }

    func report(_ world: World, query: String = "") async throws -> (JSONValue, [String: (holds: Bool, ids: [String])]) {
        let reply = try await world.service.call("GET", "/v1/compliance/report\(query)", role: .auditor)
        #expect(reply.status == 200)
        let report = try JSONDecoder().decode(JSONValue.self, from: Data(reply.body))
        var checks: [String: (holds: Bool, ids: [String])] = [:]
        for check in report["checks"]?.arrayValue ?? [] {
            checks[check["number"]?.stringValue ?? ""] = (check["holds"] == .bool(true),
                                                         (check["ids"]?.arrayValue ?? []).compactMap(\.stringValue))
        }
        return (report, checks)
    }

    /// A fake entry at the end of the chain (the report reads entries; the chain itself is the
    /// verifier's business, and this one would fail it).
    static func plantEntry(_ db: SQLConnection, action: String, account: String, at: String, actor: String = "key:planted",
                           detail: String) throws
    {
        let seq = (try Int.fetchOne(db, sql: "SELECT max(seq) FROM audit_log") ?? 0) + 1
        try db.execute(sql: """
            INSERT INTO audit_log (seq, at, actor, role, action, account_id, subject_id, detail, request_id, prev_hash, hash)
            VALUES (?, ?, ?, 'service', ?, ?, ?, ?, 'req_planted', ?, ?)
            """, arguments: [seq, at, actor, action, account, account, detail, String(repeating: "0", count: 64),
                             String(repeating: "f", count: 64)])
    }

    @Test func everyCheckHoldsOnALawfulDatabaseAndTheReportIsSigned() async throws {
        let world = try await Self.world()
        let (report, checks) = try await report(world)
        for number in ["1", "2", "3", "4", "5", "6", "7", "8a", "8b"] {
            #expect(checks[number]?.holds == true, "check \(number): \(checks[number]?.ids ?? [])")
        }
        #expect(report["holds"] == .bool(true))
        let figures = try #require(report["figures"])
        #expect(figures["activations"]?.intValue == 3)
        #expect(figures["consents_withdrawn"]?.intValue == 1)
        #expect(figures["reviews_resolved"]?.intValue == 1)
        let heads = report["audit_heads"]?.arrayValue ?? []
        #expect(heads.reduce(0) { $0 + ($1["seq"]?.intValue ?? 0) } == (try await world.service.store.auditLength()))
        #expect(heads.map { $0["chain"]?.intValue } == [0, 1])

        // The signature is the checkpoint key's, over the report's canonical JSON.
        let key = try #require(Data(base64Encoded: try await world.service.call("GET", "/v1/audit/public-key", role: .auditor)
            .json["public_key"] as? String ?? ""))
        #expect(AuditSigner.isValidReport(report, publicKey: key))
        guard case .object(var members) = report else { Issue.record("not an object"); return }
        members["holds"] = .bool(false)
        #expect(!AuditSigner.isValidReport(.object(members), publicKey: key))
        #expect(try await world.service.call("GET", "/v1/compliance/report", role: .operator).status == 403)

        // The command line gives the same checks, signed with the same key.
        let cli = try CommandLine_.run(["compliance", "report", "--db", world.service.databasePath],
                                       environment: world.service.commandLineEnvironment)
        #expect(cli.status == 0, "\(cli.stderr)")
        let printed = try JSONDecoder().decode(JSONValue.self, from: Data(cli.stdout.utf8))
        #expect(AuditSigner.isValidReport(printed, publicKey: key))
        await world.service.stop()
    }

    /// Each check, with one violation planted by raw SQL: found, and named by its id.
    @Test(arguments: ["1", "2", "3", "4", "5", "6", "7", "8a", "8b"])
    func aPlantedViolationIsFoundAndNamed(check: String) async throws {
        let world = try await Self.world()
        // A second back: the report's window ends at its own now, which may be this very
        // millisecond, and a planted row must fall inside it.
        let now = Timestamp(milliseconds: world.clock.now().milliseconds - 1000).rfc3339
        let queue = world.service.store.database
        let planted = try queue.write { db -> String in
            var planted = ""
            switch check {
            case "1":  // a line opened on the wrong consent (the assessment one)
                planted = world.opened
                try Self.plantEntry(db, action: "account.activated", account: world.opened, at: now, detail: """
                    {"consent_id":"\(world.assessmentConsent)","decision_id":"\(world.decision)"}
                    """)
            case "2":  // a decision for an account that never consented to be assessed
                planted = "dec_planted"
                try db.execute(sql: """
                    INSERT INTO decisions (id, account_id, score, tier, outcome, recommended_limit, reasons, explanation,
                                           model_version, inputs, inputs_sha256, scored_at, expires_at)
                    VALUES ('dec_planted', ?, 700, 'B', 'approve', 1000000, '[]', '[]', 'v1', '{}', 'h', ?, ?)
                    """, arguments: [world.bystander, now, now])
            case "3":  // a line opened on another account's decision
                planted = world.reviewed
                try Self.plantEntry(db, action: "account.activated", account: world.reviewed, at: now, detail: """
                    {"consent_id":"\(world.lineConsent)","decision_id":"\(world.decision)"}
                    """)
            case "4":  // an active line without any consent
                planted = world.bystander
                try db.execute(sql: "UPDATE accounts SET status = 'active' WHERE id = ?", arguments: [world.bystander])
            case "5":  // an increase the customer neither accepted nor confirmed
                planted = "adj_planted"
                try db.execute(sql: """
                    INSERT INTO limit_adjustments (id, account_id, old_limit, new_limit, direction, reason_code, initiated_by,
                                                   customer_accepted, notice_due, actor, effective_at)
                    VALUES ('adj_planted', ?, 100, 200, 'increase', 'customer_request', 'customer', 0, 0, 'key:x', ?)
                    """, arguments: [world.opened, now])
            case "6":  // one person approving twice
                planted = world.review
                try db.execute(sql: "UPDATE reviews SET first_approver = resolved_by WHERE id = ?", arguments: [world.review])
            case "7":  // a notice past its deadline, never delivered
                planted = "ntc_planted"
                try db.execute(sql: """
                    INSERT INTO notices (id, account_id, kind, locale, text, content_sha256, template_version, created_at, due_by)
                    VALUES ('ntc_planted', ?, 'limit_change', 'en', 'x', ?, 'v', ?, '2020-01-01T00:00:00.000Z')
                    """, arguments: [world.opened, String(repeating: "a", count: 64), now])
            case "8a":  // a line opened a second after its consent
                planted = world.withdrawn
                let granted = try String.fetchOne(db, sql: "SELECT granted_at FROM consents WHERE account_id = ? AND purpose = 'credit_line'",
                                                  arguments: [world.withdrawn]) ?? now
                let second = Timestamp(milliseconds: (Timestamp(rfc3339: granted)?.milliseconds ?? 0) + 1000).rfc3339
                let consent = try String.fetchOne(db, sql: "SELECT id FROM consents WHERE account_id = ? AND purpose = 'credit_line'",
                                                  arguments: [world.withdrawn]) ?? ""
                let decision = try String.fetchOne(db, sql: "SELECT id FROM decisions WHERE account_id = ?",
                                                   arguments: [world.withdrawn]) ?? ""
                // Otherwise lawful: its own consent in force, its own decision.
                try Self.plantEntry(db, action: "account.activated", account: world.withdrawn, at: second,
                                    detail: #"{"consent_id":"\#(consent)","credit_limit":100000,"decision_id":"\#(decision)","from":"prospect","terms_version":"2026-11","tier":"A"}"#)
            default:  // one key opening two lines in one minute
                planted = "key:busy@" + String(now.prefix(16))
                for _ in 0..<2 {
                    try Self.plantEntry(db, action: "account.activated", account: world.opened, at: now, actor: "key:busy",
                                        detail: #"{"consent_id":"\#(world.lineConsent)","credit_limit":100000,"decision_id":"\#(world.decision)","from":"prospect","terms_version":"2026-11","tier":"A"}"#)
                }
            }
            return planted
        }
        let (report, checks) = try await report(world)
        #expect(checks[check]?.holds == false, "check \(check)")
        #expect(checks[check]?.ids.contains(planted) == true, "check \(check) names \(checks[check]?.ids ?? [])")
        // A rule broken makes the report fail; an anomaly does not.
        #expect(report["holds"] == .bool(check.hasPrefix("8")))
        await world.service.stop()
    }

    /// The signed report judges every row or fails: a notice whose due date does not read is
    /// named, not taken as due now.
    /// A tenant's auditor gets its tenant's report, over the API and in the console; an auditor
    /// for all tenants the installation's (README "Tenants"). The world is the default tenant's;
    /// tenant beta has nothing, so nothing of the world may show in beta's report, and a
    /// violation of the world (an anomaly naming its account) shows only to those who see it.
    @Test func aTenantsAuditorReadsItsTenantsReportOnly() async throws {
        let world = try await Self.world()
        let service = world.service
        // An activation without a consent, a second back so that it falls inside the window.
        let at = Timestamp(milliseconds: world.clock.now().milliseconds - 1000).rfc3339
        try service.store.database.write { db in
            try Self.plantEntry(db, action: "account.activated", account: world.bystander, at: at,
                                detail: #"{"terms_version":"2026-11"}"#)
        }
        let beta = try service.store.createKey(role: .auditor, name: "beta audit", tenant: "beta").token
        let own = try service.store.createKey(role: .auditor, name: "default audit", tenant: "default").token
        func report(_ token: String?) async throws -> JSONValue {
            let reply = try await service.call("GET", "/v1/compliance/report", role: token == nil ? .auditor : nil, token: token)
            #expect(reply.status == 200)
            return try JSONDecoder().decode(JSONValue.self, from: Data(reply.body))
        }
        let all = try await report(nil)
        let mine = try await report(own)
        let betas = try await report(beta)
        #expect(all["figures"]?["activations"] == .int(4))
        #expect(mine["figures"] == all["figures"], "the default tenant holds everything here")
        #expect(betas["tenant"] == .string("beta"))
        #expect(betas["figures"]?["activations"] == .int(0))
        #expect(betas["figures"]?["consents_granted"] == .int(0))
        for check in betas["checks"]?.arrayValue ?? [] {
            #expect(check["checked"] == .int(0), "beta's report checked another tenant's rows: \(check)")
        }
        let text = String(decoding: try JSONEncoder().encode(betas), as: UTF8.self)
        for id in [world.opened, world.reviewed, world.withdrawn, world.bystander, world.decision, world.review] {
            #expect(!text.contains(id), "beta's report names \(id)")
        }
        #expect(String(decoding: try JSONEncoder().encode(all), as: UTF8.self).contains(world.bystander),
                "the planted activation is a violation the installation's report names")
        #expect(all["holds"] == .bool(false))
        #expect(betas["holds"] == .bool(true), "beta was judged on another tenant's activation")
        // The console's page is the same report, for the signed-in key's tenant.
        let console = ConsoleTests()
        func page(_ token: String) async throws -> String {
            let (_, signed) = try await console.signIn(service, token: token)
            return try await console.get(service, "/console/compliance", try #require(signed)).text
        }
        #expect(try await page(try #require(service.keys[.auditor])).contains(#"class="bad""#))
        #expect(try await !page(beta).contains(#"class="bad""#), "the console judged beta on another tenant's activation")
        await service.stop()
    }

    /// A notice delivered after its deadline stays late (check 7 fails, both times listed); a
    /// notice due in the window is judged even when it was written before it; a delivery report
    /// dated days before it arrived is named (8c); and the command line's report follows the
    /// service's (demo) clock.
    @Test func lateNoticesStayLate() async throws {
        let world = try await Self.world()
        let service = world.service
        func advance(_ days: Int) async throws {
            _ = try await service.call("POST", "/v1/demo/clock", role: .operator, body: #"{"advance_days":\#(days)}"#)
        }
        func newest(_ kind: String) async throws -> [String: Any] {
            try await #require(try NoticeTests().notices(service, world.opened).last { $0["kind"] as? String == kind })
        }
        func report(_ query: String = "") async throws -> JSONValue {
            try JSONDecoder().decode(JSONValue.self, from: Data(try await service.call(
                "GET", "/v1/compliance/report\(query)", role: .auditor).body))
        }
        func check(_ report: JSONValue, _ number: String) -> JSONValue? {
            report["checks"]?.arrayValue?.first { $0["number"] == .string(number) }
        }
        let before = try await report()
        #expect(check(before, "7")?["holds"] == .bool(true))

        // Frozen: a notice due in a day, reported delivered eleven days later.
        #expect(try await service.call("POST", "/v1/accounts/\(world.opened)/freeze", role: .operator,
                                 body: #"{"reason_code":"other"}"#).status == 200)
        let frozen = try await newest("line_frozen")
        let frozenID = try #require(frozen["id"] as? String)
        let written = try #require(frozen["created_at"] as? String)
        try await advance(11)
        let now = world.clock.now().rfc3339
        #expect(try await service.call("POST", "/v1/notices/\(frozenID)/delivery", body: #"{"channel":"app","delivered_at":"\#(now)"}"#)
            .status == 200)
        let late = try await report()
        #expect(check(late, "7")?["holds"] == .bool(false), "a notice delivered ten days late counted as on time")
        #expect(check(late, "7")?["ids"]?.arrayValue?.contains(.string(frozenID)) == true)
        let listed = late["late_notices"]?.arrayValue?.first { $0["id"] == .string(frozenID) }
        #expect(listed?["due_by"] == frozen["due_by"].flatMap { ($0 as? String).map(JSONValue.string) })
        #expect(listed?["delivered_at"] == .string(now))

        // Written an hour before the window, due inside it: still judged.
        let from = Timestamp(rfc3339: written)!.adding(seconds: 3600).rfc3339
        let windowed = try await report("?from=\(from)")
        #expect(check(windowed, "7")?["ids"]?.arrayValue?.contains(.string(frozenID)) == true,
                "a notice due in the window escaped because it was written before it")

        // Unfrozen: its report, made three days on, dates the delivery to the notice's writing.
        #expect(try await service.call("POST", "/v1/accounts/\(world.opened)/unfreeze", role: .operator,
                                 body: #"{"reason_code":"other"}"#).status == 200)
        let unfrozen = try await newest("line_unfrozen")
        let unfrozenID = try #require(unfrozen["id"] as? String)
        try await advance(3)
        #expect(try await service.call("POST", "/v1/notices/\(unfrozenID)/delivery", body: """
            {"channel":"app","delivered_at":"\(try #require(unfrozen["created_at"] as? String))"}
            """).status == 200)
        let backdated = try await report()
        #expect(check(backdated, "8c")?["ids"]?.arrayValue?.contains(.string(unfrozenID)) == true,
                "\(check(backdated, "8c") ?? .null)")
        #expect(check(backdated, "8c")?["ids"]?.arrayValue?.contains(.string(frozenID)) == false, "a late report is not a backdated one")
        #expect(check(backdated, "8c")?["kind"] == .string("anomaly"))

        // Offline, the report's "now" is the service's: fourteen days ahead of this machine's clock.
        let cli = try CommandLine_.run(["compliance", "report", "--db", service.databasePath],
                                       environment: service.commandLineEnvironment)
        let printed = try JSONDecoder().decode(JSONValue.self, from: Data(cli.stdout.utf8))
        let to = try #require(printed["to"]?.stringValue.flatMap(Timestamp.init(rfc3339:)))
        #expect(to >= Timestamp(milliseconds: world.clock.now().milliseconds - 60_000), "the command line used another clock")
        #expect(check(printed, "8c")?["ids"]?.arrayValue?.contains(.string(unfrozenID)) == true)
        await service.stop()
    }

    /// Rows the report cannot read are findings, never passes: an activation entry whose time does
    /// not read fails checks 1 and 3 naming its account; a decision whose time does not read fails
    /// check 2 naming it.
    @Test func unreadableRowsFailTheirChecks() async throws {
        let world = try await Self.world()
        let now = Timestamp(milliseconds: world.clock.now().milliseconds - 1000).rfc3339
        try world.service.store.database.write { db in
            try Self.plantEntry(db, action: "account.activated", account: world.bystander, at: "2026-12-06Tunreadable",
                                detail: "{}")
            try db.execute(sql: """
                INSERT INTO decisions (id, account_id, score, tier, outcome, recommended_limit, reasons, explanation,
                                       model_version, inputs_sha256, scored_at, expires_at)
                VALUES ('dec_unreadable', ?, 700, 'B', 'approve', 0, '[]', '[]', 'v1', 'h', ?, ?)
                """, arguments: [world.bystander, now, now])
            try db.execute(sql: "UPDATE decisions SET scored_at = '2026-12-06Tunreadable' WHERE id = 'dec_unreadable'")
        }
        // A value that does not read but sorts inside the window (it starts as a date does), in a
        // window wide enough to hold it.
        let (report, checks) = try await report(world, query: "?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z")
        #expect(report["holds"] == .bool(false))
        #expect(checks["1"]?.ids.contains(world.bystander) == true, "\(checks["1"] ?? (true, []))")
        #expect(checks["3"]?.ids.contains(world.bystander) == true)
        #expect(checks["2"]?.ids.contains("dec_unreadable") == true, "\(checks["2"] ?? (true, []))")
        await world.service.stop()
    }

    /// A change of terms whose entry does not read as its typed event (a tier the enum does not
    /// know, a member missing) fails check 5 naming its account; an entry from before the rule
    /// (no `no_dearer`) is not judged.
    @Test func aTermsChangeThatDoesNotReadFailsCheckFive() async throws {
        let world = try await Self.world()
        let now = Timestamp(milliseconds: world.clock.now().milliseconds - 1000).rfc3339
        try world.service.store.database.write { db in
            try Self.plantEntry(db, action: "terms.accepted", account: world.bystander, at: now, detail: """
                {"decision_id":"dec_x","interest_free_days":30,"no_dearer":true,"previous_tier":null,"terms_version":"2026-11","tier":"Z"}
                """)
            try Self.plantEntry(db, action: "terms.accepted", account: world.reviewed, at: now, detail: """
                {"decision_id":"dec_x","interest_free_days":30,"previous_tier":"A","terms_version":"2026-11","tier":"B"}
                """)
        }
        let (report, checks) = try await report(world)
        #expect(report["holds"] == .bool(false))
        #expect(checks["5"]?.holds == false)
        #expect(checks["5"]?.ids == [world.bystander], "\(checks["5"] ?? (true, []))")
        await world.service.stop()
    }

    @Test func aNoticeWhoseDueDateDoesNotReadFailsTheReport() async throws {
        let world = try await Self.world()
        let now = Timestamp(milliseconds: world.clock.now().milliseconds - 1000)
        try world.service.store.database.write { db in
            try db.execute(sql: """
                INSERT INTO notices (id, account_id, kind, locale, text, content_sha256, template_version, created_at, due_by)
                VALUES ('ntc_unreadable', ?, 'limit_change', 'en', 'x', ?, 'v', ?, 'tomorrow')
                """, arguments: [world.opened, String(repeating: "a", count: 64), now.rfc3339])
        }
        await #expect(throws: StoreError.unreadableRow(table: "notices", column: "due_by", id: "ntc_unreadable")) {
            try await world.service.store.complianceReport(from: now.adding(days: -30), to: world.clock.now(),
                                                           settings: world.service.application.scoring.complianceSettings(world.service.configuration),
                                                           now: world.clock.now())
        }
        await world.service.stop()
    }
}
