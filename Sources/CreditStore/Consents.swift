import CreditLine
import Foundation
import GRDB

/// A withdrawal's outcome: the consent as it now stands and what changed.
public struct WithdrawalOutcome: Sendable, Equatable {
    public var consent: Consent
    public var effects: [WithdrawalEffect]
    public var account: Account
}

/// Records a consent after the domain rules accepted the request.
public struct GrantConsent: BusinessWrite {
    public var accountID: String
    /// Its rule reads and changes this account's rows alone (`BusinessWrite.chainAccountID`).
    public var chainAccountID: String? { accountID }
    public var grant: ConsentRules.Grant
    /// Given on the customer's own page: what the page recorded (channel `hosted`).
    public var page: PageEvidence?

    public init(accountID: String, grant: ConsentRules.Grant, page: PageEvidence? = nil) {
        self.accountID = accountID
        self.grant = grant
        self.page = page
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (Consent, [AuditRecord]) {
        var records = try Store.prepareAnswer(db, accountID: accountID, grant, now: now)
        let consent = try Store.insertConsent(db, accountID: accountID, grant, status: .active, page: page, now: now)
        // Evidence is free text and stays out of the immutable log.
        records.append(AuditRecord(.fact(.consentGranted(
            purpose: grant.purpose, noticeVersion: grant.noticeVersion, noticeSHA256: grant.noticeSHA256,
            channel: grant.channel, method: grant.method, expiresAt: grant.expiresAt)), accountID: accountID, subjectID: consent.id))
        return (consent, records)
    }
}

/// The customer's "no, thank you" on their own page: a consent record with status `declined`
/// that grants nothing, so the refusal is proven as an agreement would be, and a consent link
/// for the purpose is held back for 30 days (`CustomerLinkRules.recentDeclineDays`).
public struct DeclineConsent: BusinessWrite {
    public var accountID: String
    public var grant: ConsentRules.Grant
    public var page: PageEvidence

    public init(accountID: String, grant: ConsentRules.Grant, page: PageEvidence) {
        (self.accountID, self.grant, self.page) = (accountID, grant, page)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (Consent, [AuditRecord]) {
        // A refusal beside a consent in force would leave two answers to one question.
        var records = try Store.prepareAnswer(db, accountID: accountID, grant, now: now)
        var declined = grant
        declined.expiresAt = now
        let consent = try Store.insertConsent(db, accountID: accountID, declined, status: .declined, page: page, now: now)
        records.append(AuditRecord(.fact(.consentDeclined(
            purpose: grant.purpose, noticeVersion: grant.noticeVersion, noticeSHA256: grant.noticeSHA256)),
            accountID: accountID, subjectID: consent.id))
        return (consent, records)
    }
}

/// Withdraws a consent and applies its effects in the same transaction (PIPL Art. 15). Always
/// accepted for an active consent; a second withdrawal changes nothing and answers the same.
public struct WithdrawConsent: BusinessWrite {
    public var consentID: String
    public var channel: ConsentChannel
    public var reason: String?
    /// Withdrawn on the customer's own page: what they were shown, recorded as for a cancellation.
    public var confirmation: CustomerConfirmation?

