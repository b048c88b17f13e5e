import CreditLine
import Foundation
import GRDB

/// Hands a calling service a link to one of the customer's own pages (README "The customer's own
/// pages"). The token is made by the caller of this write and only its SHA-256 is stored.
public struct IssueCustomerLink: BusinessWrite {
    public var accountID: String
    public var request: CustomerLinkRequest
    public var tokenSHA256: String

    public init(accountID: String, request: CustomerLinkRequest, tokenSHA256: String) {
        (self.accountID, self.request, self.tokenSHA256) = (accountID, request, tokenSHA256)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (CustomerLink, [AuditRecord]) {
        let account = try Existence.require(try Store.fetchAccount(db, id: accountID), "account")
        // A withdrawal is always possible (PIPL Art. 15), a closed line's consents too; nothing
        // else is left to do on a closed account.
        if request.purpose != .withdrawal {
            _ = try AccountStatus.requireOpen(account.status, "A closed account has no pages to act on but a withdrawal.")
        }
        // What the page will act on is the account's own: another account's decision or offer is
        // as absent as one that does not exist.
        if let decisionID = request.decisionID {
            _ = try Existence.require(try Store.fetchDecision(db, id: decisionID).flatMap { $0.accountID == accountID ? $0 : nil },
                                      "decision")
        }
        if let offerID = request.offerID {
            _ = try Existence.require(try Store.fetchOffer(db, id: offerID).flatMap { $0.accountID == accountID ? $0 : nil },
                                      "offer")
        }
        if request.purpose == .consent, let purpose = request.consentPurpose {
            try CustomerLinkRules.checkIssue(request, lastDeclinedAt: try Store.lastDeclined(db, accountID: accountID, purpose: purpose),
                                             now: now)
        }
        let link = CustomerLink(id: Identifier.make("lnk"), accountID: accountID, request: request, createdAt: now,
                                expiresAt: now.adding(seconds: Int64(CustomerLinkRules.lifetimeSeconds)))
        try db.execute(
            cached: """
                INSERT INTO customer_links (id, token_sha256, account_id, purpose, consent_purpose, offer_id, decision_id,
                                            return_url, locale, created_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [link.id, tokenSHA256, accountID, request.purpose.rawValue, request.consentPurpose?.rawValue,
                        request.offerID, request.decisionID, request.returnURL.absoluteString, request.locale?.rawValue,
                        now.rfc3339, link.expiresAt.rfc3339])
        return (link, [AuditRecord(.fact(.customerLinkIssued(purpose: request.purpose, consentPurpose: request.consentPurpose,
                                                             expiresAt: link.expiresAt)),
                                   accountID: accountID, subjectID: link.id)])
    }
}

/// A page shown: the time is kept for the evidence of its action. Opening a link does not use
/// it, and a used link is not touched.
public struct ShowCustomerLink: BusinessWrite {
    public var linkID: String

    public init(linkID: String) { self.linkID = linkID }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (Timestamp, [AuditRecord]) {
        try db.execute(cached: "UPDATE customer_links SET shown_at = ? WHERE id = ? AND used_at IS NULL",
                       arguments: [now.rfc3339, linkID])
        return (now, [])
    }
}

/// A page's one action: `inner` is the same business write the API runs, and the link is used
/// in the same transaction, so an action that is refused leaves the link usable, and two
/// submissions of one page act once (the second finds the link used: 410).
public struct ActOnCustomerLink<Inner: BusinessWrite>: BusinessWrite {
    public var linkID: String
    public var page: PageEvidence
    public var inner: Inner
    /// What the action did and to which record, for the link's row and its audit entry.
    public var outcome: @Sendable (Inner.Output) -> (outcome: String, recordID: String)

    public init(linkID: String, page: PageEvidence, inner: Inner,
                outcome: @escaping @Sendable (Inner.Output) -> (outcome: String, recordID: String))
    {
        (self.linkID, self.page, self.inner, self.outcome) = (linkID, page, inner, outcome)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (Inner.Output, [AuditRecord]) {
        let link = try Existence.require(try Store.fetchCustomerLink(db, id: linkID), "link")
        try link.requireUsable(at: now)
        let (output, records) = try inner.apply(db, now: now)
        let (outcome, recordID) = outcome(output)
        try db.execute(
            cached: """
                UPDATE customer_links SET used_at = ?, outcome = ?, subject_id = ?, used_locale = ?, page_sha256 = ?
                WHERE id = ? AND used_at IS NULL
                """,
            arguments: [now.rfc3339, outcome, recordID, page.locale.rawValue, page.pageSHA256, linkID])
        return (output, records + [AuditRecord(.fact(.customerLinkUsed(
            purpose: link.request.purpose, outcome: outcome, recordID: recordID, locale: page.locale,
            pageSHA256: page.pageSHA256)), accountID: link.accountID, subjectID: linkID)])
    }
}

/// What a customer's page shows, read in one transaction: the link, its account, the account's
/// consents, and the decision or offer the link names.
public struct CustomerPageFacts: Sendable {
    public var link: CustomerLink
    public var account: Account
    public var consents: [Consent]
    public var decision: Decision?
    public var offer: LimitOffer?
    /// The latest affordability assessment, for the activation page's limit and repayment.
    public var affordability: AffordabilityAssessment?
}

extension Store {
    /// The page a token opens; nil for a token no link has.
    public func customerPage(token: String) async throws -> CustomerPageFacts? {
        let hash = Hashing.sha256Hex(Data(token.utf8))
        return try await read { db in
            guard let row = try StoreRow.fetchOne(
                db, cached: "SELECT \(Store.customerLinkColumns.list) FROM customer_links WHERE token_sha256 = ?",
                arguments: [hash]) else { return nil }
            let link = try Self.customerLink(from: row)
            guard let account = try Self.fetchAccount(db, id: link.accountID) else { return nil }
            return CustomerPageFacts(
                link: link, account: account, consents: try Self.fetchConsents(db, accountID: account.id),
                decision: try link.request.decisionID.flatMap { try Self.fetchDecision(db, id: $0) },
                offer: try link.request.offerID.flatMap { try Self.fetchOffer(db, id: $0) },
                affordability: try Self.latestAffordability(db, accountID: account.id))
        }
    }

    static func fetchCustomerLink(_ db: SQLConnection, id: String) throws -> CustomerLink? {
        try StoreRow.fetchOne(db, cached: "SELECT \(Store.customerLinkColumns.list) FROM customer_links WHERE id = ?",
                              arguments: [id]).map(customerLink(from:))
    }

    static func customerLink(from row: StoreRow) throws -> CustomerLink {
        var read = ColumnReader(row, table: "customer_links")
        let (id, accountID): (String, String) = (try read("id"), try read("account_id"))
        let returnText: String = try read("return_url")
        guard let returnURL = URL(string: returnText) else {
            throw StoreError.unreadableRow(table: "customer_links", column: "return_url", id: id)
        }
        let request = CustomerLinkRequest(
            purpose: try read.value("purpose"), consentPurpose: try read.optionalValue("consent_purpose"),
            offerID: try read("offer_id"), decisionID: try read("decision_id"), returnURL: returnURL,
            locale: try read.optionalValue("locale"))
        return CustomerLink(id: id, accountID: accountID, request: request, createdAt: try read.timestamp("created_at"),
                            expiresAt: try read.timestamp("expires_at"), shownAt: try read.optionalTimestamp("shown_at"),
                            usedAt: try read.optionalTimestamp("used_at"), outcome: try read("outcome"))
    }

    static let customerLinkColumns = TableColumns("customer_links", """
        id, account_id, return_url, purpose, consent_purpose, offer_id, decision_id, locale, created_at, expires_at,
        shown_at, used_at, outcome
        """)
}
