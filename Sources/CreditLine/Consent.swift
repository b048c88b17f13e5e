/// What a consent is for (README "Consent"). Each purpose needs its own consent: scoring and
/// opening a line are never bundled (PIPL Art. 14: consent is specific).
public enum ConsentPurpose: String, Sendable, Codable, CaseIterable {
    case creditAssessment = "credit_assessment"
    case creditLine = "credit_line"
}

public enum ConsentChannel: String, Sendable, Codable, CaseIterable {
    case app, web, phone, branch
    /// The customer's own page (README "The customer's own pages"): set by the pages alone, with
    /// the evidence they record; a caller that names it is refused.
    case hosted

    /// A channel a caller names: any but `hosted`, 422 naming `field` otherwise.
    public static func parse(_ text: String, field: String = "channel") throws(DomainError) -> ConsentChannel {
        guard let channel = ConsentChannel(rawValue: text), channel != .hosted else {
            let why = text == ConsentChannel.hosted.rawValue
                ? " (hosted is recorded only by the customer's own pages, with their evidence)" : ""
            throw .invalidField(field, "\(field) must be app, web, phone or branch\(why).")
        }
        return channel
    }
}

/// How the customer gave consent. Only affirmative acts count.
public enum ConsentMethod: String, Sendable, Codable, CaseIterable {
    case explicitOptIn = "explicit_opt_in"
    case writtenSignature = "written_signature"
}

public enum ConsentStatus: String, Sendable, Codable {
    case active, withdrawn, expired
    /// The customer said no on their own page: recorded, granting nothing.
    case declined
}

/// What a customer's own page records of the act (README "The customer's own pages"): the link
/// it came through, the language and the SHA-256 of the page as shown, and when it was shown.
/// First-party evidence, in place of a caller's free text.
public struct PageEvidence: Sendable, Equatable {
    public var linkID: String
    public var locale: NoticeLocale
    public var pageSHA256: String
    public var shownAt: Timestamp

    public init(linkID: String, locale: NoticeLocale, pageSHA256: String, shownAt: Timestamp) {
        (self.linkID, self.locale, self.pageSHA256, self.shownAt) = (linkID, locale, pageSHA256, shownAt)
    }
}

/// A consent record: the evidence that a customer agreed to one purpose, under one notice, by
/// one affirmative act, until a date or until withdrawn.
public struct Consent: Sendable, Equatable {
    public var id: String
    public var accountID: String
    public var purpose: ConsentPurpose
    public var noticeVersion: String
    /// SHA-256 of the exact notice text shown, so the wording can be proven later (GDPR Art. 7(1)).
    public var noticeSHA256: String
    public var channel: ConsentChannel
    public var method: ConsentMethod
    public var evidence: String?
    /// As stored; see `status(at:)` for what it means now.
    public var storedStatus: ConsentStatus
    public var grantedAt: Timestamp
    public var expiresAt: Timestamp
    public var withdrawnAt: Timestamp?
    public var withdrawalChannel: ConsentChannel?
    /// A consent given (or declined) on the customer's own page: what the page recorded.
    public var pageEvidence: PageEvidence?

    public init(id: String, accountID: String, purpose: ConsentPurpose, noticeVersion: String, noticeSHA256: String,
                channel: ConsentChannel, method: ConsentMethod, evidence: String?, storedStatus: ConsentStatus,
                grantedAt: Timestamp, expiresAt: Timestamp, withdrawnAt: Timestamp? = nil,
                withdrawalChannel: ConsentChannel? = nil, pageEvidence: PageEvidence? = nil)
    {
        self.pageEvidence = pageEvidence
        self.id = id
        self.accountID = accountID
        self.purpose = purpose
        self.noticeVersion = noticeVersion
        self.noticeSHA256 = noticeSHA256
        self.channel = channel
        self.method = method
        self.evidence = evidence
        self.storedStatus = storedStatus
        self.grantedAt = grantedAt
        self.expiresAt = expiresAt
        self.withdrawnAt = withdrawnAt
        self.withdrawalChannel = withdrawalChannel
    }

    /// A consent past its expiry reads as expired, and counts as absent, whether or not the
    /// expiry has been recorded yet.
    public func status(at now: Timestamp) -> ConsentStatus {
        Self.status(stored: storedStatus, expiresAt: expiresAt, at: now)
    }

    /// The rule itself, for a read that fetched only these two columns.
    public static func status(stored: ConsentStatus, expiresAt: Timestamp, at now: Timestamp) -> ConsentStatus {
        if stored == .withdrawn || stored == .declined { return stored }
        if stored == .expired || now >= expiresAt { return .expired }
        return .active
    }

    public func isActive(at now: Timestamp) -> Bool { status(at: now) == .active }
}

