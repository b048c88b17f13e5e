import CreditLine
import CreditAPI
import Foundation
import Testing

/// One pass through every route family over real sockets, as a client meets the service: the
/// behaviour of each endpoint is tested in-process (`TestService.call`); this shows that the same
/// answers come through the HTTP server, with its framing, its headers and its compression.
@Suite struct SmokeTests {
    @Test func everyRouteFamilyAnswersOverASocket() async throws {
        let service = try TestService(clock: DemoClock())
        func call(_ method: String, _ path: String, role: Role? = .service, body: String? = nil,
                  headers: [String: String] = [:]) throws -> RawClient.Reply
        {
            try service.socketCall(method, path, role: role, body: body, headers: headers)
        }
        func id(_ reply: RawClient.Reply) throws -> String { try #require(reply.json["id"] as? String, "\(reply.text)") }

        // Operations.
        #expect(try call("GET", "/healthz", role: nil).status == 200)
        #expect(try call("GET", "/readyz", role: nil).status == 200)
        #expect(try call("GET", "/metrics", role: nil).text.contains("creditline_http_requests_total"))
        // Accounts, consents, scoring and the line.
        let made = try call("POST", "/v1/accounts", body: #"{"customer_ref":"smoke-1"}"#)
        #expect(made.status == 201)
        #expect(made.header("Content-Length") == String(made.body.count))
        let account = try id(made)
        #expect(try call("GET", "/v1/accounts/\(account)").json["status"] as? String == "prospect")
        let assessment = try id(call("POST", "/v1/accounts/\(account)/consents",
                                     body: ConsentTests.grantBody(purpose: "credit_assessment")))
        let line = try id(call("POST", "/v1/accounts/\(account)/consents", body: ConsentTests.grantBody(purpose: "credit_line")))
        #expect(try call("GET", "/v1/consents/\(assessment)").status == 200)
        #expect(try call("POST", "/v1/accounts/\(account)/affordability", body: AffordabilityAPITests.body()).status == 201)
        #expect(try call("GET", "/v1/accounts/\(account)/affordability").status == 200)
        let decision = try id(call("POST", "/v1/accounts/\(account)/scores", body: LineTests.tierA))
        #expect(try call("GET", "/v1/decisions/\(decision)").status == 200)
        #expect(try call("GET", "/v1/terms").json["version"] as? String == "2026-11")
        let activated = try call("POST", "/v1/accounts/\(account)/activation", body: """
            {"consent_id":"\(line)","decision_id":"\(decision)","terms_version":"2026-11"}
            """)
        #expect(activated.status == 200, "\(activated.text)")
        // The ledger.
        let drawn = try call("POST", "/v1/accounts/\(account)/draws",
                             body: #"{"amount":60000,"plan_months":6,"merchant_ref":"order-1","customer_selected":true}"#)
        #expect(drawn.status == 201, "\(drawn.text)")
        let today = String(DemoClock().now().rfc3339.prefix(10))
        let statement = try call("GET", "/v1/accounts/\(account)/statement?from=\(today)&to=\(today)")
        #expect(statement.status == 200, "\(statement.text)")
        #expect(try call("GET", "/v1/accounts/\(account)/notices").status == 200)
        // Events and webhooks, reviews, models, portfolio reviews, data governance.
        #expect(try call("GET", "/v1/events").status == 200)
        let endpoint = try id(call("POST", "/v1/webhook-endpoints", role: .operator,
                                   body: #"{"url":"http://127.0.0.1:9/hook","event_types":["consent.granted"],"tenant":"default"}"#))
        #expect(try call("GET", "/v1/webhook-endpoints/\(endpoint)/deliveries", role: .operator).status == 200)
        #expect(try call("GET", "/v1/reviews", role: .operator).status == 200)
        #expect(try call("GET", "/v1/models", role: .risk).status == 200)
        // An upload: spooled by the server as it arrives.
        let review = try call("POST", "/v1/portfolio-reviews", role: .operator, body: #"[{"account_id":"acc_x","features":{}}]"#)
        #expect(review.status == 201, "\(review.text)")
        #expect(try call("GET", "/v1/data-inventory", role: .auditor).status == 200)
        // The audit log, large enough to be compressed when asked.
        let audit = try call("GET", "/v1/audit?limit=1000", role: .auditor, headers: ["Accept-Encoding": "gzip"])
        #expect(audit.status == 200)
        #expect(audit.header("Content-Encoding") == "gzip")
        #expect(try call("GET", "/v1/audit/verify", role: .auditor).json["ok"] as? Bool == true)
        // The console and the demo clock.
        let signIn = try call("GET", "/console/sign-in", role: nil)
        #expect(signIn.status == 200)
        #expect(signIn.header("Content-Type")?.hasPrefix("text/html") == true)
        #expect(try call("POST", "/v1/demo/clock", role: .operator, body: #"{"advance_days":1}"#).status == 200)
        // What only the server answers: an unknown path, and a method it does not implement.
        #expect(try call("GET", "/v1/nowhere").status == 404)
        #expect(try call("BREW", "/v1/accounts").status == 501)
        await service.stop()
    }
}
