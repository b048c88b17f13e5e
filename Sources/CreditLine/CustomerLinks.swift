import Foundation

/// What a link to the customer's own pages is for (issue "The customer's own pages"): the moment
/// of choice happens on a page the service shows, not on the calling app's word.
public enum CustomerLinkPurpose: String, Sendable, CaseIterable, Codable {
    case consent, activation, withdrawal, cancellation, offer
}

/// A calling service's request for a link, validated.
public struct CustomerLinkRequest: Sendable, Equatable {
    public var purpose: CustomerLinkPurpose
    /// For a consent or a withdrawal: one purpose a page, never bundled.
    public var consentPurpose: ConsentPurpose?
    public var offerID: String?
    public var decisionID: String?
    public var returnURL: URL
    public var locale: NoticeLocale?

    public init(purpose: CustomerLinkPurpose, consentPurpose: ConsentPurpose?, offerID: String?, decisionID: String?,
                returnURL: URL, locale: NoticeLocale?)
    {
        (self.purpose, self.consentPurpose, self.offerID, self.decisionID) = (purpose, consentPurpose, offerID, decisionID)
        (self.returnURL, self.locale) = (returnURL, locale)
    }
}

/// A link as stored: the request it was made for, its life, and its one action once taken.
public struct CustomerLink: Sendable, Equatable {
    public var id: String
    public var accountID: String
    public var request: CustomerLinkRequest
    public var createdAt: Timestamp
    public var expiresAt: Timestamp
    /// The last time its page was shown before its action.
    public var shownAt: Timestamp?
    public var usedAt: Timestamp?
    public var outcome: String?

    public init(id: String, accountID: String, request: CustomerLinkRequest, createdAt: Timestamp, expiresAt: Timestamp,
                shownAt: Timestamp? = nil, usedAt: Timestamp? = nil, outcome: String? = nil)
    {
        (self.id, self.accountID, self.request, self.createdAt, self.expiresAt) = (id, accountID, request, createdAt, expiresAt)
        (self.shownAt, self.usedAt, self.outcome) = (shownAt, usedAt, outcome)
    }

    public func state(at now: Timestamp) -> CustomerLinkRules.State {
        CustomerLinkRules.state(expiresAt: expiresAt, usedAt: usedAt, now: now)
    }

    /// 410 for a link that can no longer act: `link-used` or `link-expired`.
    public func requireUsable(at now: Timestamp) throws(DomainError) {
        switch state(at: now) {
        case .usable: return
        case .used: throw DomainError(.gone, code: .linkUsed, "This link has been used; ask for a new one.")
        case .expired: throw DomainError(.gone, code: .linkExpired, "This link has expired; ask for a new one.")
        }
    }
}

/// The rules of customer links: who may ask for which, where the customer may be sent back, and
/// how long a link lives.
public enum CustomerLinkRules {
    /// A link lives 15 minutes, long enough to read a notice, short enough that a forwarded or
    /// leaked link is soon worthless.
    public static let lifetimeSeconds = 15 * 60
    /// 256 bits of the system's randomness; only the token's hash is stored.
    public static let tokenBytes = 32
    /// Within this many days of a declined consent, no new consent link for that purpose: asking
    /// again and again until the customer gives in is not consent.
    public static let recentDeclineDays = 30

    public enum State: Sendable, Equatable {
        case usable
        /// 410 `link-used`: its first action was taken.
        case used
        /// 410 `link-expired`.
        case expired
    }

    /// A consent link within `recentDeclineDays` of the customer declining that purpose on a page
    /// is 409 `recently-declined`; other links are not held back by a refusal.
    public static func checkIssue(_ request: CustomerLinkRequest, lastDeclinedAt: Timestamp?, now: Timestamp)
        throws(DomainError)
    {
        guard request.purpose == .consent, let lastDeclinedAt,
              now < lastDeclinedAt.adding(days: recentDeclineDays) else { return }
        let purpose = request.consentPurpose?.rawValue ?? "this purpose"
        throw DomainError(.conflict, code: .recentlyDeclined,
                          "The customer declined \(purpose) on \(lastDeclinedAt.rfc3339); no new consent link for it before \(lastDeclinedAt.adding(days: recentDeclineDays).rfc3339): asking again until they give in is not consent.")
    }

    /// Opening a link does not use it (message previewers fetch links); its first action does.
    public static func state(expiresAt: Timestamp, usedAt: Timestamp?, now: Timestamp) -> State {
        if usedAt != nil { return .used }
        return now < expiresAt ? .usable : .expired
    }

    /// The request, or 422 naming the field: the purpose's own ids present and no other's, and a
    /// return URL on a host in `customer_return_hosts` (empty: this machine only, as for webhooks).
    public static func validate(purpose: String, consentPurpose: String?, offerID: String?, decisionID: String?,
                                returnURL: String, locale: String?, returnHosts: [String]) throws(DomainError)
        -> CustomerLinkRequest
    {
        guard let purposeValue = CustomerLinkPurpose(rawValue: purpose) else {
            let names = CustomerLinkPurpose.allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalidField("purpose", "purpose must be one of \(names).")
        }
        let needsConsentPurpose = purposeValue == .consent || purposeValue == .withdrawal
        var consent: ConsentPurpose?
        if let consentPurpose {
            guard needsConsentPurpose else {
                throw .invalidField("consent_purpose", "consent_purpose belongs to consent and withdrawal links only.")
            }
            guard let known = ConsentPurpose(rawValue: consentPurpose) else {
                throw .invalidField("consent_purpose", "consent_purpose must be credit_assessment or credit_line.")
            }
            consent = known
        } else if needsConsentPurpose {
            throw .invalidField("consent_purpose", "a \(purpose) link names one consent_purpose: one purpose a page, never bundled.")
        }
        try requireOnly(offerID, field: "offer_id", for: purposeValue == .offer, purpose: purpose)
        try requireOnly(decisionID, field: "decision_id", for: purposeValue == .activation, purpose: purpose)
        let localeValue = try NoticeLocale.parse(locale, field: "locale")
        let url = try returnURLChecked(returnURL, hosts: returnHosts)
        return CustomerLinkRequest(purpose: purposeValue, consentPurpose: consent, offerID: offerID, decisionID: decisionID,
                                   returnURL: url, locale: localeValue)
    }

    /// An id a purpose needs is present (1 to 64 visible ASCII characters); one it does not
    /// take is refused rather than ignored.
    static func requireOnly(_ id: String?, field: String, for needed: Bool, purpose: String) throws(DomainError) {
        switch (id, needed) {
        case (nil, true): throw .invalidField(field, "a \(purpose) link names its \(field).")
        case (.some, false): throw .invalidField(field, "\(field) does not belong to a \(purpose) link.")
        case (let id?, true):
            guard (1...64).contains(id.utf8.count), id.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
                throw .invalidField(field, "\(field) must be 1–64 visible ASCII characters.")
            }
        case (nil, false): break
        }
    }

    /// Where the result page sends the customer back: http or https, no credentials, on an
    /// allowed host; 422 naming `return_url` otherwise.
    static func returnURLChecked(_ text: String, hosts: [String]) throws(DomainError) -> URL {
        let (url, host) = try WebhookRules.outgoingURL(text, field: "return_url", why: "the page links to it for anyone to follow")
        guard WebhookRules.isAllowed(host: host, hosts) else {
            throw .invalidField("return_url", hosts.isEmpty ? "return_url must be on this machine (customer_return_hosts is empty)."
                                    : "return_url's host is not in customer_return_hosts.")
        }
        return url
    }
}