/// The notices a customer can be shown, per purpose: each version's texts, one per language they
/// were published in, with the SHA-256 of each. A consent names one of them, so the version
/// stored (and audited forever) is from a closed set,
/// and the hash proves which words the customer agreed to (GDPR Art. 7(1): the controller must
/// be able to demonstrate consent).
public struct NoticeRegistry: Sendable, Equatable {
    /// One published text of a consent notice.
    public struct Text: Sendable, Equatable {
        public var purpose: ConsentPurpose, version: String, locale: NoticeLocale
        /// The words, and the lower-case hex SHA-256 of their bytes.
        public var text: String, sha256: String

        public init(purpose: ConsentPurpose, version: String, locale: NoticeLocale, text: String, sha256: String) {
            (self.purpose, self.version, self.locale, self.text, self.sha256) = (purpose, version, locale, text, sha256)
        }
    }

    /// purpose → version → locale → text.
    public let texts: [ConsentPurpose: [String: [NoticeLocale: Text]]]

    public init(_ texts: [Text]) {
        var byPurpose: [ConsentPurpose: [String: [NoticeLocale: Text]]] = [:]
        for text in texts { byPurpose[text.purpose, default: [:]][text.version, default: [:]][text.locale] = text }
        self.texts = byPurpose
    }

    /// The newest version of a purpose's notice (versions are dates, `2026-12`, so they sort).
    public func currentVersion(of purpose: ConsentPurpose) -> String? {
        texts[purpose]?.keys.max()
    }

    /// The language a grant's notice is taken in when the grant names none: Chinese where the
    /// version has it, else the version's only text (2026-11's notices are English alone).
    public func defaultLocale(of purpose: ConsentPurpose, version: String) -> NoticeLocale? {
        guard let locales = texts[purpose]?[version] else { return nil }
        return locales[.customerDefault] != nil ? .customerDefault : locales.keys.sorted { $0.rawValue < $1.rawValue }.first
    }

    /// 422 `unknown-notice` for a version not published for this purpose, or a language it was
    /// not published in (naming `notice_locale`); `notice-mismatch` for a hash that is not that
    /// text's.
    public func check(purpose: ConsentPurpose, version: String, locale: NoticeLocale?, sha256: String) throws(DomainError) {
        guard let locales = texts[purpose]?[version], let chosen = locale ?? defaultLocale(of: purpose, version: version) else {
            let known = (texts[purpose] ?? [:]).keys.sorted().joined(separator: ", ")
            throw DomainError(.invalid, code: .unknownNotice,
                              "notice_version must be a published \(purpose.rawValue) notice (\(known)).",
                              field: "notice_version")
        }
        guard let text = locales[chosen] else {
            let known = locales.keys.map(\.rawValue).sorted().joined(separator: ", ")
            throw DomainError(.invalid, code: .unknownNotice,
                              "notice \(version) of \(purpose.rawValue) was published in \(known), not \(chosen.rawValue).",
                              field: "notice_locale")
        }
        guard text.sha256 == sha256 else {
            throw DomainError(.invalid, code: .noticeMismatch,
                              "notice_sha256 is not the SHA-256 of notice \(version)'s \(chosen.rawValue) text.",
                              field: "notice_sha256")
        }
    }
}

/// The rules for granting consent.
public enum ConsentRules {
    /// A consent lasts one year unless it says less (README "Consent").
    public static let defaultValidityDays = 365
    public static let maxEvidenceLength = 256
    public static let maxNoticeVersionLength = 64

    /// Methods that are not consent, each refused with its reason.
    static let refusedMethods: [String: String] = [
        "pre_ticked": "a pre-ticked box is not consent (CJEU C-673/17 Planet49)",
        "implied": "consent cannot be implied from conduct",
        "default": "a default setting is not an affirmative act",
        "bundled": "consent bundled with other terms is not specific to its purpose",
        "opt_out": "an opt-out is the absence of refusal, not consent",
    ]

    public struct Grant: Sendable, Equatable {
        public var purpose: ConsentPurpose
        public var noticeVersion: String
        public var noticeSHA256: String
        public var channel: ConsentChannel
        public var method: ConsentMethod
        public var evidence: String?
        public var expiresAt: Timestamp

        public init(purpose: ConsentPurpose, noticeVersion: String, noticeSHA256: String, channel: ConsentChannel,
                    method: ConsentMethod, evidence: String?, expiresAt: Timestamp)
        {
            self.purpose = purpose
            self.noticeVersion = noticeVersion
            self.noticeSHA256 = noticeSHA256
            self.channel = channel
            self.method = method
            self.evidence = evidence
            self.expiresAt = expiresAt
        }
    }

    /// A valid grant is recorded only for an account that is not closed and has no consent for
    /// the same purpose in force: one consent per purpose, withdrawn before it is replaced, so the
    /// ledger never holds two answers to the same question.
    public static func checkGrant(_ grant: Grant, accountStatus: AccountStatus?, activeConsentID: String?)
        throws(DomainError)
    {
        _ = try AccountStatus.requireOpen(accountStatus, "A closed account takes no new consent.")
        if let activeConsentID {
            throw DomainError(.conflict, code: .consentAlreadyActive,
                              "Consent \(activeConsentID) for \(grant.purpose.rawValue) is already in force; withdraw it first.")
        }
    }

