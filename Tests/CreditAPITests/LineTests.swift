import CreditLine
import Foundation
import GRDB
import Testing
@testable import CreditAPI
@testable import CreditStore

/// The customer journey: account, consents, score, activation, review, limits, operator actions.
@Suite struct LineTests {
    static let tierA = ScoringTests.features
    static let tierD = #"{"features":{"months_on_platform":4,"orders_12m":20,"spend_12m":1000000,"on_time_ratio_12m":null,"overdue_events_12m":2,"max_days_overdue_12m":0,"return_ratio_12m":0.2,"identity_verified":false}}"#
    static let tierE = #"{"features":{"months_on_platform":0,"orders_12m":0,"spend_12m":0,"on_time_ratio_12m":0.1,"overdue_events_12m":9,"max_days_overdue_12m":90,"return_ratio_12m":0.9,"identity_verified":false}}"#

    struct Journey {
        var account: String
        var lineConsent: String
        var assessmentConsent: String
        var decision: String
    }

    /// An account with both consents, an affordability assessment that holds no limit back (unless
    /// `assessed` is false: the starter limit then binds) and a decision from `features`.
    func prepare(_ service: TestService, _ ref: String, features: String = tierA, locale: String? = nil,
                 assessed: Bool = true) async throws -> Journey
    {
        let language = locale.map { #","locale":"\#($0)""# } ?? ""
        let account = try #require(try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"\#(ref)"\#(language)}"#)
            .json["id"] as? String)
        let assessment = try #require(try await service.call(
            "POST", "/v1/accounts/\(account)/consents", body: ConsentTests.grantBody(purpose: "credit_assessment"))
            .json["id"] as? String)
        let granted = try await service.call(
            "POST", "/v1/accounts/\(account)/consents", body: ConsentTests.grantBody(purpose: "credit_line"))
        let line = try #require(granted.json["id"] as? String, "\(granted.status) \(granted.text)")
        if assessed { try await AffordabilityAPITests.assess(service, account) }
        let decision = try #require(try await service.call("POST", "/v1/accounts/\(account)/scores", body: features)
            .json["id"] as? String)
        return Journey(account: account, lineConsent: line, assessmentConsent: assessment, decision: decision)
    }

    func activate(_ service: TestService, _ journey: Journey, terms: String = "2026-11", limit: String = "") async throws
        -> RawClient.Reply
    {
        try await service.call("POST", "/v1/accounts/\(journey.account)/activation", body: """
            {"consent_id":"\(journey.lineConsent)","decision_id":"\(journey.decision)","terms_version":"\(terms)"\(limit)}
            """)
    }

    @Test func termsAreShownBeforeAcceptance() async throws {
        let service = try TestService()
        let reply = try await service.call("GET", "/v1/terms")
        #expect(reply.status == 200)
        #expect(reply.json["version"] as? String == "2026-11")
        let tiers = try #require(reply.json["tiers"] as? [String: [String: Any]])
        #expect(tiers["A"]?["interest_free_days"] as? Int == 30)
        #expect((tiers["C"]?["instalment_plans"] as? [[String: Any]])?.count == 2)
        // Every plan's annual rate beside its monthly fee: tier B's 12 months at 60 bps is 13.03 %.
        let b = try #require(tiers["B"]?["instalment_plans"] as? [[String: Any]])
        #expect(b.first { $0["months"] as? Int == 12 }?["apr_bps"] as? Int == 1303)
        let a = try #require(tiers["A"]?["instalment_plans"] as? [[String: Any]])
        #expect(a.first { $0["months"] as? Int == 3 }?["apr_bps"] as? Int == 0)
        await service.stop()
    }

    @Test func tierAActivatesWithItsTerms() async throws {
        let service = try TestService()
        let journey = try await prepare(service, "j-a")
        // Scoring never activates: still a prospect.
        #expect(try await service.call("GET", "/v1/accounts/\(journey.account)").json["status"] as? String == "prospect")
        let reply = try await activate(service, journey, limit: #","requested_limit":1500000"#)
        #expect(reply.status == 200)
        #expect(reply.json["outcome"] as? String == "activated")
        let account = try #require(reply.json["account"] as? [String: Any])
        #expect(account["status"] as? String == "active")
        #expect(account["credit_limit"] as? Int == 1_500_000)
        let terms = try #require(account["terms"] as? [String: Any])
        #expect(terms["version"] as? String == "2026-11")
        #expect((terms["instalment_plans"] as? [[String: Any]])?.first?["monthly_fee_bps"] as? Int == 0)
        // A second activation is not a transition from active.
        let again = try await activate(service, journey)
        #expect(again.status == 409)
        #expect(again.json["code"] as? String == "invalid-transition")
        await service.stop()
    }

    @Test func activationRefusals() async throws {
        let service = try TestService()
        let journey = try await prepare(service, "j-r")
        #expect(try await activate(service, journey, terms: "2025-01").json["code"] as? String == "terms-mismatch")
        #expect(try await activate(service, journey, limit: #","requested_limit":-5"#).json["code"] as? String == "invalid-amount")
        #expect(try await activate(service, journey, limit: #","requested_limit":1.5"#).json["code"] as? String == "invalid-amount")
        var wrongConsent = journey
        wrongConsent.lineConsent = journey.assessmentConsent
        #expect(try await activate(service, wrongConsent).json["code"] as? String == "consent-required")
        _ = try await service.call("POST", "/v1/consents/\(journey.assessmentConsent)/withdrawal", body: #"{"channel":"app"}"#)
        let withoutAssessment = try await activate(service, journey)
        #expect(withoutAssessment.status == 409)
        #expect(withoutAssessment.json["code"] as? String == "consent-required")
        #expect(try await service.call("GET", "/v1/accounts/\(journey.account)").json["status"] as? String == "prospect")
        await service.stop()
    }

    @Test func tierEIsDeclinedWithReasonsThenCoolsOff() async throws {
        let service = try TestService()
        let journey = try await prepare(service, "j-e", features: Self.tierE)
        let reply = try await activate(service, journey)
        #expect(reply.json["outcome"] as? String == "declined")
        #expect((reply.json["reasons"] as? [[String: Any]])?.count == 4)
        let again = try await activate(service, journey)
        #expect(again.json["code"] as? String == "cool-off")
        await service.stop()
    }

    @Test func tierDWaitsForAnOperatorAndFourEyesGuardLargerLimits() async throws {
        let service = try TestService()
        let journey = try await prepare(service, "j-d", features: Self.tierD)
        let reply = try await activate(service, journey)
        #expect(reply.json["outcome"] as? String == "pending_review")
        let reviewID = try #require(reply.json["review_id"] as? String)
        let queue = try await service.call("GET", "/v1/reviews?status=open&kind=activation", role: .operator)
        #expect((queue.json["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [reviewID])
        #expect(try await service.call("GET", "/v1/reviews", role: .service).status == 403)

        // Above tier D's 200,000 fen one operator is not enough.
        let first = try await service.call("POST", "/v1/reviews/\(reviewID)/resolution", role: .operator,
                                     body: #"{"approve":true,"credit_limit":300000,"note":"income verified"}"#)
        #expect(first.status == 202)
        #expect(first.json["awaiting_second_approval"] as? Bool == true)
        let same = try await service.call("POST", "/v1/reviews/\(reviewID)/resolution", role: .operator,
                                    body: #"{"approve":true,"credit_limit":300000,"note":"again"}"#)
        #expect(same.status == 409)
        #expect(same.json["code"] as? String == "four-eyes-required")
        let second = try service.store.createKey(role: .operator, name: "second operator").token
        let done = try await service.call("POST", "/v1/reviews/\(reviewID)/resolution", token: second,
                                    body: #"{"approve":true,"credit_limit":300000,"note":"agreed"}"#)
        #expect(done.status == 200)
        #expect(done.json["status"] as? String == "resolved")
        let account = try await service.call("GET", "/v1/accounts/\(journey.account)").json
        #expect(account["status"] as? String == "active")
        #expect(account["credit_limit"] as? Int == 300_000)
        #expect(((account["terms"] as? [String: Any])?["instalment_plans"] as? [[String: Any]])?.count == 1)
        let resolvedAgain = try await service.call("POST", "/v1/reviews/\(reviewID)/resolution", token: second,
                                             body: #"{"approve":false,"note":"x"}"#)
        #expect(resolvedAgain.json["code"] as? String == "review-resolved")
        await service.stop()
    }

    /// The customer asked for 50,000 fen and went to review: no approval grants more (one or two
    /// people); the review shows what was asked; more is an operator's offer, which moves nothing
    /// until the customer accepts it with their confirmation.
    @Test func aReviewGrantsNoMoreThanTheCustomerAskedFor() async throws {
        let service = try TestService()
        let journey = try await prepare(service, "j-asked", features: Self.tierD)
        let reviewID = try #require(try await activate(service, journey, limit: #","requested_limit":50000"#).json["review_id"] as? String)
        let queue = try await service.call("GET", "/v1/reviews?status=open&kind=activation", role: .operator)
        #expect((queue.json["items"] as? [[String: Any]])?.first?["requested_limit"] as? Int == 50_000)
        let page = try await ConsoleTests().signIn(service, token: try #require(service.keys[.operator]))
        let console = try await ConsoleTests().get(service, "/console/reviews", try #require(page.1)).text
        #expect(console.contains(#"max="50000""#), "the console's approval form allows more than was asked")

        let above = try await service.call("POST", "/v1/reviews/\(reviewID)/resolution", role: .operator,
                                     body: #"{"approve":true,"credit_limit":200000,"note":"tier D's"}"#)
        #expect(above.status == 422)
        #expect(above.json["code"] as? String == "above-requested-limit")
        #expect(above.json["field"] as? String == "credit_limit")
        let twice = try await service.call("POST", "/v1/reviews/\(reviewID)/resolution", role: .operator,
                                     body: #"{"approve":true,"credit_limit":5000000,"note":"two of us"}"#)
        #expect(twice.json["code"] as? String == "above-requested-limit")
        let done = try await service.call("POST", "/v1/reviews/\(reviewID)/resolution", role: .operator,
                                    body: #"{"approve":true,"note":"as asked"}"#)
        #expect(done.status == 200, "\(done.text)")
        #expect(try await service.call("GET", "/v1/accounts/\(journey.account)").json["credit_limit"] as? Int == 50_000)

        // More is an offer: made by an operator, taken by the customer (increases follow a tier A–C
        // decision, so the customer is scored again first).
        #expect(try await service.call("POST", "/v1/accounts/\(journey.account)/scores", body: Self.tierA).status == 201)
        let path = "/v1/accounts/\(journey.account)/limit-offers"
        #expect(try await service.call("POST", path, role: .service,
                                 body: #"{"offered_limit":200000,"reason_code":"customer_request"}"#).status == 403)
        #expect(try await service.call("POST", path, role: .operator,
                                 body: #"{"offered_limit":50000,"reason_code":"customer_request"}"#).json["field"] as? String
                == "offered_limit")
        // An increase adds at most 50 %: an offer the customer could not take is not made.
        let tooMuch = try await service.call("POST", path, role: .operator,
                                       body: #"{"offered_limit":200000,"reason_code":"customer_request"}"#)
        #expect(tooMuch.json["code"] as? String == "increase-too-large")
        #expect(tooMuch.json["field"] as? String == "offered_limit")
        let offer = try await service.call("POST", path, role: .operator,
                                     body: #"{"offered_limit":75000,"reason_code":"customer_request","note":"asked by phone"}"#)
        #expect(offer.status == 201, "\(offer.text)")
        #expect(offer.json["status"] as? String == "open")
        #expect(offer.json["reason_code"] as? String == "customer_request")
        #expect(offer.json["portfolio_review_id"] is NSNull)
        let offerID = try #require(offer.json["id"] as? String)
        #expect(try await service.call("GET", "/v1/accounts/\(journey.account)").json["credit_limit"] as? Int == 50_000,
                "an offer moved the limit")
        let notices = try await NoticeTests().notices(service, journey.account).compactMap { $0["kind"] as? String }
        #expect(notices.contains("limit_offer"))
        // A second offer supersedes the first.
        let later = try await service.call("POST", path, role: .operator, body: #"{"offered_limit":70000,"reason_code":"customer_request"}"#)
        let laterID = try #require(later.json["id"] as? String)
        let acceptance = "\(path)/\(laterID)/acceptance"
        #expect(try await service.call("POST", "\(path)/\(offerID)/acceptance", body: "{\(GovernanceTests.confirmation)}")
            .json["code"] as? String == "offer-not-open")
        #expect(try await service.call("POST", acceptance, body: "{}").status == 422, "taken without the customer's confirmation")
        let taken = try await service.call("POST", acceptance, body: "{\(GovernanceTests.confirmation)}")
        #expect(taken.status == 200, "\(taken.text)")
        #expect(try await service.call("GET", "/v1/accounts/\(journey.account)").json["credit_limit"] as? Int == 70_000)
        await service.stop()
    }

    @Test func withdrawnConsentCancelsTheReview() async throws {
        let service = try TestService()
        let journey = try await prepare(service, "j-w", features: Self.tierD)
        let reviewID = try #require(try await activate(service, journey).json["review_id"] as? String)
        let withdrawal = try await service.call("POST", "/v1/consents/\(journey.lineConsent)/withdrawal", body: #"{"channel":"app"}"#)
        #expect(withdrawal.json["account_status"] as? String == "prospect")
        let resolution = try await service.call("POST", "/v1/reviews/\(reviewID)/resolution", role: .operator,
                                          body: #"{"approve":true,"note":"ok"}"#)
        #expect(resolution.status == 409)
        #expect(resolution.json["code"] as? String == "review-cancelled")
        await service.stop()
    }

    /// "The customer accepted" is the customer's act, whoever sends it: an operator's
    /// `customer_accepted: true` raises nothing without the customer's confirmation, and with it
    /// the increase is on record for compliance check 5.
    @Test(arguments: [("operator", Role.operator), ("system", Role.service)])
    func anAcceptedIncreaseNeedsTheCustomersConfirmation(initiator: String, role: Role) async throws {
        let service = try TestService()
        let journey = try await prepare(service, "j-accepted-\(initiator)")
        _ = try await activate(service, journey, limit: #","requested_limit":1000000"#)
        let path = "/v1/accounts/\(journey.account)/limit-adjustments"
        let body = #"{"new_limit":1500000,"reason_code":"customer_request","initiated_by":"\#(initiator)","customer_accepted":true"#
        let bare = try await service.call("POST", path, role: role, body: body + "}")
        #expect(bare.status == 422)
        #expect(bare.json["code"] as? String == "confirmation-required")
        #expect(bare.json["field"] as? String == "customer_confirmation")
        #expect(try await service.call("GET", "/v1/accounts/\(journey.account)").json["credit_limit"] as? Int == 1_000_000)
        let confirmed = try await service.call("POST", path, role: role, body: body + ",\(GovernanceTests.confirmation)}")
        #expect(confirmed.status == 201, "\(confirmed.text)")
        let report = try await service.call("GET", "/v1/compliance/report", role: .auditor).json
        let five = (report["checks"] as? [[String: Any]])?.first { $0["number"] as? String == "5" }
        #expect(five?["holds"] as? Bool == true && five?["checked"] as? Int == 1, "\(five ?? [:])")
        await service.stop()
    }

    @Test func limitsFollowThePolicy() async throws {
        let service = try TestService()
        let journey = try await prepare(service, "j-l")
        _ = try await activate(service, journey, limit: #","requested_limit":1000000"#)
        let path = "/v1/accounts/\(journey.account)/limit-adjustments"
        let tooLarge = try await service.call("POST", path, body: #"{"new_limit":1500001,"reason_code":"customer_request","note":"customer asked","initiated_by":"customer","customer_confirmation":{"channel":"app","method":"explicit_opt_in","notice_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}"#)
        #expect(tooLarge.status == 422)
        #expect(tooLarge.json["code"] as? String == "increase-too-large")
        let notAccepted = try await service.call("POST", path, role: .operator, body: #"{"new_limit":1200000,"reason_code":"risk_deterioration","note":"good history","initiated_by":"operator"}"#)
        #expect(notAccepted.json["code"] as? String == "acceptance-required")
        let badAmount = try await service.call("POST", path, body: #"{"new_limit":"lots","reason_code":"customer_request","note":"x","initiated_by":"customer","customer_confirmation":{"channel":"app","method":"explicit_opt_in","notice_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}"#)
        #expect(badAmount.json["code"] as? String == "invalid-amount")
        #expect(badAmount.json["field"] as? String == "new_limit")
        let increase = try await service.call("POST", path, body: #"{"new_limit":1500000,"reason_code":"customer_request","note":"customer asked","initiated_by":"customer","customer_confirmation":{"channel":"app","method":"explicit_opt_in","notice_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}"#)
        #expect(increase.status == 201)
        #expect(increase.json["direction"] as? String == "increase")
        #expect(increase.json["old_limit"] as? Int == 1_000_000)
        #expect(increase.json["notice_due"] as? Bool == false)
        let soon = try await service.call("POST", path, body: #"{"new_limit":1600000,"reason_code":"customer_request","note":"more","initiated_by":"customer","customer_confirmation":{"channel":"app","method":"explicit_opt_in","notice_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}"#)
        #expect(soon.json["code"] as? String == "increase-too-soon")
        let decrease = try await service.call("POST", path, role: .operator, body: #"{"new_limit":800000,"reason_code":"risk_deterioration","note":"risk review","initiated_by":"operator"}"#)
        #expect(decrease.status == 201)
        #expect(decrease.json["direction"] as? String == "decrease")
        #expect(decrease.json["notice_due"] as? Bool == true)
        // Opting out stops every later increase (UK CONC 6.7.7R).
        let optOut = try await service.call("PUT", "/v1/accounts/\(journey.account)/preferences", body: #"{"limit_increase_opt_out":true}"#)
        #expect(optOut.json["limit_increase_opt_out"] as? Bool == true)
        let afterOptOut = try await service.call("POST", path, body: #"{"new_limit":900000,"reason_code":"customer_request","note":"x","initiated_by":"customer","customer_confirmation":{"channel":"app","method":"explicit_opt_in","notice_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}}"#)
        #expect(afterOptOut.json["code"] as? String == "increase-opted-out")
        let details = try service.store.database.read { db in
            try String.fetchAll(db, sql: "SELECT detail FROM audit_log WHERE action = 'limit.adjusted' ORDER BY seq")
        }
        #expect(details.count == 2)
        #expect(details[0].contains(#""new_limit":1500000"#) && details[0].contains(#""old_limit":1000000"#))
        await service.stop()
    }

    /// A field that is given must have a value of its type: null is not "left out".
    @Test(arguments: [("limit_increase_opt_out", "null"), ("locale", "null"), ("limit_increase_opt_out", "0"),
                      ("limit_increase_opt_out", "\"yes\"")])
    func preferencesRefuseNullsAndWrongTypes(field: String, value: String) async throws {
        let service = try TestService()
        let account = try await ConsentTests().account(service, "prefs-\(field)-\(value.count)")
        let reply = try await service.call("PUT", "/v1/accounts/\(account)/preferences", body: #"{"\#(field)":\#(value)}"#)
        #expect(reply.status == 422, "\(field): \(value) answered \(reply.status)")
        #expect(reply.json["field"] as? String == field)
        await service.stop()
    }

    @Test func operatorsFreezeUnfreezeAndClose() async throws {
        let service = try TestService()
        let journey = try await prepare(service, "j-o")
        _ = try await activate(service, journey)
        let base = "/v1/accounts/\(journey.account)"
        #expect(try await service.call("POST", base + "/freeze", role: .service, body: #"{"reason_code":"other","note":"x"}"#).status == 403)
        #expect(try await service.call("POST", base + "/freeze", role: .operator, body: #"{"reason_code":"other","note":"suspected fraud"}"#)
            .json["status"] as? String == "frozen")
        #expect(try await service.call("POST", base + "/freeze", role: .operator, body: #"{"reason_code":"other","note":"again"}"#)
            .json["code"] as? String == "invalid-transition")
        _ = try await service.call("POST", "/v1/consents/\(journey.lineConsent)/withdrawal", body: #"{"channel":"app"}"#)
        let unfreeze = try await service.call("POST", base + "/unfreeze", role: .operator, body: #"{"reason_code":"other","note":"cleared"}"#)
        #expect(unfreeze.status == 409)
        #expect(unfreeze.json["code"] as? String == "consent-required")
        #expect(try await service.call("POST", base + "/closure", role: .operator, body: #"{"reason_code":"other","note":"customer request"}"#)
            .json["status"] as? String == "closed")
        #expect(try await service.call("POST", base + "/unfreeze", role: .operator, body: #"{"reason_code":"other","note":"x"}"#)
            .json["code"] as? String == "invalid-transition")
        await service.stop()
    }

    @Test func betterTermsOnlyThroughAcceptance() async throws {
        let service = try TestService()
        let journey = try await prepare(service, "j-t", features: Self.tierD)
        let reviewID = try #require(try await activate(service, journey).json["review_id"] as? String)
        _ = try await service.call("POST", "/v1/reviews/\(reviewID)/resolution", role: .operator,
                             body: #"{"approve":true,"note":"fine"}"#)
        let newDecision = try #require(try await service.call("POST", "/v1/accounts/\(journey.account)/scores", body: Self.tierA)
            .json["id"] as? String)
        // Scoring alone changed nothing.
        let before = try await service.call("GET", "/v1/accounts/\(journey.account)").json
        #expect(((before["terms"] as? [String: Any])?["instalment_plans"] as? [[String: Any]])?.count == 1)
        let accepted = try await service.call("POST", "/v1/accounts/\(journey.account)/terms-acceptance",
                                        body: #"{"terms_version":"2026-11","decision_id":"\#(newDecision)"}"#)
        #expect(accepted.status == 200)
        #expect(((accepted.json["terms"] as? [String: Any])?["instalment_plans"] as? [[String: Any]])?.count == 3)
        #expect(accepted.json["credit_limit"] as? Int == 200_000)  // a terms change never changes the limit
        let stale = try await service.call("POST", "/v1/accounts/\(journey.account)/terms-acceptance",
                                     body: #"{"terms_version":"2025-01","decision_id":"\#(newDecision)"}"#)
        #expect(stale.json["code"] as? String == "terms-mismatch")
        await service.stop()
    }

    /// Dearer terms only with the customer's confirmation, and every change of terms told: a tier A
    /// line taking tier C's terms (the 3-month plan from 0 to 70 bps, the 12-month plan gone) is
    /// refused without it; with it the change is made and a notice says the terms cost more; back to
    /// A's terms needs nothing and is told too. Compliance check 5 counts both changes.
    @Test func dearerTermsNeedTheCustomersConfirmation() async throws {
        let service = try TestService()
        let journey = try await prepare(service, "j-dearer")
        _ = try await activate(service, journey)
        let path = "/v1/accounts/\(journey.account)"
        func score(_ features: String) async throws -> String {
            try #require(try await service.call("POST", path + "/scores", body: features).json["id"] as? String)
        }
        func plans() async throws -> Int? {
            ((try await service.call("GET", path).json["terms"] as? [String: Any])?["instalment_plans"] as? [[String: Any]])?.count
        }
        let tierC = try await score(PeriodicReviewTests.tierC)
        let body = #"{"terms_version":"2026-11","decision_id":"\#(tierC)""#
        let refused = try await service.call("POST", path + "/terms-acceptance", body: body + "}")
        #expect(refused.status == 422)
        #expect(refused.json["code"] as? String == "confirmation-required")
        #expect(refused.json["field"] as? String == "customer_confirmation")
        #expect(try await plans() == 3, "the terms changed without the customer")
        let confirmed = try await service.call("POST", path + "/terms-acceptance", body: body + ",\(GovernanceTests.confirmation)}")
        #expect(confirmed.status == 200, "\(confirmed.text)")
        #expect(try await plans() == 2)
        let back = try await service.call("POST", path + "/terms-acceptance",
                                    body: #"{"terms_version":"2026-11","decision_id":"\#(try score(Self.tierA))"}"#)
        #expect(back.status == 200, "cheaper terms need no confirmation: \(back.text)")
        let told = try await NoticeTests().notices(service, journey.account).filter { $0["kind"] as? String == "terms_change" }
        #expect(told.count == 2)
        #expect(told.contains { ($0["text"] as? String ?? "").contains("更贵") }, "the dearer change was not told as dearer")
        let report = try await service.call("GET", "/v1/compliance/report", role: .auditor).json
        let five = (report["checks"] as? [[String: Any]])?.first { $0["number"] as? String == "5" }
        #expect(five?["holds"] as? Bool == true && five?["checked"] as? Int == 2, "\(five ?? [:])")
        await service.stop()
    }

    @Test func unfreezeWithConsentRestoresTheLine() async throws {
        let service = try TestService()
        let journey = try await prepare(service, "j-u")
        _ = try await activate(service, journey)
        let base = "/v1/accounts/\(journey.account)"
        _ = try await service.call("POST", base + "/freeze", role: .operator, body: #"{"reason_code":"other","note":"check"}"#)
        let reply = try await service.call("POST", base + "/unfreeze", role: .operator, body: #"{"reason_code":"other","note":"checked"}"#)
        #expect(reply.json["status"] as? String == "active")
        await service.stop()
    }
}
