import CreditLine
import Foundation
import GRDB
import Testing
@testable import CreditAPI
@testable import CreditStore

/// The console over real sockets (README "Console"); the browser flows are in
/// scripts/console-browser.
@Suite struct ConsoleTests {
    struct Signed {
        var cookie: String
        var csrf: String
    }

    static func value(of name: String, in reply: RawClient.Reply) -> String? {
        for (field, value) in reply.headers where field.lowercased() == "set-cookie" && value.hasPrefix(name + "=") {
            return String(value.dropFirst(name.count + 1).prefix { $0 != ";" })
        }
        return nil
    }

    static func csrf(in html: String) -> String? {
        guard let range = html.range(of: #"name="csrf" value=""#) else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    /// Signs in as a browser would: the form's page, then the form with its token. `overSocket`
    /// sends all three over sockets, one after the other without yielding (see `socketCall`).
    func signIn(_ service: TestService, token: String, overSocket: Bool = false) async throws -> (RawClient.Reply, Signed?) {
        func call(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) async throws
            -> RawClient.Reply
        {
            overSocket ? try service.socketCall(method, path, role: nil, body: body, headers: headers)
                : try await service.call(method, path, role: nil, body: body, headers: headers)
        }
        let form = try await call("GET", "/console/sign-in")
        let nonce = try #require(Self.value(of: ConsoleRoutes.signInCookie, in: form))
        let body = "csrf=\(nonce)&key=\(token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
        let reply = try await call("POST", "/console/sign-in", body: body,
                                   headers: ["Cookie": "\(ConsoleRoutes.signInCookie)=\(nonce)"])
        guard let session = Self.value(of: ConsoleRoutes.sessionCookie, in: reply) else { return (reply, nil) }
        let cookie = "\(ConsoleRoutes.sessionCookie)=\(session)"
        let page = try await call("GET", reply.header("Location") ?? "/console/reviews", headers: ["Cookie": cookie])
        return (reply, Signed(cookie: cookie, csrf: Self.csrf(in: page.text) ?? ""))
    }

    func get(_ service: TestService, _ path: String, _ signed: Signed?) async throws -> RawClient.Reply {
        try await service.call("GET", path, role: nil, headers: signed.map { ["Cookie": $0.cookie] } ?? [:])
    }

    func post(_ service: TestService, _ path: String, _ signed: Signed, _ fields: String, csrf: String? = nil) async throws
        -> RawClient.Reply
    {
        try await service.call("POST", path, role: nil, body: "csrf=\(csrf ?? signed.csrf)&\(fields)", headers: ["Cookie": signed.cookie])
    }

    /// Sign-ins cannot be flooded: a key signs in under its own rate limit (one session a
    /// token), ten wrong keys from one address make that address wait (even with a good key),
    /// and the sweep deletes sessions that can no longer be used.
    @Test func signInsAreLimitedAndDeadSessionsPurged() async throws {
        let clock = DemoClock()
        let service = try TestService(clock: clock) { $0.rateLimitOperator = 1; $0.rateLimitBurstSeconds = 3 }
        let key = try #require(service.keys[.operator])
        func sessions() async throws -> Int {
            try service.store.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM console_sessions") ?? -1 }
        }
        // A token a second: over sockets without yielding, so that a loaded test run cannot
        // spread the six over the seconds that would refill the bucket.
        var statuses: [Int] = []
        for _ in 0..<6 { statuses.append(try await signIn(service, token: key, overSocket: true).0.status) }
        #expect(statuses.filter { $0 == 303 }.count == 3, "\(statuses)")
        #expect(statuses.filter { $0 == 429 }.count == 3, "\(statuses)")
        #expect(try await sessions() == 3)

        let other = try TestService()
        var wrong: [String?] = []
        for index in 0..<10 {
            wrong.append(try await signIn(other, token: "clk_nobody_\(index)", overSocket: true).0.header("Location"))
        }
        #expect(wrong.allSatisfy { $0 == "/console/sign-in?failed=1" }, "\(wrong)")
        let locked = try await signIn(other, token: try #require(other.keys[.auditor]), overSocket: true).0
        #expect(locked.status == 429, "the eleventh attempt from one address was let through")
        #expect(locked.header("Retry-After") != nil)
        await other.stop()

        // A day on, every session is past its eight hours; the sweep deletes them.
        clock.advance(days: 1)
        try await service.application.sweep(at: clock.now())
        #expect(try await sessions() == 0, "dead sessions stayed")
        await service.stop()
    }

    @Test func signInMakesAStrictSessionAndSignOutEndsIt() async throws {
        let service = try TestService()
        #expect(try await get(service, "/console/reviews", nil).status == 303)  // no session: to the sign-in page
        let page = try await service.call("GET", "/console/sign-in", role: nil)
        #expect(page.header("Content-Security-Policy")?.hasPrefix("default-src 'self'") == true)
        #expect(!page.text.contains("<script"))

        // A calling service's key cannot sign in; an operator's can.
        let (refused, none) = try await signIn(service, token: service.keys[.service]!)
        #expect(none == nil && refused.header("Location") == "/console/sign-in?failed=1")
        let (reply, signed) = try await signIn(service, token: service.keys[.operator]!)
        let session = try #require(signed)
        let setCookie = reply.headers.first { $0.0.lowercased() == "set-cookie" && $0.1.hasPrefix(ConsoleRoutes.sessionCookie) }?.1
        #expect(setCookie?.contains("HttpOnly") == true && setCookie?.contains("SameSite=Strict") == true)
        #expect(setCookie?.contains("Path=/console") == true && setCookie?.contains("Secure") == false)
        #expect(try await get(service, "/console/reviews", session).status == 200)
        // The auditor's pages are not the operator's.
        #expect(try await get(service, "/console/audit", session).status == 403)

        // A form without the session's token is refused, and so is one without any.
        let forged = try await post(service, "/console/sign-out", session, "", csrf: "not-the-token")
        #expect(forged.status == 403)
        #expect(try await service.call("POST", "/console/sign-out", role: nil, body: "x=1", headers: ["Cookie": session.cookie])
            .status == 403)
        // Signing out ends the session on the server: the same cookie opens nothing after.
        #expect(try await post(service, "/console/sign-out", session, "").status == 303)
        #expect(try await get(service, "/console/reviews", session).status == 303)
        let entries = try await service.call("GET", "/v1/audit?limit=1000", role: .auditor).json["items"] as? [[String: Any]] ?? []
        #expect(entries.filter { $0["action"] as? String == "console.signed_in" }.count == 1)
        #expect(entries.filter { $0["action"] as? String == "console.signed_out" }.count == 1)
        await service.stop()
    }

    @Test func aSessionLapsesAfterThirtyIdleMinutes() async throws {
        let clock = DemoClock()
        let service = try TestService(clock: clock)
        let (_, signed) = try await signIn(service, token: service.keys[.operator]!)
        let session = try #require(signed)
        #expect(try await get(service, "/console/reviews", session).status == 200)
        clock.advance(days: 1)
        #expect(try await get(service, "/console/reviews", session).status == 303)
        await service.stop()
    }

    @Test func fourEyesAndEscapingInTheQueue() async throws {
        let service = try TestService()
        let lines = LineTests()
        let journey = try await lines.prepare(service, "console-d", features: LineTests.tierD)
        let pending = try await lines.activate(service, journey)
        let review = try #require(pending.json["review_id"] as? String)
        // A contest whose statement tries to run a script.
        let contest = try await lines.prepare(service, "console-contest")
        #expect(try await service.call("POST", "/v1/decisions/\(contest.decision)/review-requests",
                                 body: #"{"statement":"<script>document.title='pwned'</script> & more"}"#).status == 201)

        let (_, first) = try await signIn(service, token: service.keys[.operator]!)
        let one = try #require(first)
        let queue = try await get(service, "/console/reviews", one).text
        #expect(queue.contains("&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt; &amp; more"))
        #expect(!queue.contains("<script>"))
        #expect(queue.contains("<svg"))  // the explanation's bars

        let approve = "approve=true&credit_limit=300000&note=looked+at+the+file"
        let firstApproval = try await post(service, "/console/reviews/\(review)/resolution", one, approve)
        #expect(firstApproval.status == 303)
        #expect(try await get(service, "/console/reviews", one).text.contains("awaiting"))
        // The same person again: refused by the same rule as the API.
        let again = try await post(service, "/console/reviews/\(review)/resolution", one, approve)
        #expect(again.status == 409)
        let secondKey = try service.store.createKey(role: .operator, name: "second", tenant: nil, person: "someone-else").token
        let (_, second) = try await signIn(service, token: secondKey)
        let two = try #require(second)
        #expect(try await post(service, "/console/reviews/\(review)/resolution", two, approve).status == 303)
        #expect(try await service.call("GET", "/v1/accounts/\(journey.account)").json["status"] as? String == "active")
        // The account page shows the line and its timeline.
        let account = try await get(service, "/console/accounts/\(journey.account)", two).text
        #expect(account.contains("account.activated"))
        // Its terms: tier D's one plan, 3 months at 0.90 % a month, and its annual rate, 16.13 %.
        #expect(account.contains("<td>3</td><td>0.90%</td><td>16.13%</td>"), "\(account)")
        await service.stop()
    }

    @Test(arguments: [
        (Role.operator, ["/console/reviews", "/console/notices", "/console/webhooks", "/console/models"]),
        (Role.auditor, ["/console/audit", "/console/audit?verify=1", "/console/compliance", "/console/models"]),
        (Role.risk, ["/console/models"]),
    ])
    func everyPageAnswersInBothLanguages(role: Role, pages: [String]) async throws {
        let service = try TestService()
        let (_, signed) = try await signIn(service, token: service.keys[role]!)
        let session = try #require(signed)
        for page in pages {
            let english = try await service.call("GET", page, role: nil,
                                           headers: ["Cookie": session.cookie, "Accept-Language": "en-GB,en;q=0.9"])
            #expect(english.status == 200, "\(page)")
            #expect(english.text.contains(#"<html lang="en">"#), "\(page)")
            let chinese = try await service.call("GET", page, role: nil,
                                           headers: ["Cookie": session.cookie, "Accept-Language": "zh-CN,zh;q=0.9"])
            #expect(chinese.text.contains(#"<html lang="zh-CN">"#), "\(page)")
        }
        await service.stop()
    }
}