    /// Validates a grant request. Each refusal names its field; a method that is not an
    /// affirmative act is 422 `consent-not-explicit` (PIPL Art. 14: voluntary, explicit, informed).
    public static func validate(purpose: String, noticeVersion: String, noticeSHA256: String, noticeLocale: String? = nil,
                                channel: String, method: String, evidence: String?, expiresAt: String?, now: Timestamp,
                                maxValidityDays: Int, notices: NoticeRegistry) throws(DomainError) -> Grant
    {
        guard let purposeValue = ConsentPurpose(rawValue: purpose) else {
            throw .invalidField("purpose", "purpose must be credit_assessment or credit_line.")
        }
        guard let methodValue = ConsentMethod(rawValue: method) else {
            let reason = refusedMethods[method] ?? "only explicit_opt_in or written_signature record an affirmative act"
            throw DomainError(.invalid, code: .consentNotExplicit,
                              "method '\(Echo.bounded(method))' is not explicit consent: \(reason) (PIPL Art. 14).", field: "method")
        }
        let channelValue = try ConsentChannel.parse(channel)
        let version = noticeVersion
        guard !version.isEmpty, version.count <= maxNoticeVersionLength,
            version.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else {
            throw .invalidField("notice_version", "notice_version must be 1–64 visible ASCII characters.")
        }
        let hash = noticeSHA256.lowercased()
        guard hash.utf8.count == 64, hash.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
            throw .invalidField("notice_sha256", "notice_sha256 must be the 64 hex digits of the notice text's SHA-256.")
        }
        let locale = try NoticeLocale.parse(noticeLocale, field: "notice_locale")
        try notices.check(purpose: purposeValue, version: version, locale: locale, sha256: hash)
        if let evidence { try FreeText.check(evidence, field: "evidence", max: maxEvidenceLength) }
        let latest = now.adding(days: maxValidityDays)
        var expiry = now.adding(days: min(defaultValidityDays, maxValidityDays))
        if let expiresAt {
            guard let parsed = Timestamp(rfc3339: expiresAt) else {
                throw .invalidField("expires_at", "expires_at must be an RFC 3339 time.")
            }
            guard parsed > now else { throw .invalidField("expires_at", "expires_at must be in the future.") }
            guard parsed <= latest else {
                throw .invalidField("expires_at", "expires_at may be at most \(maxValidityDays) days ahead.")
            }
            expiry = parsed
        }
        return Grant(purpose: purposeValue, noticeVersion: version, noticeSHA256: hash, channel: channelValue,
                     method: methodValue, evidence: evidence?.isEmpty == true ? nil : evidence, expiresAt: expiry)
    }
}

/// What a withdrawal changed, listed in the response and the audit log.
public enum WithdrawalEffect: Sendable, Equatable {
    /// No more scoring for this account (credit_assessment).
    case scoringStopped
    /// Stored scoring inputs erased; scores, reasons and input hashes stay as the record
    /// (PIPL Art. 47).
    case scoringInputsErased(decisions: Int)
    /// An active line frozen: no new credit, no increases; the existing balance stays valid.
    case accountFrozen
    /// A pending review cancelled and the account back to prospect.
    case reviewCancelled
    /// A prospect (or a declined account) can no longer be activated.
    case activationBlocked

    public var erasesScoringInputs: Bool {
        if case .scoringInputsErased = self { return true }
        return false
    }

    public var code: String {
        switch self {
        case .scoringStopped: return "scoring_stopped"
        case .scoringInputsErased: return "scoring_inputs_erased"
        case .accountFrozen: return "account_frozen"
        case .reviewCancelled: return "review_cancelled"
        case .activationBlocked: return "activation_blocked"
        }
    }
}

/// The effects of withdrawing a consent of `purpose` from an account in `status` (PIPL Art. 15:
/// withdrawal is always possible and takes effect at once; earlier processing stays valid).
public enum ConsentWithdrawalRules {
    public static func effects(purpose: ConsentPurpose, accountStatus: AccountStatus, storedInputs: Int)
        -> (effects: [WithdrawalEffect], newStatus: AccountStatus?)
    {
        switch purpose {
        case .creditAssessment:
            // An open activation review would decide on an assessment the customer withdrew.
            if accountStatus == .pendingReview {
                return ([.scoringStopped, .scoringInputsErased(decisions: storedInputs), .reviewCancelled], .prospect)
            }
            return ([.scoringStopped, .scoringInputsErased(decisions: storedInputs)], nil)
        case .creditLine:
            switch accountStatus {
            case .active:
                return ([.accountFrozen], .frozen)
            case .pendingReview:
                return ([.reviewCancelled, .activationBlocked], .prospect)
            case .prospect, .declined:
                return ([.activationBlocked], nil)
            case .frozen, .closed, .chargedOff:
                return ([], nil)
            }
        }
    }
}
