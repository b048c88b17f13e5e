import CreditLine
import Foundation
@testable import CreditStore
import GRDB
import Synchronization
import Testing
@testable import CreditAPI

/// A clock the test moves by the second: a link's 15 minutes pass without waiting.
final class SteppedTime: TimeSource, Sendable {
    private let offset = Atomic<Int64>(0)
    func now() -> Timestamp { Timestamp(milliseconds: SystemTimeSource().now().milliseconds + offset.load(ordering: .acquiring)) }
    func advance(seconds: Int64) { offset.add(seconds * 1000, ordering: .acquiringAndReleasing) }
}

/// The customer's own pages (README "The customer's own pages"), through the router: links, the
/// consent page's choices and evidence, the other pages' actions landing in the API's state.
/// BrowserTests (scripts/browser-tests) go through the same pages in a real browser.
@Suite struct CustomerPageTests {
    static let back = "http://127.0.0.1:9/back"

    /// A link, and the path of its page.
    func link(_ service: TestService, _ account: String, _ fields: String) async throws -> (path: String, token: String, id: String) {
        let reply = try await service.call("POST", "/v1/accounts/\(account)/customer-links",
                                           body: #"{\#(fields),"return_url":"\#(Self.back)"}"#)
        #expect(reply.status == 201, "\(reply.text)")
        let url = try #require(reply.json["url"] as? String)
        let path = try #require(URL(string: url)?.path)
        return (path, String(path.dropFirst(3)), try #require(reply.json["id"] as? String))
    }

    /// The page's hash as its form carries it.
    static func pageHash(_ html: String) throws -> String {
        let marker = #"name="page" value=""#
        let start = try #require(html.range(of: marker)).upperBound
        return String(html[start...].prefix(64))
    }

    /// The form a browser would post, from the page as shown.
    func post(_ service: TestService, _ path: String, page html: String, _ fields: String) async throws -> RawClient.Reply {
        let locale = html.contains(#"<html lang="en""#) ? "en" : "zh-CN"
        return try await service.call("POST", path, role: nil, body: "page=\(try Self.pageHash(html))&locale=\(locale)&\(fields)")
    }

    @Test func aConsentLinkIsShownAsOftenAsAskedAndActsOnce() async throws {
        let service = try TestService()
        let account = try await ConsentTests().account(service, "page-1")
        let (path, token, linkID) = try await link(service, account, #""purpose":"consent","consent_purpose":"credit_assessment""#)
        #expect(token.utf8.count == 43, "256 bits, base64url")
        // Only the token's hash is kept.
        let stored = try service.store.database.read { db in
            try String.fetchAll(db, sql: "SELECT token_sha256 FROM customer_links WHERE id = ?", arguments: [linkID])
        }
        #expect(stored == [Hashing.sha256Hex(Data(token.utf8))])

        // Opened twice (a message previewer, then the customer): still usable.
        _ = try await service.call("GET", path, role: nil)
        let page = try await service.call("GET", path, role: nil)
        #expect(page.status == 200)
        #expect(page.header("Content-Security-Policy") == "default-src 'self'; frame-ancestors 'none'; form-action 'self'")
        #expect(page.header("Referrer-Policy") == "no-referrer" && page.header("Cache-Control") == "no-store")
        #expect(!page.text.contains("<script"))
        #expect(page.text.contains(#"<input type="checkbox" id="agree" name="agree" value="yes">"#), "unticked")
        let notice = try #require(service.application.notices.texts[.creditAssessment]?["2026-12"]?[.zhCN])
        #expect(page.text.contains(HTML.escape(notice.text)))
        #expect(page.text.contains(#"<html lang="zh-CN""#))

        // Agreeing without the box is refused, and the link stays usable.
        let unticked = try await post(service, path, page: page.text, "action=agree")
        #expect(unticked.status == 422 && unticked.text.contains("请先勾选"))
        // A form from a page that no longer reads the same is shown again, nothing done.
        let stale = try await service.call("POST", path, role: nil, body: "page=\(String(repeating: "0", count: 64))&action=agree&agree=yes")
        #expect(stale.status == 409)
        var consents = try await service.call("GET", "/v1/accounts/\(account)/consents").json["items"] as? [[String: Any]]
        #expect(consents?.isEmpty == true)

        let agreed = try await post(service, path, page: page.text, "action=agree&agree=yes")
        #expect(agreed.status == 200 && agreed.text.contains("你已同意"))
        #expect(agreed.text.contains(#"<a class="back" href="\#(Self.back)">"#), "the way back, a link, not a redirect")
        consents = try await service.call("GET", "/v1/accounts/\(account)/consents").json["items"] as? [[String: Any]]
        let consent = try #require(consents?.first)
        #expect(consent["channel"] as? String == "hosted" && consent["status"] as? String == "active")
        let evidence = try #require(consent["evidence"] as? [String: Any])
        #expect(evidence["link_id"] as? String == linkID && evidence["locale"] as? String == "zh-CN")
        #expect(evidence["page_sha256"] as? String == (try Self.pageHash(page.text)))
        #expect(evidence["notice_sha256"] as? String == notice.sha256 && consent["notice_version"] as? String == "2026-12")
        #expect(evidence["shown_at"] is String && evidence["agreed_at"] as? String == consent["granted_at"] as? String)

        // Used: a second submission and a later visit are 410.
        let again = try await post(service, path, page: page.text, "action=agree&agree=yes")
        #expect(again.status == 410 && again.text.contains("已经使用过"))
        #expect(try await service.call("GET", path, role: nil).status == 410)

        // The chain holds the link's id and what it did, never the token.
        let audit = try await service.call("GET", "/v1/audit?limit=100", role: .auditor).text
        #expect(audit.contains("customer_link.issued") && audit.contains("customer_link.used") && !audit.contains(token))
        let used = try service.store.database.read { db in
            try String.fetchOne(db, sql: "SELECT actor || ' ' || role FROM audit_log WHERE action = 'customer_link.used'")
        }
        #expect(used == "\(linkID) customer")
        #expect(try await service.call("GET", "/v1/audit/verify", role: .auditor).json["ok"] as? Bool == true)
        await service.stop()
    }

    @Test func decliningRecordsTheRefusalAndHoldsBackTheNextLink() async throws {
        let service = try TestService(clock: DemoClock())
        let account = try await ConsentTests().account(service, "page-2")
        let before = try await service.call("GET", "/v1/accounts/\(account)").json
        let (path, _, linkID) = try await link(service, account, #""purpose":"consent","consent_purpose":"credit_line","locale":"en""#)
        let page = try await service.call("GET", path, role: nil)
        #expect(page.text.contains(#"<html lang="en""#) && page.text.contains("No, thank you"))
        // The two choices are the same kind of button: equal size and weight.
        #expect(page.text.contains(#"<button type="submit" name="action" value="agree">Agree</button><button type="submit" name="action" value="decline">No, thank you</button>"#))
        let declined = try await post(service, path, page: page.text, "action=decline")
        #expect(declined.status == 200 && declined.text.contains("You said no"))
        let consents = try await service.call("GET", "/v1/accounts/\(account)/consents").json["items"] as? [[String: Any]]
        let refusal = try #require(consents?.first)
        #expect(refusal["status"] as? String == "declined" && refusal["granted_at"] is NSNull && refusal["expires_at"] is NSNull)
        let evidence = try #require(refusal["evidence"] as? [String: Any])
        #expect(evidence["link_id"] as? String == linkID && evidence["declined_at"] as? String == refusal["declined_at"] as? String)
        // Nothing but the record changed.
        let after = try await service.call("GET", "/v1/accounts/\(account)").json
        #expect(after["status"] as? String == before["status"] as? String && after["version"] as? Int == before["version"] as? Int)
        let events = try await service.call("GET", "/v1/events").text
        #expect(events.contains("consent.declined"))

        // 30 days: no new consent link for that purpose; the other purpose is not held back.
        let again = try await service.call("POST", "/v1/accounts/\(account)/customer-links",
                                           body: #"{"purpose":"consent","consent_purpose":"credit_line","return_url":"\#(Self.back)"}"#)
        #expect(again.status == 409 && again.json["code"] as? String == "recently-declined")
        _ = try await link(service, account, #""purpose":"consent","consent_purpose":"credit_assessment""#)
        _ = try await service.call("POST", "/v1/demo/clock", role: .operator, body: #"{"advance_days":30}"#)
        _ = try await link(service, account, #""purpose":"consent","consent_purpose":"credit_line""#)
        await service.stop()
    }

    @Test func aLinkExpiresAfterFifteenMinutes() async throws {
        let clock = SteppedTime()
        let service = try TestService(clock: clock)
        let account = try await ConsentTests().account(service, "page-3")
        let (path, _, _) = try await link(service, account, #""purpose":"consent","consent_purpose":"credit_assessment""#)
        let page = try await service.call("GET", path, role: nil)
        clock.advance(seconds: 15 * 60)
        let late = try await post(service, path, page: page.text, "action=agree&agree=yes")
        #expect(late.status == 410 && late.text.contains("已过期"))
        #expect(try await service.call("GET", path, role: nil).status == 410)
        #expect(try await service.call("GET", "/c/no-such-token", role: nil).status == 404)
        await service.stop()
    }

    @Test(arguments: [
        (#"{"purpose":"consent","return_url":"http://127.0.0.1:9/b"}"#, "consent_purpose"),
        (#"{"purpose":"consent","consent_purpose":"credit_line","return_url":"https://app.example/b"}"#, "return_url"),
        (#"{"purpose":"offer","return_url":"http://127.0.0.1:9/b"}"#, "offer_id"),
        (#"{"purpose":"cancellation","decision_id":"dec_1","return_url":"http://127.0.0.1:9/b"}"#, "decision_id"),
        (#"{"purpose":"bundle","return_url":"http://127.0.0.1:9/b"}"#, "purpose"),
        (#"{"purpose":"cancellation","return_url":"http://127.0.0.1:9/b","locale":"fr"}"#, "locale"),
    ])
    func aBadLinkRequestNamesItsField(_ body: String, _ field: String) async throws {
        let service = try TestService()
        let account = try await ConsentTests().account(service, "page-4")
        let reply = try await service.call("POST", "/v1/accounts/\(account)/customer-links", body: body)
        #expect(reply.status == 422 && reply.json["field"] as? String == field, "\(reply.text)")
        await service.stop()
    }

    @Test func onlyThePagesRecordTheHostedChannel() async throws {
        let service = try TestService()
        let account = try await ConsentTests().account(service, "page-5")
        let grant = try await service.call("POST", "/v1/accounts/\(account)/consents",
                                           body: ConsentTests.grantBody(purpose: "credit_line").replacingOccurrences(of: #""app""#, with: #""hosted""#))
        #expect(grant.status == 422 && grant.json["field"] as? String == "channel" && grant.text.contains("own pages"))
        let consent = try #require(try await service.call("POST", "/v1/accounts/\(account)/consents",
                                                          body: ConsentTests.grantBody()).json["id"] as? String)
        let withdrawal = try await service.call("POST", "/v1/consents/\(consent)/withdrawal", body: #"{"channel":"hosted"}"#)
        #expect(withdrawal.status == 422 && withdrawal.json["field"] as? String == "channel")
        // A decision or offer of another account is as absent as a missing one.
        let other = try await LineTests().prepare(service, "page-5-other")
        let foreign = try await service.call("POST", "/v1/accounts/\(account)/customer-links",
                                             body: #"{"purpose":"activation","decision_id":"\#(other.decision)","return_url":"\#(Self.back)"}"#)
        #expect(foreign.status == 404)
        await service.stop()
    }

    @Test func linksNeedAnAddressCustomersCanReach() async throws {
        let exposed = try TestService { $0.host = "0.0.0.0" }
        let account = try await ConsentTests().account(exposed, "page-6")
        let body = #"{"purpose":"consent","consent_purpose":"credit_line","return_url":"\#(Self.back)"}"#
        let refused = try await exposed.call("POST", "/v1/accounts/\(account)/customer-links", body: body)
        #expect(refused.status == 503 && refused.json["code"] as? String == "not-configured")
        await exposed.stop()
        let public_ = try TestService { $0.host = "0.0.0.0"; $0.publicBaseURL = "https://credit.example.com"; $0.customerReturnHosts = ["app.example"] }
        let account2 = try await ConsentTests().account(public_, "page-7")
        let made = try await public_.call("POST", "/v1/accounts/\(account2)/customer-links",
                                          body: #"{"purpose":"consent","consent_purpose":"credit_line","return_url":"https://app.example/done"}"#)
        #expect(made.status == 201 && (made.json["url"] as? String)?.hasPrefix("https://credit.example.com/c/") == true)
        #expect(made.header("Cache-Control") == "no-store")
        await public_.stop()
    }
}
