import Foundation
import Testing
@testable import CreditLine

/// Links to the customer's own pages: what each purpose must and must not name, where the
/// customer may be sent back, and a link's life.
@Suite struct CustomerLinkRulesTests {
    static let back = "http://127.0.0.1:9000/done"

    /// purpose, consent_purpose, offer_id, decision_id, return_url, the field refused (nil: taken).
    @Test(arguments: [
        ("consent", "credit_assessment", nil, nil, back, nil as String?),
        ("withdrawal", "credit_line", nil, nil, back, nil),
        ("activation", nil, nil, "dec_1", back, nil),
        ("cancellation", nil, nil, nil, back, nil),
        ("offer", nil, "lof_1", nil, back, nil),
        ("consent", nil, nil, nil, back, "consent_purpose"),  // one purpose a page, named
        ("consent", "credit_assessment,credit_line", nil, nil, back, "consent_purpose"),  // never bundled
        ("activation", "credit_line", nil, "dec_1", back, "consent_purpose"),
        ("activation", nil, nil, nil, back, "decision_id"),
        ("offer", nil, nil, nil, back, "offer_id"),
        ("cancellation", nil, "lof_1", nil, back, "offer_id"),
        ("marketing", nil, nil, nil, back, "purpose"),
        ("cancellation", nil, nil, nil, "https://evil.example/phish", "return_url"),
        ("cancellation", nil, nil, nil, "http://user:pw@127.0.0.1/x", "return_url"),
        ("cancellation", nil, nil, nil, "javascript:alert(1)", "return_url"),
        ("cancellation", nil, nil, nil, "/relative", "return_url"),
    ] as [(String, String?, String?, String?, String, String?)])
    func eachPurposeNamesItsOwnIdsAndAnAllowedReturn(purpose: String, consentPurpose: String?, offerID: String?,
                                                     decisionID: String?, returnURL: String, refused: String?)
    {
        do {
            let request = try CustomerLinkRules.validate(purpose: purpose, consentPurpose: consentPurpose, offerID: offerID,
                                                         decisionID: decisionID, returnURL: returnURL, locale: nil,
                                                         returnHosts: [])
            #expect(refused == nil, "taken: \(request)")
        } catch {
            #expect(error.field == refused, "\(error)")
        }
    }

    @Test func returnHostsReplaceLoopback() throws {
        let hosts = ["shop.example"]
        #expect(throws: DomainError.self) {
            try CustomerLinkRules.validate(purpose: "cancellation", consentPurpose: nil, offerID: nil, decisionID: nil,
                                           returnURL: Self.back, locale: nil, returnHosts: hosts)
        }
        let taken = try CustomerLinkRules.validate(purpose: "cancellation", consentPurpose: nil, offerID: nil, decisionID: nil,
                                                   returnURL: "https://SHOP.example/back", locale: "en", returnHosts: hosts)
        #expect(taken.locale == .en)
    }

    /// Opening does not use a link; it is usable until its first action or its 15 minutes.
    @Test func aLinkIsUsableOnceAndForFifteenMinutes() {
        let made = Timestamp(milliseconds: 1_800_000_000_000)
        let expires = made.adding(seconds: Int64(CustomerLinkRules.lifetimeSeconds))
        #expect(CustomerLinkRules.state(expiresAt: expires, usedAt: nil, now: made) == .usable)
        #expect(CustomerLinkRules.state(expiresAt: expires, usedAt: nil, now: expires.adding(seconds: -1)) == .usable)
        #expect(CustomerLinkRules.state(expiresAt: expires, usedAt: nil, now: expires) == .expired)
        #expect(CustomerLinkRules.state(expiresAt: expires, usedAt: made, now: made) == .used)
        #expect(CustomerLinkRules.tokenBytes * 8 == 256)
    }
}
