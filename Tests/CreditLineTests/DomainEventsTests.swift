import Testing
@testable import CreditLine

/// A limit change as a typed event (README "Development"): its audit detail keeps the bytes every
/// entry had before the type existed, and its notice is the same read from the value or from the
/// stored detail.
@Suite struct DomainEventsTests {
    static let confirmed: [String: JSONValue] = [
        "confirmation_channel": "app",
        "confirmation_sha256": "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
    ]

    /// The first two details are what the code before this type wrote (read from a database it
    /// made); the other two follow its construction member for member.
    @Test(arguments: [
        (LimitAdjusted(oldLimit: 1_000_000, newLimit: 1_500_000, direction: .increase, initiatedBy: .customer,
                       customerAccepted: false, reasonCode: "customer_request", cause: .request(hasNote: false),
                       confirmation: confirmed),
         #"{"confirmation_channel":"app","confirmation_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb","customer_accepted":false,"direction":"increase","has_note":false,"initiated_by":"customer","new_limit":1500000,"notice_due":false,"old_limit":1000000,"reason_code":"customer_request"}"#),
        (LimitAdjusted(oldLimit: 1_500_000, newLimit: 800_000, direction: .decrease, initiatedBy: .operator,
                       customerAccepted: false, reasonCode: "risk_deterioration", cause: .request(hasNote: true)),
         #"{"customer_accepted":false,"direction":"decrease","has_note":true,"initiated_by":"operator","new_limit":800000,"notice_due":true,"old_limit":1500000,"reason_code":"risk_deterioration"}"#),
        (LimitAdjusted(oldLimit: 500_000, newLimit: 750_000, direction: .increase, initiatedBy: .system,
                       customerAccepted: true, reasonCode: "limit_offer", cause: .limitOffer(offerID: "lof_1")),
         #"{"cause":"limit_offer","customer_accepted":true,"direction":"increase","initiated_by":"system","new_limit":750000,"notice_due":true,"offer_id":"lof_1","old_limit":500000,"reason_code":"limit_offer"}"#),
        (LimitAdjusted(oldLimit: 500_000, newLimit: 200_000, direction: .decrease, initiatedBy: .system,
                       customerAccepted: false, reasonCode: "periodic_review",
                       cause: .periodicReview(reviewID: "prv_1", decisionID: "dec_1", reasonCodes: ["R01", "R05"])),
         #"{"cause":"periodic_review","customer_accepted":false,"decision_id":"dec_1","direction":"decrease","initiated_by":"system","new_limit":200000,"notice_due":true,"old_limit":500000,"portfolio_review_id":"prv_1","reason_code":"periodic_review","reason_codes":["R01","R05"]}"#),
    ])
    func theDetailKeepsItsBytes(_ event: LimitAdjusted, _ bytes: String) throws {
        #expect(JSONValue.object(event.auditDetail).canonicalJSON == bytes)
        // Read back from what was stored, it owes the same notice.
        let stored = try LimitAdjusted(auditDetail: event.auditDetail)
        #expect(stored.notice(now: Fixtures.now) == event.notice(now: Fixtures.now))
        #expect((event.notice(now: Fixtures.now) == nil) == !event.noticeDue)
    }

    @Test func aPeriodicReviewsNoticeGivesItsReasonsAndAnOffersSaysSo() {
        let review = LimitAdjusted(oldLimit: 500_000, newLimit: 200_000, direction: .decrease, initiatedBy: .system,
                                   customerAccepted: false, reasonCode: "periodic_review",
                                   cause: .periodicReview(reviewID: "prv_1", decisionID: "dec_1",
                                                          reasonCodes: ["R01", "R02", "R03", "R04", "R05"]))
        let notice = review.notice(now: Fixtures.now)
        #expect(notice?.template == "limit_change_decrease_review")
        #expect(notice?.values["reasons"] == .reasons(["R01", "R02", "R03", "R04"]))
        var offer = review
        offer.cause = .limitOffer(offerID: "lof_1")
        offer.direction = .increase
        #expect(offer.notice(now: Fixtures.now)?.template == "limit_change_increase_offer")
    }
}
