import CreditLine
@testable import CreditStore
import Foundation
import GRDB
import HTTPServer
import Testing
@testable import CreditAPI

@Suite struct AuditTests {
    /// A full journey: account, consents, score, activation, increase, withdrawal.
    func journey(_ service: TestService, _ ref: String) async throws -> LineTests.Journey {
        let journey = try await LineTests().prepare(service, ref)
        _ = try await LineTests().activate(service, journey, limit: #","requested_limit":1000000"#)
        _ = try await service.call("POST", "/v1/accounts/\(journey.account)/limit-adjustments",
                             body: #"{"new_limit":1200000,"reason_code":"customer_request","note":"asked in app","initiated_by":"customer","customer_confirmation":{"channel":"app","method":"explicit_opt_in","notice_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}"#)
        _ = try await service.call("POST", "/v1/consents/\(journey.assessmentConsent)/withdrawal", body: #"{"channel":"app"}"#)
        return journey
    }

    @Test func pagesGoChainByChainWithAPosition() async throws {
        let service = try TestService()
        let journey = try await journey(service, "audit-1")
        let first = try await service.call("GET", "/v1/audit?limit=5", role: .auditor)
        #expect(first.status == 200)
        let items = try #require(first.json["items"] as? [[String: Any]])
        let positions = items.map { "\($0["chain"] as? Int ?? -1):\($0["seq"] as? Int ?? -1)" }
        #expect(positions.count == 5)
        #expect(first.json["has_more"] as? Bool == true)
        // Page by page from the start: every entry once, each chain in its order.
        var seen: [String] = []
        var after = ""
        while true {
            let page = try await service.call("GET", "/v1/audit?limit=7&after=\(after)", role: .auditor)
            let entries = try #require(page.json["items"] as? [[String: Any]])
            seen += entries.map { "\($0["chain"] as? Int ?? -1):\($0["seq"] as? Int ?? -1)" }
            after = try #require(page.json["next_after"] as? String)
            if page.json["has_more"] as? Bool != true { break }
        }
        let total = try await service.store.auditLength()
        #expect(seen.count == total && Set(seen).count == total)
        #expect(Array(seen.prefix(5)) == positions)
        // Polled on from the last position, a page has only what came after it.
        _ = try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"after-the-pages"}"#)
        let polled = try await service.call("GET", "/v1/audit?after=\(after)", role: .auditor)
        #expect((polled.json["items"] as? [[String: Any]])?.map { $0["action"] as? String } == ["account.created"])
        // A chain there is not is kept in the position as it was, and read for nothing.
        let end = try #require(polled.json["next_after"] as? String)
        let madeUp = try await service.call("GET", "/v1/audit?after=\(end),999:5", role: .auditor)
        #expect((madeUp.json["next_after"] as? String)?.hasSuffix(",999:5") == true)
        #expect((madeUp.json["items"] as? [[String: Any]])?.isEmpty == true)
        #expect(try await service.call("GET", "/v1/audit?after_seq=3", role: .auditor).json["field"] as? String == "after_seq")
        for bad in ["1", "a:1", "0:1,0:2", "-1:0", "0:-1"] {
            #expect(try await service.call("GET", "/v1/audit?after=\(bad)", role: .auditor).json["field"] as? String == "after", "\(bad)")
        }
        let mine = try await service.call("GET", "/v1/audit?account_id=\(journey.account)&action=limit.adjusted", role: .auditor)
        let adjusted = try #require(mine.json["items"] as? [[String: Any]])
        #expect(adjusted.count == 1)
        #expect((adjusted.first?["detail"] as? [String: Any])?["new_limit"] as? Int == 1_200_000)
        #expect(try await service.call("GET", "/v1/audit", role: .service).status == 403)
        #expect(try await service.call("GET", "/v1/audit?limit=1001", role: .auditor).json["field"] as? String == "limit")
        #expect(try await service.call("GET", "/v1/audit?action=made.up", role: .auditor).json["field"] as? String == "action")
        await service.stop()
    }

    /// "Which entries did my request write?": the server's id from X-Request-Id lists exactly
    /// them (README "Operations", "Request ids"), in a page and in the NDJSON export.
    @Test func oneRequestsEntriesByTheIDItsAnswerCarried() async throws {
        let service = try TestService()
        let journey = try await LineTests().prepare(service, "by-request-1")
        let activation = try await LineTests().activate(service, journey)
        #expect(activation.status == 200 || activation.status == 201)
        let id = try #require(activation.header("X-Request-Id"))
        let all = try #require(try await service.call("GET", "/v1/audit?limit=1000", role: .auditor).json["items"]
            as? [[String: Any]])
        let written = all.filter { $0["request_id"] as? String == id }.map { $0["action"] as? String ?? "" }
        #expect(written.contains("account.activated") && written.count >= 2, "\(written)")
        let listed = try await service.call("GET", "/v1/audit?request_id=\(id)", role: .auditor)
        #expect((listed.json["items"] as? [[String: Any]])?.map { $0["action"] as? String ?? "" } == written)
        // A page at a time, with the request id kept as the filter.
        let first = try await service.call("GET", "/v1/audit?request_id=\(id)&limit=1", role: .auditor)
        #expect((first.json["items"] as? [[String: Any]])?.count == 1 && first.json["has_more"] as? Bool == true)
        let after = try #require(first.json["next_after"] as? String)
        let rest = try await service.call("GET", "/v1/audit?request_id=\(id)&after=\(after)", role: .auditor)
        #expect((rest.json["items"] as? [[String: Any]])?.count == written.count - 1)
        // With the other filters.
        let one = try await service.call("GET", "/v1/audit?request_id=\(id)&action=account.activated&account_id=\(journey.account)",
                                         role: .auditor)
        #expect((one.json["items"] as? [[String: Any]])?.count == 1)
        let ndjson = try await service.call("GET", "/v1/audit?request_id=\(id)", role: .auditor,
                                            headers: ["Accept": "application/x-ndjson"])
        #expect(ndjson.text.split(separator: "\n").count == written.count)
        // Another request's id finds another set; an id that is not one is refused naming it.
        let other = try await service.call("GET", "/v1/audit?request_id=req_unknown-1", role: .auditor)
        #expect((other.json["items"] as? [[String: Any]])?.isEmpty == true)
        let bad = try await service.call("GET", "/v1/audit?request_id=a%20b", role: .auditor)
        #expect(bad.status == 422 && bad.json["field"] as? String == "request_id")
        #expect(try await service.call("GET", "/v1/audit?request_id=\(id)", role: .service).status == 403)
        await service.stop()
    }

    @Test func largePagesAreGzippedAndExportIsNDJSON() async throws {
        let service = try TestService()
        _ = try await journey(service, "audit-2")
        // Compression is the HTTP server's: over a socket.
        let zipped = try service.socketCall("GET", "/v1/audit?limit=1000", role: .auditor, headers: ["Accept-Encoding": "gzip"])
        #expect(zipped.header("Content-Encoding") == "gzip")
        let plain = try await service.call("GET", "/v1/audit?limit=1000", role: .auditor)
        #expect(Gzip.decompress(zipped.body) == plain.body)
        let ndjson = try await service.call("GET", "/v1/audit", role: .auditor, headers: ["Accept": "application/x-ndjson"])
        #expect(ndjson.header("Content-Type") == "application/x-ndjson")
        let lines = ndjson.text.split(separator: "\n")
        #expect(lines.count == (try await service.store.auditLength()))
        #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })
        await service.stop()
    }

    @Test func theRootIsSignedAndAForgedOneFails() async throws {
        let service = try TestService()
        _ = try await journey(service, "audit-3")
        let root = try await service.call("GET", "/v1/audit/head", role: .auditor).json
        let publicKey = try #require(
            try await service.call("GET", "/v1/audit/public-key", role: .auditor).json["public_key"] as? String)
        let key = try #require(Data(base64Encoded: publicKey))
        let at = try #require(root["at"] as? String)
        let signature = try #require(root["signature"] as? String)
        let heads = try #require(root["heads"] as? [[String: Any]]).map {
            AuditChainHead(chain: $0["chain"] as? Int ?? -1, seq: $0["seq"] as? Int ?? -1, hash: $0["hash"] as? String ?? "")
        }
        #expect(heads == (try await service.store.auditHeads()))
        #expect(heads.map(\.chain) == [0, 1])
        #expect(heads.reduce(0) { $0 + $1.seq } == (try await service.store.auditLength()))
        #expect(root["root"] as? String == SignedRoot.root(at: at, heads: heads))
        #expect(SignedRoot.isValid(at: at, heads: heads, signature: signature, publicKey: key))
        // What the service never claimed cannot be shown to have been claimed.
        var longer = heads
        longer[1].seq += 1
        #expect(!SignedRoot.isValid(at: at, heads: longer, signature: signature, publicKey: key))
        var other = heads
        other[0].hash = String(other[0].hash.reversed())
        #expect(!SignedRoot.isValid(at: at, heads: other, signature: signature, publicKey: key))
        #expect(!SignedRoot.isValid(at: at, heads: Array(heads.prefix(1)), signature: signature, publicKey: key))
        var forged = Array(Data(base64Encoded: signature)!)
        forged[0] ^= 1
        #expect(!SignedRoot.isValid(at: at, heads: heads, signature: Data(forged).base64EncodedString(), publicKey: key))
        await service.stop()
    }

    @Test func verifyFromASignedRootThenAfterTampering() async throws {
        let service = try TestService()
        _ = try await journey(service, "audit-4")
        let root = try await service.call("GET", "/v1/audit/head", role: .auditor)
        let total = try await service.store.auditLength()
        let whole = try await service.call("GET", "/v1/audit/verify", role: .auditor).json
        #expect(whole["ok"] as? Bool == true)
        #expect(whole["checked"] as? Int == total)
        _ = try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"after-checkpoint"}"#)
        let extended = try await service.call("POST", "/v1/audit/verify", role: .auditor, body: root.text).json
        #expect(extended["ok"] as? Bool == true)
        // Every entry is recomputed, from 1: nothing before the checkpoint is taken on trust.
        #expect(extended["checked"] as? Int == total + 1)
        // `algorithm` may be left out (Ed25519 is the default); another one is refused naming it.
        var saved = try #require(try JSONSerialization.jsonObject(with: Data(root.text.utf8)) as? [String: Any])
        saved["algorithm"] = nil
        let bare = String(decoding: try JSONSerialization.data(withJSONObject: saved), as: UTF8.self)
        #expect(try await service.call("POST", "/v1/audit/verify", role: .auditor, body: bare).json["ok"] as? Bool == true)
        saved["algorithm"] = "RSA"
        let other = String(decoding: try JSONSerialization.data(withJSONObject: saved), as: UTF8.self)
        let refusedAlgorithm = try await service.call("POST", "/v1/audit/verify", role: .auditor, body: other)
        #expect(refusedAlgorithm.status == 422 && refusedAlgorithm.json["field"] as? String == "algorithm")
        // A root the service did not sign is refused, naming the signature.
        let altered = root.text.replacingOccurrences(of: #""seq":"#, with: #""seq":1"#)
        let refused = try await service.call("POST", "/v1/audit/verify", role: .auditor, body: altered)
        #expect(refused.status == 422)
        #expect(refused.json["field"] as? String == "signature")
        try service.store.database.write { db in
            // What someone with the database's owner rights can do: lift the append-only guard.
            try db.execute(sql: db.dialect == .sqlite ? "DROP TRIGGER audit_log_no_update"
                : "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
            try db.execute(sql: "UPDATE audit_log SET actor = 'someone-else' WHERE chain = 1 AND seq = 3")
        }
        let broken = try await service.call("GET", "/v1/audit/verify", role: .auditor).json
        #expect(broken["ok"] as? Bool == false)
        #expect(broken["chain"] as? Int == 1)
        #expect(broken["first_broken_seq"] as? Int == 3)
        let rewritten = try await service.call(
            "GET", "/v1/audit/verify?from_chain=1&from_seq=2&from_hash=\(String(repeating: "a", count: 64))", role: .auditor).json
        #expect(rewritten["ok"] as? Bool == false)
        #expect(rewritten["first_broken_seq"] as? Int == 2)
        await service.stop()
    }

    @Test func theLogOfAFullJourneyHoldsNoPersonalDataOrInputs() async throws {
        let service = try TestService()
        _ = try await journey(service, "shopper-audit-5")
        let export = try await service.call("GET", "/v1/audit", role: .auditor, headers: ["Accept": "application/x-ndjson"]).text
        #expect(export.contains("account.activated"))
        #expect(export.contains("decision.scored"))
        // Timestamps (any entry's, or a date inside a detail such as valid_until) and hashes are the
        // service's own text, and may hold "0.98" ("…:40.980Z") by chance.
        let callerSide = export
            .replacingOccurrences(of: #""(at|hash|prev_hash)":"[^"]*""#, with: "", options: .regularExpression)
            .replacingOccurrences(of: #"\d{4}-\d{2}-\d{2}T[0-9:.]+Z"#, with: "", options: .regularExpression)
        for secret in ["shopper-audit-5", "0.98", "0.05", "months_on_platform", "on_time_ratio"] {
            #expect(!callerSide.contains(secret), "\(secret) is in the audit log")
        }
        // The spend, as a number of its own (a limit of 5,000,000 holds its digits).
        #expect(callerSide.range(of: #"[^0-9]500000[^0-9]"#, options: .regularExpression) == nil, "the spend is in the audit log")
        await service.stop()
    }

    @Test(.sqliteFile) func offlineVerifyAndExport() async throws {
        let service = try TestService()
        _ = try await journey(service, "audit-6")
        let length = try await service.store.auditLength()
        // While the service runs: read-only, no lock taken.
        let intact = try CommandLine_.run(["audit", "verify", "--db", service.databasePath])
        #expect(intact.status == 0)
        #expect(intact.stdout.contains("intact: \(length) entries"))
        let export = try CommandLine_.run(["audit", "export", "--db", service.databasePath])
        #expect(export.status == 0)
        #expect(export.stdout.split(separator: "\n").count == length)
        let heads = try await service.store.auditHeads()
        let fromCheckpoint = try CommandLine_.run(["audit", "verify", "--db", service.databasePath, "--from-chain", "1",
                                                   "--from-seq", String(heads[1].seq), "--from-hash", heads[1].hash])
        #expect(fromCheckpoint.status == 0)
        // A signed root saved as GET /v1/audit/head answered it, checked against the public key.
        let root = try await service.call("GET", "/v1/audit/head", role: .auditor)
        let rootFile = NSTemporaryDirectory() + "audit-root-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: rootFile) }
        try Data(root.body).write(to: URL(fileURLWithPath: rootFile))
        let publicKey = service.application.signer.publicKey.base64EncodedString()
        let fromRoot = try CommandLine_.run(["audit", "verify", "--db", service.databasePath, "--root", rootFile,
                                             "--public-key", publicKey])
        #expect(fromRoot.status == 0, "\(fromRoot.stdout)")
        let otherKey = Data(repeating: 7, count: 32).base64EncodedString()
        #expect(try CommandLine_.run(["audit", "verify", "--db", service.databasePath, "--root", rootFile,
                                      "--public-key", otherKey]).status == 1)
        await service.stop()
        #expect(try CommandLine_.run(["audit", "verify", "--db", "/nonexistent/db.sqlite"]).status == 2)
    }

    @Test(.sqliteFile) func offlineVerifyNamesTheFirstBrokenSeq() async throws {
        let service = try TestService()
        _ = try await journey(service, "audit-7")
        await service.application.shutdown()
        let path = NSTemporaryDirectory() + "audit-broken-\(UUID().uuidString).sqlite"
        try FileManager.default.copyItem(atPath: service.databasePath, toPath: path)
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: "DROP TRIGGER audit_log_no_delete")
            try db.execute(sql: "DELETE FROM audit_log WHERE chain = 1 AND seq = 4")
        }
        let broken = try CommandLine_.run(["audit", "verify", "--db", path])
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("broken at chain 1 seq 4"))
    }
}