    public init(consentID: String, channel: ConsentChannel, reason: String?, confirmation: CustomerConfirmation? = nil) {
        (self.consentID, self.channel, self.reason, self.confirmation) = (consentID, channel, reason, confirmation)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (WithdrawalOutcome, [AuditRecord]) {
        var consent = try Existence.require(try Store.fetchConsent(db, id: consentID), "consent")
        var account = try Existence.require(try Store.fetchAccount(db, id: consent.accountID), "account")
        var records = try ExpireConsents.expire(db, now: now, accountID: consent.accountID)
        consent = try Store.fetchConsent(db, id: consentID) ?? consent
        // The expiry above may have changed the account (a lapsed consent's freeze).
        account = try Store.fetchAccount(db, id: consent.accountID) ?? account
        // An expired consent's effects were applied when it lapsed; one that lapsed before that
        // rule existed is brought up to date by its withdrawal (PIPL Art. 47: the inputs go).
        guard consent.storedStatus == .active else {
            guard consent.storedStatus == .expired else {
                return (WithdrawalOutcome(consent: consent, effects: [], account: account), records)
            }
            let (effects, ended, more) = try Store.applyConsentEnd(db, consent, account: account, cause: .consentExpiry,
                                                                   now: now)
            return (WithdrawalOutcome(consent: consent, effects: effects, account: ended), records + more)
        }
        try db.execute(
            cached: """
                UPDATE consents SET status = 'withdrawn', withdrawn_at = ?, withdrawal_channel = ?, withdrawal_reason = ?
                WHERE id = ?
                """,
            arguments: [now.rfc3339, channel.rawValue, reason, consent.id])
        consent.storedStatus = .withdrawn
        consent.withdrawnAt = now
        consent.withdrawalChannel = channel
        _ = try Store.recordConfirmation(db, accountID: consent.accountID, subjectID: consent.id, confirmation, now: now)
        let (effects, ended, more) = try Store.applyConsentEnd(db, consent, account: account, cause: .consentWithdrawal,
                                                               now: now)
        account = ended
        records.append(AuditRecord(.consentEnded(ConsentEnded(purpose: consent.purpose, how: .withdrawn(channel: channel),
                                                              effects: effects)),
                                   accountID: account.id, subjectID: consent.id))
        return (WithdrawalOutcome(consent: consent, effects: effects, account: account), records + more)
    }
}

extension Store {
    /// What the end of a consent does, whether withdrawn or lapsed (README "Consent", "Data
    /// governance"): scoring inputs erased, an open activation review cancelled, an active line
    /// frozen, decided by `ConsentWithdrawalRules` and applied here in the caller's
    /// transaction, with the account's audit entry. Nothing when another consent of the same
    /// purpose is in force.
    static func applyConsentEnd(_ db: SQLConnection, _ consent: Consent, account: Account, cause: AccountTransitionCause,
                                now: Timestamp) throws -> ([WithdrawalEffect], Account, [AuditRecord])
    {
        var account = account
        let others = try fetchConsents(db, accountID: account.id).filter {
            $0.id != consent.id && $0.purpose == consent.purpose && $0.isActive(at: now)
        }
        guard others.isEmpty else { return ([], account, []) }
        let storedInputs = try Int.fetchOne(
            db, cached: "SELECT COUNT(*) FROM decisions WHERE account_id = ? AND inputs IS NOT NULL",
            arguments: [account.id]) ?? 0
        let (effects, newStatus) = ConsentWithdrawalRules.effects(
            purpose: consent.purpose, accountStatus: account.status, storedInputs: storedInputs)
        if effects.contains(where: \.erasesScoringInputs) {
            try db.execute(cached: "UPDATE decisions SET inputs = NULL WHERE account_id = ? AND inputs IS NOT NULL",
                           arguments: [account.id])
            // The income and obligations were given for the same assessment, and go with it.
            _ = try eraseAffordability(db, accountID: account.id, now: now)
        }
        if effects.contains(.reviewCancelled) {
            // Without the credit_line consent there is nothing left for the reviewer to decide.
            try db.execute(
                cached: "UPDATE reviews SET status = 'cancelled', resolved_at = ? WHERE account_id = ? AND kind = 'activation' AND status = 'open'",
                arguments: [now.rfc3339, account.id])
        }
        var records: [AuditRecord] = []
        if let newStatus {
            let from = account.status
            let actor: TransitionActor = cause == .consentWithdrawal ? .service : .system
            account.status = try AccountStateMachine.transition(from: from, to: newStatus, cause: cause, actor: actor)
            account = try save(db, account, now: now)
            if newStatus == .frozen {
                records.append(AuditRecord(.accountTransitioned(AccountTransitioned(
                    action: .accountFrozen, from: from, to: newStatus, cause: cause, reason: .consentEnd)),
                    accountID: account.id, subjectID: account.id))
            }
        }
        return (effects, account, records)
    }
}

/// Records the expiry of consents past their date: each becomes `expired` with its audit entry.
public struct ExpireConsents: BusinessWrite {
    public init() {}

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (Int, [AuditRecord]) {
        let records = try Self.expire(db, now: now, accountID: nil)
        return (records.count, records)
    }

