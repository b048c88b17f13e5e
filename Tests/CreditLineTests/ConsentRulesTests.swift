import Testing
@testable import CreditLine

@Suite struct ConsentRulesTests {
    static let now = Timestamp(rfc3339: "2026-11-25T10:00:00.000Z")!
    static let hash = String(repeating: "ab", count: 32)

    func validate(purpose: String = "credit_assessment", version: String = "2026-11", hash: String = hash,
                  channel: String = "app", method: String = "explicit_opt_in", evidence: String? = nil,
                  expiresAt: String? = nil) throws(DomainError) -> ConsentRules.Grant
    {
        try ConsentRules.validate(purpose: purpose, noticeVersion: version, noticeSHA256: hash, channel: channel,
                                  method: method, evidence: evidence, expiresAt: expiresAt, now: Self.now,
                                  maxValidityDays: 365, notices: Self.notices)
    }

    static let chinese = String(repeating: "c1", count: 32)
    static let english = String(repeating: "e2", count: 32)
    /// 2026-11 in English alone, as published; 2026-12 in both languages.
    static let notices = NoticeRegistry([ConsentPurpose.creditAssessment, .creditLine].flatMap { purpose in
        [NoticeRegistry.Text(purpose: purpose, version: "2026-11", locale: .en, text: "…", sha256: hash),
         NoticeRegistry.Text(purpose: purpose, version: "2026-12", locale: .zhCN, text: "…", sha256: chinese),
         NoticeRegistry.Text(purpose: purpose, version: "2026-12", locale: .en, text: "…", sha256: english)]
    })

    /// The hash is checked against the named language's text; a grant naming none takes Chinese
    /// where the version has it and 2026-11's only text, English, where it does not.
    @Test(arguments: [
        ("2026-11", nil, hash, nil), ("2026-11", "en", hash, nil),
        ("2026-11", "zh-CN", hash, "unknown-notice:notice_locale"),
        ("2026-12", nil, chinese, nil), ("2026-12", "zh-CN", chinese, nil), ("2026-12", "en", english, nil),
        ("2026-12", nil, english, "notice-mismatch:notice_sha256"), ("2026-12", "en", chinese, "notice-mismatch:notice_sha256"),
        ("2026-12", "fr", chinese, "invalid-field:notice_locale"),
    ] as [(String, String?, String, String?)])
    func theNoticeIsCheckedInItsLanguage(version: String, locale: String?, hash: String, refusal: String?) {
        let refused = self.refusal { () throws(DomainError) in
            try ConsentRules.validate(purpose: "credit_line", noticeVersion: version, noticeSHA256: hash, noticeLocale: locale,
                                      channel: "app", method: "explicit_opt_in", evidence: nil, expiresAt: nil, now: Self.now,
                                      maxValidityDays: 365, notices: Self.notices)
        }
        #expect(refused.map { "\($0.0):\($0.1 ?? "")" } == refusal)
        #expect(Self.notices.currentVersion(of: .creditLine) == "2026-12")
    }

    /// A grant names a published notice of its purpose, and that notice's hash.
    @Test(arguments: [
        ("credit_assessment", "2026-11", hash, nil as String?), ("credit_assessment", "2026-10", hash, "unknown-notice"),
        ("credit_line", "v1", hash, "unknown-notice"), ("credit_line", "2026-11", String(repeating: "cd", count: 32), "notice-mismatch"),
    ])
    func theNoticeMustBePublished(purpose: String, version: String, hash: String, code: String?) {
        let refused = refusal { () throws(DomainError) in try validate(purpose: purpose, version: version, hash: hash) }
        #expect(refused?.0 == code)
        if let code { #expect(refused?.1 == (code == "unknown-notice" ? "notice_version" : "notice_sha256")) }
    }

    func refusal(_ body: () throws(DomainError) -> ConsentRules.Grant) -> (String, String?)? {
        do {
            _ = try body()
            return nil
        } catch {
            return (error.code.rawValue, error.field)
        }
    }

    @Test(arguments: ["explicit_opt_in", "written_signature"])
    func affirmativeMethodsAreAccepted(method: String) throws {
        #expect(try validate(method: method).method.rawValue == method)
    }

    /// PIPL Art. 14; CJEU C-673/17 Planet49: none of these is consent.
    @Test(arguments: ["pre_ticked", "implied", "default", "bundled", "opt_out", "", "EXPLICIT_OPT_IN", "verbal"])
    func everythingElseIsNotExplicit(method: String) {
        let refused = refusal { () throws(DomainError) in try validate(method: method) }
        #expect(refused?.0 == "consent-not-explicit")
        #expect(refused?.1 == "method")
    }

    @Test(arguments: [
        ("purpose", "marketing"), ("channel", "email"), ("notice_sha256", "abc"),
        ("notice_sha256", String(repeating: "g", count: 64)), ("notice_version", ""),
        ("notice_version", "v 1"), ("expires_at", "2025-01-01T00:00:00Z"), ("expires_at", "2028-01-01T00:00:00Z"),
        ("expires_at", "tomorrow"), ("evidence", String(repeating: "e", count: 257)),
    ])
    func badFieldsAreNamed(field: String, value: String) {
        let refused = refusal { () throws(DomainError) in
            switch field {
            case "purpose": return try validate(purpose: value)
            case "channel": return try validate(channel: value)
            case "notice_sha256": return try validate(hash: value)
            case "notice_version": return try validate(version: value)
            case "expires_at": return try validate(expiresAt: value)
            default: return try validate(evidence: value)
            }
        }
        #expect(refused?.0 == "invalid-field")
        #expect(refused?.1 == field)
    }

    @Test func evidenceWithPersonalDataIsRefused() {
        let refused = refusal { () throws(DomainError) in try validate(evidence: "called 13812345678") }
        #expect(refused?.0 == "pii-not-allowed")
        #expect(refused?.1 == "evidence")
    }

    @Test func defaultExpiryIsOneYearAndHashIsLowercased() throws {
        let grant = try validate(hash: String(repeating: "AB", count: 32))
        #expect(grant.expiresAt == Self.now.adding(days: 365))
        #expect(grant.noticeSHA256 == Self.hash)
        #expect(try validate(expiresAt: "2027-01-01T00:00:00+08:00").expiresAt
                == Timestamp(rfc3339: "2026-12-31T16:00:00.000Z"))
    }

