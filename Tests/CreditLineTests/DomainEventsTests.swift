import Foundation
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

/// The other typed events keep the bytes the store wrote before they existed: each detail below
/// is the one the code before them built, member for member (the fixture database's entries are
/// checked the same way in AuditChainTests).
@Suite struct DomainEventBytesTests {
    @Test(arguments: [
        (DomainEvent.accountActivated(AccountActivated(from: .pendingReview, tier: .d, creditLimit: 300_000,
                                                       path: .reviewResolution(reviewID: "rev_1"))),
         #"{"cause":"review_resolution","credit_limit":300000,"from":"pending_review","review_id":"rev_1","tier":"D"}"#),
        (.accountDeclined(AccountDeclined(from: .prospect, reasonCodes: ["R01", "R02"],
                                          path: .request(decisionID: "dec_1", consentID: "con_1", termsVersion: "2026-11"),
                                          tier: .e)),
         #"{"consent_id":"con_1","decision_id":"dec_1","from":"prospect","reason_codes":["R01","R02"],"terms_version":"2026-11","tier":"E"}"#),
        (.accountDeclined(AccountDeclined(from: .pendingReview, reasonCodes: [], path: .reviewResolution(reviewID: "rev_1"))),
         #"{"cause":"review_resolution","from":"pending_review","reason_codes":[],"review_id":"rev_1"}"#),
        (.reviewResolved(.contest(upheld: false, decisionID: "dec_1")),
         #"{"decision_id":"dec_1","kind":"contest","outcome":"rejected"}"#),
        (.reviewResolved(.firstApproval(creditLimit: 900_000)),
         #"{"credit_limit":900000,"kind":"activation","stage":"first_approval"}"#),
        (.reviewResolved(.activationApproved(creditLimit: 900_000, secondApprover: true)),
         #"{"credit_limit":900000,"kind":"activation","outcome":"approved","second_approver":true}"#),
        (.reviewResolved(.activationDeclined), #"{"kind":"activation","outcome":"declined"}"#),
        (.accountTransitioned(AccountTransitioned(action: .accountFrozen, from: .active, to: .frozen, cause: .periodicReview,
                                                  reason: .periodicReview(reviewID: "prv_1", decisionID: "dec_1",
                                                                          reasonCodes: ["R05"]))),
         #"{"cause":"periodic_review","decision_id":"dec_1","from":"active","portfolio_review_id":"prv_1","reason_codes":["R05"],"to":"frozen"}"#),
        (.accountTransitioned(AccountTransitioned(action: .accountClosed, from: .frozen, to: .closed, cause: .operatorClosure,
                                                  reason: .operatorAction(reasonCode: "customer_request", hasNote: false))),
         #"{"cause":"operator_closure","from":"frozen","has_note":false,"reason_code":"customer_request","to":"closed"}"#),
        (.termsAccepted(TermsAccepted(termsVersion: "2026-11", decisionID: "dec_2", tier: .b, previousTier: nil,
                                      noDearer: false, interestFreeDays: 30,
                                      confirmation: DomainEventsTests.confirmed)),
         #"{"confirmation_channel":"app","confirmation_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb","decision_id":"dec_2","interest_free_days":30,"no_dearer":false,"previous_tier":null,"terms_version":"2026-11","tier":"B"}"#),
        (.limitOfferCreated(LimitOfferCreated(decisionID: "dec_1", currentLimit: 500_000, offeredLimit: 800_000,
                                              expiresAt: Fixtures.now, portfolioReviewID: nil,
                                              reasonCode: "good_standing", hasNote: true)),
         #"{"current_limit":500000,"decision_id":"dec_1","expires_at":"\#(Fixtures.now.rfc3339)","has_note":true,"offered_limit":800000,"reason_code":"good_standing"}"#),
        (.delinquencyChanged(DelinquencyChange(from: .dpd1To30, to: .dpd31To60, daysPastDue: 31)),
         #"{"days_past_due":31,"from":"dpd_1_30","notice_due":true,"to":"dpd_31_60"}"#),
        (.fact(.pendingReview(from: .prospect, tier: .a, path: .request(decisionID: "dec_1", consentID: "con_1",
                                                                        termsVersion: "2026-11"),
                              reviewID: "rev_1", reviewReason: "model_review_overdue")),
         #"{"consent_id":"con_1","decision_id":"dec_1","from":"prospect","review_id":"rev_1","review_reason":"model_review_overdue","terms_version":"2026-11","tier":"A"}"#),
        (.fact(.reviewRequested(kind: .contest, decisionID: "dec_1", hasStatement: true)),
         #"{"decision_id":"dec_1","has_statement":true,"kind":"contest"}"#),
        (.fact(.reviewRequested(kind: .activation, decisionID: "dec_1", hasStatement: nil)),
         #"{"decision_id":"dec_1","kind":"activation"}"#),
        (.fact(.accountCancelled(from: .active, to: .closed, channel: .app, feesWaived: 300, balance: 5000,
                                 confirmation: DomainEventsTests.confirmed)),
         #"{"balance":5000,"channel":"app","confirmation_channel":"app","confirmation_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb","fees_waived":300,"from":"active","to":"closed"}"#),
        (.fact(.chargeOffApproved(reasonCode: .prolongedNonPayment, daysPastDue: 120)),
         #"{"days_past_due":120,"reason_code":"prolonged_non_payment"}"#),
        (.fact(.accountChargedOff(from: .active, reasonCode: .prolongedNonPayment, daysPastDue: 120, balance: 5000,
                                  feesOutstanding: 300)),
         #"{"balance":5000,"days_past_due":120,"fees_outstanding":300,"from":"active","reason_code":"prolonged_non_payment"}"#),
        (.fact(.noticeDelivered(kind: .limitChange, templateVersion: "2026-11", contentSHA256: "ab", channel: "sms",
                                deliveredAt: Fixtures.now)),
         #"{"channel":"sms","content_sha256":"ab","delivered_at":"\#(Fixtures.now.rfc3339)","kind":"limit_change","template_version":"2026-11"}"#),
        (.fact(.limitOfferAccepted(adjustmentID: "adj_1", newLimit: 800_000, confirmation: DomainEventsTests.confirmed)),
         #"{"adjustment_id":"adj_1","confirmation_channel":"app","confirmation_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb","new_limit":800000}"#),
        (.fact(.preferencesUpdated(limitIncreaseOptOut: true, locale: .en)), #"{"limit_increase_opt_out":true,"locale":"en"}"#),
        (.fact(.consentDeclined(purpose: .creditLine, noticeVersion: "2026-12", noticeSHA256: "ab")),
         #"{"channel":"hosted","notice_sha256":"ab","notice_version":"2026-12","purpose":"credit_line"}"#),
        (.fact(.customerLinkIssued(purpose: .withdrawal, consentPurpose: .creditAssessment, expiresAt: Fixtures.now)),
         #"{"consent_purpose":"credit_assessment","expires_at":"\#(Fixtures.now.rfc3339)","purpose":"withdrawal"}"#),
        (.fact(.customerLinkIssued(purpose: .offer, consentPurpose: nil, expiresAt: Fixtures.now)),
         #"{"expires_at":"\#(Fixtures.now.rfc3339)","purpose":"offer"}"#),
        (.fact(.affordabilityAssessed(source: .selfDeclared, validUntil: Fixtures.now, hasEvidenceRef: false,
                                      confirmation: DomainEventsTests.confirmed)),
         #"{"confirmation_channel":"app","confirmation_sha256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb","has_evidence_ref":false,"source":"self_declared","valid_until":"\#(Fixtures.now.rfc3339)"}"#),
        (.fact(.customerLinkUsed(purpose: .consent, outcome: "declined", recordID: "con_1", locale: .zhCN, pageSHA256: "ab")),
         #"{"locale":"zh-CN","outcome":"declined","page_sha256":"ab","purpose":"consent","record_id":"con_1"}"#),
        (.consentEnded(ConsentEnded(purpose: .creditAssessment, how: .expired,
                                    effects: [.scoringStopped, .scoringInputsErased(decisions: 2)])),
         #"{"effects":["scoring_stopped","scoring_inputs_erased"],"purpose":"credit_assessment"}"#),
    ] as [(DomainEvent, String)])
    func theDetailKeepsItsBytes(_ event: DomainEvent, _ bytes: String) throws {
        #expect(JSONValue.object(event.auditDetail).canonicalJSON == bytes)
        #expect(try DomainEvent.decode(event.action, auditDetail: event.auditDetail) == event)
    }

    /// Every action is a typed event: an empty detail fails naming a member it needs, never reads
    /// as something (a sign-out, which records nothing beside who, is the one with no member).
    @Test func everyActionIsTyped() throws {
        for action in AuditAction.allCases where action != .consoleSignedOut {
            #expect(throws: NoticeRules.MissingFact.self, "\(action)") { try DomainEvent.decode(action, auditDetail: [:]) }
        }
        #expect(try DomainEvent.decode(.consoleSignedOut, auditDetail: [:]) == .service(.consoleSignedOut))
        // The service's own records are none of a calling backend's business.
        for action in AuditAction.allCases where !action.isEvent {
            if case .service = try DomainEvent.decode(action, auditDetail: Self.sample(action)) {} else {
                #expect([.accountCreated, .preferencesUpdated, .chargeOffApproved, .customerLinkIssued, .customerLinkUsed,
                          .affordabilityAssessed]
                            .contains(action), "\(action) is neither an account's nor the service's")
            }
        }
    }

    /// A detail each action's event reads, built from a value of it.
    static func sample(_ action: AuditAction) -> [String: JSONValue] {
        let records: [ServiceRecord] = [
            .keyCreated(role: .risk, tenant: nil, personNamed: true), .keyRevoked(role: .service), .demoClockAdvanced(days: 3),
            .portfolioReviewCompleted(rows: 2, modelVersion: "v1", actions: ["freeze": 1], skipped: ["invalid-features": 1]),
            .webhookEndpointCreated(tenant: "default", host: "hooks.example", eventTypes: ["limit.adjusted"]),
            .webhookEndpointDeleted(tenant: "default"),
            .modelReviewed(version: "v1", modelVersion: "v1+sha256:ab", outcome: .approved, validUntil: Fixtures.now,
                           hasFindings: false),
            .retentionSwept(erased: ["notes": 2, "scoring_inputs": 0], freeTextDays: 365, scoringInputDays: 730),
            .consoleSignedIn(role: .auditor), .consoleSignedOut,
        ]
        let facts: [AccountFact] = [
            .accountCreated(status: .prospect), .preferencesUpdated(limitIncreaseOptOut: false, locale: .zhCN),
            .chargeOffApproved(reasonCode: .fraud, daysPastDue: 95),
            .customerLinkIssued(purpose: .consent, consentPurpose: .creditLine, expiresAt: Fixtures.now),
            .customerLinkUsed(purpose: .offer, outcome: "accepted", recordID: "off_1", locale: .en, pageSHA256: "ab"),
            .affordabilityAssessed(source: .verified, validUntil: Fixtures.now, hasEvidenceRef: true, confirmation: [:]),
        ]
        return (records.map(DomainEvent.service) + facts.map(DomainEvent.fact)).first { $0.action == action }?.auditDetail ?? [:]
    }

    /// The service's records keep the bytes the store wrote before they were typed, and read back.
    @Test func serviceRecordsKeepTheirBytes() throws {
        let expected: [AuditAction: String] = [
            .keyCreated: #"{"person_named":true,"role":"risk","tenant":null}"#,
            .portfolioReviewCompleted: #"{"actions":{"freeze":1},"model_version":"v1","rows":2,"skipped":{"invalid-features":1}}"#,
            .webhookEndpointCreated: #"{"event_types":["limit.adjusted"],"host":"hooks.example","tenant":"default"}"#,
            .modelReviewed: #"{"has_findings":false,"model_version":"v1+sha256:ab","outcome":"approved","valid_until":"\#(Fixtures.now.rfc3339)","version":"v1"}"#,
            .retentionSwept: #"{"free_text_retention_days":365,"notes":2,"scoring_input_retention_days":730,"scoring_inputs":0}"#,
            .consoleSignedOut: "{}",
        ]
        for (action, bytes) in expected {
            let detail = Self.sample(action)
            #expect(JSONValue.object(detail).canonicalJSON == bytes, "\(action)")
            #expect(try DomainEvent.decode(action, auditDetail: detail).auditDetail == detail)
        }
    }

    /// A detail that names a cause, a kind or a status the enums do not know is not read as
    /// some other event: it fails, naming the member.
    @Test(arguments: [
        (AuditAction.accountFrozen, #"{"cause":"gremlins","from":"active","to":"frozen"}"#, "cause"),
        (.reviewResolved, #"{"kind":"activation","outcome":"maybe"}"#, "outcome"),
        (.accountActivated, #"{"credit_limit":1,"from":"asleep","tier":"A","decision_id":"d","consent_id":"c","terms_version":"t"}"#, "from"),
        (.consentWithdrawn, #"{"effects":[1],"purpose":"credit_line","channel":"app"}"#, "effects"),
    ])
    func anUnknownValueFailsNamingIt(_ action: AuditAction, _ detail: String, _ key: String) throws {
        let parsed = try JSONDecoder().decode([String: JSONValue].self, from: Data(detail.utf8))
        #expect(throws: NoticeRules.MissingFact(action: action, key: key)) {
            try DomainEvent.decode(action, auditDetail: parsed)
        }
    }
}