    static func expire(_ db: SQLConnection, now: Timestamp, accountID: String?) throws -> [AuditRecord] {
        let rows = try StoreRow.fetchAll(db, cached: """
            SELECT id, account_id, purpose FROM consents
            WHERE status = 'active' AND expires_at <= ?1 AND (CAST(?2 AS TEXT) IS NULL OR account_id = ?2)
            ORDER BY expires_at, id
            """, arguments: [now.rfc3339, accountID])
        var records: [AuditRecord] = []
        for row in rows {
            let id: String = try row["id"]
            try db.execute(cached: "UPDATE consents SET status = 'expired' WHERE id = ?", arguments: [id])
            // A consent that lapses ends as a withdrawal does, in this same transaction.
            guard var consent = try Store.fetchConsent(db, id: id),
                  let account = try Store.fetchAccount(db, id: consent.accountID) else { continue }
            consent.storedStatus = .expired
            let (effects, _, more) = try Store.applyConsentEnd(db, consent, account: account, cause: .consentExpiry, now: now)
            records.append(AuditRecord(.consentEnded(ConsentEnded(purpose: consent.purpose, how: .expired, effects: effects)),
                                       accountID: consent.accountID, subjectID: id))
            records += more
        }
        return records
    }
}

extension Store {
    public func consent(id: String) async throws -> Consent? {
        try await read { db in try Self.fetchConsent(db, id: id) }
    }

    /// The account's consents, oldest first; nil when the account does not exist.
    public func consents(accountID: String) async throws -> [Consent]? {
        try await read { db in
            guard try Self.fetchAccount(db, id: accountID) != nil else { return nil }
            return try Self.fetchConsents(db, accountID: accountID)
        }
    }

    /// True when the account has a consent for `purpose` in force at `now`.
    static func hasActiveConsent(_ db: SQLConnection, accountID: String, purpose: ConsentPurpose, now: Timestamp) throws -> Bool {
        // Only the two columns the rule reads, of the one purpose (an index covers the search):
        // every score and draw asks this, some twice.
        try StoreRow.fetchAll(
            db, cached: "SELECT id, status, expires_at FROM consents WHERE account_id = ? AND purpose = ?",
            arguments: [accountID, purpose.rawValue]
        ).contains { row in
            var read = ColumnReader(row, table: "consents")
            _ = try read("id") as String
            return Consent.status(stored: try read.value("status"), expiresAt: try read.timestamp("expires_at"), at: now) == .active
        }
    }

    /// Before a customer's answer (a grant or a refusal) is recorded: the account's lapsed consents
    /// expired, then the rules asked (an open account, no consent of the purpose in force).
    static func prepareAnswer(_ db: SQLConnection, accountID: String, _ grant: ConsentRules.Grant, now: Timestamp) throws
        -> [AuditRecord]
    {
        let account = try fetchAccount(db, id: accountID)
        var records: [AuditRecord] = []
        if account != nil { records = try ExpireConsents.expire(db, now: now, accountID: accountID) }
        let active = try fetchConsents(db, accountID: accountID).first {
            $0.purpose == grant.purpose && $0.storedStatus == .active
        }
        try ConsentRules.checkGrant(grant, accountStatus: account?.status, activeConsentID: active?.id)
        return records
    }