    @Test func statusFollowsTimeAndWithdrawal() {
        var consent = Consent(id: "con_1", accountID: "acc_1", purpose: .creditLine, noticeVersion: "v",
                              noticeSHA256: Self.hash, channel: .app, method: .explicitOptIn, evidence: nil,
                              storedStatus: .active, grantedAt: Self.now, expiresAt: Self.now.adding(days: 10))
        #expect(consent.status(at: Self.now) == .active)
        #expect(consent.status(at: Self.now.adding(days: 10).adding(seconds: -1)) == .active)
        #expect(consent.status(at: Self.now.adding(days: 10)) == .expired)
        consent.storedStatus = .withdrawn
        #expect(consent.status(at: Self.now) == .withdrawn)
        #expect(consent.status(at: Self.now.adding(days: 20)) == .withdrawn)
    }

    @Test(arguments: [
        (ConsentPurpose.creditLine, AccountStatus.active, ["account_frozen"], AccountStatus?.some(.frozen)),
        (.creditLine, .pendingReview, ["review_cancelled", "activation_blocked"], .prospect),
        (.creditLine, .prospect, ["activation_blocked"], nil),
        (.creditLine, .declined, ["activation_blocked"], nil),
        (.creditLine, .frozen, [], nil),
        (.creditLine, .closed, [], nil),
        (.creditAssessment, .active, ["scoring_stopped", "scoring_inputs_erased"], nil),
        (.creditAssessment, .prospect, ["scoring_stopped", "scoring_inputs_erased"], nil),
        (.creditAssessment, .pendingReview, ["scoring_stopped", "scoring_inputs_erased", "review_cancelled"], .prospect),
        (.creditAssessment, .frozen, ["scoring_stopped", "scoring_inputs_erased"], nil),
    ])
    func withdrawalEffects(purpose: ConsentPurpose, status: AccountStatus, effects: [String], newStatus: AccountStatus?) {
        let outcome = ConsentWithdrawalRules.effects(purpose: purpose, accountStatus: status, storedInputs: 2)
        #expect(outcome.effects.map(\.code) == effects)
        #expect(outcome.newStatus == newStatus)
    }
}

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2026-11-25T10:00:00Z", "2026-11-25T10:00:00.000Z"),
        ("2026-11-25T10:00:00.5Z", "2026-11-25T10:00:00.500Z"),
        ("2026-11-25T10:00:00.123456Z", "2026-11-25T10:00:00.123Z"),
        ("2026-11-25T18:00:00+08:00", "2026-11-25T10:00:00.000Z"),
        ("2024-02-29T23:59:59.999-00:30", "2024-03-01T00:29:59.999Z"),
        ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z"),
    ])
    func parsesAndFormatsRFC3339(text: String, canonical: String) throws {
        #expect(try #require(Timestamp(rfc3339: text)).rfc3339 == canonical)
    }

    @Test(arguments: ["", "2026-11-25", "2026-11-25T10:00:00", "2026-13-01T00:00:00Z", "2026-11-25T10:00:00.Z",
                      "2026-11-25 10:00:00Z", "2026-11-25T10:00:00Zjunk"])
    func refusesWhatIsNotRFC3339(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }
}
