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

    /// Shows the link's page and takes its one action.
    func act(_ service: TestService, _ account: String, _ fields: String) async throws -> (page: RawClient.Reply, result: RawClient.Reply) {
        let (path, _, _) = try await link(service, account, fields)
        let page = try await service.call("GET", path, role: nil)
        #expect(page.status == 200, "\(page.text)")
        return (page, try await post(service, path, page: page.text, "action=confirm"))
    }

    @Test func theActivationPageShowsTheTermsAndOpensTheLineOnlyOnItsButton() async throws {
        let service = try TestService()
        let journey = try await LineTests().prepare(service, "page-act")
        let (path, _, linkID) = try await link(service, journey.account, #""purpose":"activation","decision_id":"\#(journey.decision)""#)
        let page = try await service.call("GET", path, role: nil)
        // The limit, the interest-free days, each plan's monthly fee and annual rate, a worked
        // example, the cooling-off right and how to withdraw, in Chinese.
        let tier = try #require(service.application.scoring.terms.tiers[.a])
        #expect(page.text.contains("20,000.00 元") && page.text.contains("\(tier.interestFreeDays) 天"))
        for plan in tier.instalmentPlans {
            #expect(page.text.contains("\(plan.months) 期：每月手续费率 \(AnnualRate.percent(plan.monthlyFeeBps))，年化利率 \(AnnualRate.percent(plan.aprBps))"))
        }
        let longest = try #require(tier.instalmentPlans.max { $0.months < $1.months })
        let fee = Schedule.fee(amount: 100_000, bps: longest.monthlyFeeBps)
        #expect(page.text.contains("借 1,000.00 元，分 \(longest.months) 期还：每月手续费 \(NoticeTemplates.amount(fee, locale: .zhCN))"))
        #expect(page.text.contains("14 天内") && page.text.contains("撤回"))
        // What using all of it would cost a month, beside the income the customer declared.
        let repayment = Affordability.monthlyRepayment(of: 2_000_000, on: longest)
        #expect(page.text.contains("每月最多还 \(NoticeTemplates.amount(repayment, locale: .zhCN))，你申报的月收入为 50,000.00 元"))
        // Opening the page opened nothing.
        #expect(try await service.call("GET", "/v1/accounts/\(journey.account)").json["status"] as? String == "prospect")
        let opened = try await post(service, path, page: page.text, "action=confirm")
        #expect(opened.status == 200 && opened.text.contains("你的额度已开通：20,000.00 元"), "\(opened.text)")
        let account = try await service.call("GET", "/v1/accounts/\(journey.account)").json
        #expect(account["status"] as? String == "active" && account["credit_limit"] as? Int == 2_000_000)
        // The confirmation names the page it was given on.
        let confirmation = try service.store.database.read { db in
            try String.fetchOne(db, sql: "SELECT channel || ' ' || link_id FROM customer_confirmations WHERE subject_id = ?",
                                arguments: [journey.decision])
        }
        #expect(confirmation == "hosted \(linkID)")
        let activated = try await service.call("GET", "/v1/audit?limit=100", role: .auditor).text
        #expect(activated.contains(#""confirmation_link_id""#) == false, "account.activated keeps its bytes; the link is in customer_link.used")
        await service.stop()
    }

    @Test func withoutBothConsentsTheActivationPageHasNoButton() async throws {
        let service = try TestService()
        let journey = try await LineTests().prepare(service, "page-act-2")
        _ = try await service.call("POST", "/v1/consents/\(journey.lineConsent)/withdrawal", body: #"{"channel":"app"}"#)
        let (path, _, _) = try await link(service, journey.account, #""purpose":"activation","decision_id":"\#(journey.decision)""#)
        let page = try await service.call("GET", path, role: nil)
        #expect(page.status == 200 && page.text.contains("你还没有同意") && !page.text.contains("<form"))
        let forced = try await service.call("POST", path, role: nil, body: "action=confirm&page=x")
        #expect(forced.status == 409)
        #expect(try await service.call("GET", "/v1/accounts/\(journey.account)").json["status"] as? String == "prospect")
        await service.stop()
    }

    @Test func withdrawingCancellingAndTakingAnOfferLandInTheAPIsState() async throws {
        let service = try TestService()
        let journey = try await LineTests().prepare(service, "page-lifecycle", locale: "en")
        #expect(try await LineTests().activate(service, journey).status == 200)

        // A higher limit, offered by an operator and taken by the customer on their page.
        #expect(try await service.call("POST", "/v1/accounts/\(journey.account)/scores", body: LineTests.tierA).status == 201)
        let offer = try await service.call("POST", "/v1/accounts/\(journey.account)/limit-offers", role: .operator,
                                           body: #"{"offered_limit":2500000,"reason_code":"customer_request"}"#)
        let offerID = try #require(offer.json["id"] as? String, "\(offer.text)")
        let taken = try await act(service, journey.account, #""purpose":"offer","offer_id":"\#(offerID)","locale":"en""#)
        #expect(taken.page.text.contains("from CNY 20,000.00 to CNY 25,000.00"))
        #expect(taken.result.status == 200 && taken.result.text.contains("Your new limit is in force: CNY 25,000.00"), "\(taken.result.text)")
        #expect(try await service.call("GET", "/v1/accounts/\(journey.account)").json["credit_limit"] as? Int == 2_500_000)

        // Cancellation within the cooling-off period: its consequences stated, then the line closed.
        let cancelled = try await act(service, journey.account, #""purpose":"cancellation""#)
        #expect(cancelled.page.text.contains("every fee not yet paid is waived"), "the link's language: en")
        #expect(cancelled.result.status == 200 && cancelled.result.text.contains("Your line is cancelled."))
        #expect(try await service.call("GET", "/v1/accounts/\(journey.account)").json["status"] as? String == "closed")

        // Withdrawal: the assessment consent, its effects stated before the button.
        let withdrawn = try await act(service, journey.account, #""purpose":"withdrawal","consent_purpose":"credit_assessment","locale":"zh-CN""#)
        #expect(withdrawn.page.text.contains("停止对你进行信用评估"))
        #expect(withdrawn.result.status == 200 && withdrawn.result.text.contains("你的同意已撤回"))
        let consent = try await service.call("GET", "/v1/consents/\(journey.assessmentConsent)").json
        #expect(consent["status"] as? String == "withdrawn" && consent["withdrawal_channel"] as? String == "hosted")
        // Nothing left to withdraw: the page says so and has no button.
        let (path, _, _) = try await link(service, journey.account, #""purpose":"withdrawal","consent_purpose":"credit_assessment""#)
        let nothing = try await service.call("GET", path, role: nil)
        #expect(nothing.text.contains("there is nothing to withdraw") && !nothing.text.contains("<form"), "in the account's language")
        #expect(try await service.call("GET", "/v1/audit/verify", role: .auditor).json["ok"] as? Bool == true)
        await service.stop()
    }

    @Test func aRefusedActionLeavesTheLinkUsable() async throws {
        let service = try TestService()
        let journey = try await LineTests().prepare(service, "page-refused")
        // An account already open: its activation page has nothing to do.
        #expect(try await LineTests().activate(service, journey).status == 200)
        let (path, _, _) = try await link(service, journey.account, #""purpose":"consent","consent_purpose":"credit_line""#)
        let page = try await service.call("GET", path, role: nil)
        #expect(page.text.contains("你已经同意过") && !page.text.contains("<form"))
        // Withdrawn elsewhere meanwhile, the page shown again changes: the old form is refused.
        let withdrawal = try await link(service, journey.account, #""purpose":"withdrawal","consent_purpose":"credit_line""#)
        let shown = try await service.call("GET", withdrawal.path, role: nil)
        _ = try await service.call("POST", "/v1/consents/\(journey.lineConsent)/withdrawal", body: #"{"channel":"app"}"#)
        let late = try await post(service, withdrawal.path, page: shown.text, "action=confirm")
        #expect(late.status == 409 && late.text.contains("无需撤回"))
        await service.stop()
    }

    @Test func theComplianceReportChecksEveryPagesEvidence() async throws {
        let service = try TestService()
        let account = try await ConsentTests().account(service, "page-report")
        // One consent given on a page, one declined there, one recorded by the API.
        for (purpose, action) in [("credit_assessment", "action=agree&agree=yes"), ("credit_line", "action=decline")] {
            let (path, _, _) = try await link(service, account, #""purpose":"consent","consent_purpose":"\#(purpose)""#)
            let page = try await service.call("GET", path, role: nil)
            #expect(try await post(service, path, page: page.text, action).status == 200)
        }
        let other = try await ConsentTests().account(service, "page-report-2")
        #expect(try await service.call("POST", "/v1/accounts/\(other)/consents", body: ConsentTests.grantBody()).status == 201)
        var report = try await service.call("GET", "/v1/compliance/report", role: .auditor).json
        var nine = try #require((report["checks"] as? [[String: Any]])?.first { $0["number"] as? String == "9" })
        #expect(nine["holds"] as? Bool == true && nine["checked"] as? Int == 2)
        let figures = try #require(report["figures"] as? [String: Any])
        #expect(figures["consents_recorded"] as? Int == 3 && figures["consents_with_page_evidence"] as? Int == 2)
        #expect(figures["page_evidence_percent"] as? Int == 67)

        // A hosted row written around the pages (its link never used, no page hash) is named.
        let (_, _, unused) = try await link(service, other, #""purpose":"consent","consent_purpose":"credit_assessment""#)
        try service.store.database.write { db in
            try db.execute(sql: """
                INSERT INTO consents (id, account_id, purpose, notice_version, notice_sha256, channel, method, status,
                                      granted_at, expires_at, link_id, notice_locale)
                SELECT 'con_planted', account_id, 'credit_assessment', notice_version, notice_sha256, 'hosted',
                       'explicit_opt_in', 'active', granted_at, expires_at, ?, 'zh-CN'
                FROM consents WHERE account_id = ?
                """, arguments: [unused, other])
        }
        report = try await service.call("GET", "/v1/compliance/report", role: .auditor).json
        nine = try #require((report["checks"] as? [[String: Any]])?.first { $0["number"] as? String == "9" })
        #expect(nine["holds"] as? Bool == false && nine["ids"] as? [String] == ["con_planted"])
        #expect(report["holds"] as? Bool == false)
        await service.stop()
    }
}