    /// A consent row as granted or declined; a page's evidence in its own columns.
    static func insertConsent(_ db: SQLConnection, accountID: String, _ grant: ConsentRules.Grant, status: ConsentStatus,
                              page: PageEvidence?, now: Timestamp) throws -> Consent
    {
        let channel = page == nil ? grant.channel : .hosted
        let consent = Consent(
            id: Identifier.make("con"), accountID: accountID, purpose: grant.purpose, noticeVersion: grant.noticeVersion,
            noticeSHA256: grant.noticeSHA256, channel: channel, method: grant.method, evidence: grant.evidence,
            storedStatus: status, grantedAt: now, expiresAt: grant.expiresAt, pageEvidence: page)
        try db.execute(
            cached: """
                INSERT INTO consents (id, account_id, purpose, notice_version, notice_sha256, channel, method, evidence,
                                      status, granted_at, expires_at, link_id, notice_locale, page_sha256, shown_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [consent.id, accountID, grant.purpose.rawValue, grant.noticeVersion, grant.noticeSHA256,
                        channel.rawValue, grant.method.rawValue, grant.evidence, status.rawValue, now.rfc3339,
                        grant.expiresAt.rfc3339, page?.linkID, page?.locale.rawValue, page?.pageSHA256,
                        page?.shownAt.rfc3339])
        return consent
    }

    /// When the customer last declined `purpose` on a page, if ever.
    static func lastDeclined(_ db: SQLConnection, accountID: String, purpose: ConsentPurpose) throws -> Timestamp? {
        try String.fetchOne(
            db, cached: "SELECT MAX(granted_at) FROM consents WHERE account_id = ? AND purpose = ? AND status = 'declined'",
            arguments: [accountID, purpose.rawValue]).flatMap(Timestamp.init(rfc3339:))
    }

    static func fetchConsent(_ db: SQLConnection, id: String) throws -> Consent? {
        try StoreRow.fetchOne(db, cached: "SELECT \(Store.consentColumns.list) FROM consents WHERE id = ?", arguments: [id]).map(consent(from:))
    }

    static func fetchConsents(_ db: SQLConnection, accountID: String) throws -> [Consent] {
        try StoreRow.fetchAll(db, cached: "SELECT \(Store.consentColumns.list) FROM consents WHERE account_id = ? ORDER BY granted_at, id",
                         arguments: [accountID]).map(consent(from:))
    }

    static func consent(from row: StoreRow) throws -> Consent {
        var read = ColumnReader(row, table: "consents")
        var consent = Consent(
            id: try read("id"), accountID: try read("account_id"), purpose: try read.value("purpose"),
            noticeVersion: try read("notice_version"), noticeSHA256: try read("notice_sha256"), channel: try read.value("channel"),
            method: try read.value("method"), evidence: try read("evidence"), storedStatus: try read.value("status"),
            grantedAt: try read.timestamp("granted_at"), expiresAt: try read.timestamp("expires_at"),
            withdrawnAt: try read.optionalTimestamp("withdrawn_at"),
            withdrawalChannel: try read.optionalValue("withdrawal_channel"))
        let (linkID, locale): (String?, NoticeLocale?) = (try read("link_id"), try read.optionalValue("notice_locale"))
        let (pageSHA256, shownAt): (String?, Timestamp?) = (try read("page_sha256"), try read.optionalTimestamp("shown_at"))
        // A hosted row with part of its evidence missing reads without it (its receipt's evidence
        // is null), and the compliance report names it.
        if let linkID, let locale, let pageSHA256, let shownAt {
            consent.pageEvidence = PageEvidence(linkID: linkID, locale: locale, pageSHA256: pageSHA256, shownAt: shownAt)
        }
        return consent
    }

    static let consentColumns = TableColumns("consents", """
        id, account_id, purpose, notice_version, notice_sha256, channel, method, evidence, status, granted_at,
        expires_at, withdrawn_at, withdrawal_channel, link_id, notice_locale, page_sha256, shown_at
        """)
}
