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
    public var grant: ConsentRules.Grant

    public init(accountID: String, grant: ConsentRules.Grant) {
        self.accountID = accountID
        self.grant = grant
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (Consent, [AuditRecord]) {
        let account = try Store.fetchAccount(db, id: accountID)
        var records: [AuditRecord] = []
        if account != nil { records = try ExpireConsents.expire(db, now: now, accountID: accountID) }
        let active = try Store.fetchConsents(db, accountID: accountID).first {
            $0.purpose == grant.purpose && $0.storedStatus == .active
        }
        try ConsentRules.checkGrant(grant, accountStatus: account?.status, activeConsentID: active?.id)
        let consent = Consent(
            id: Identifier.make("con"), accountID: accountID, purpose: grant.purpose, noticeVersion: grant.noticeVersion,
            noticeSHA256: grant.noticeSHA256, channel: grant.channel, method: grant.method, evidence: grant.evidence,
            storedStatus: .active, grantedAt: now, expiresAt: grant.expiresAt)
        try db.execute(
            cached: """
                INSERT INTO consents (id, account_id, purpose, notice_version, notice_sha256, channel, method, evidence,
                                      status, granted_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)
                """,
            arguments: [consent.id, accountID, grant.purpose.rawValue, grant.noticeVersion, grant.noticeSHA256,
                        grant.channel.rawValue, grant.method.rawValue, grant.evidence, now.rfc3339,
                        grant.expiresAt.rfc3339])
        // Evidence is free text and stays out of the immutable log.
        records.append(AuditRecord(.fact(.consentGranted(
            purpose: grant.purpose, noticeVersion: grant.noticeVersion, noticeSHA256: grant.noticeSHA256,
            channel: grant.channel, method: grant.method, expiresAt: grant.expiresAt)), accountID: accountID, subjectID: consent.id))
        return (consent, records)
    }
}

/// Withdraws a consent and applies its effects in the same transaction (PIPL Art. 15). Always
/// accepted for an active consent; a second withdrawal changes nothing and answers the same.
public struct WithdrawConsent: BusinessWrite {
    public var consentID: String
    public var channel: ConsentChannel
    public var reason: String?

    public init(consentID: String, channel: ConsentChannel, reason: String?) {
        self.consentID = consentID
        self.channel = channel
        self.reason = reason
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
        try fetchConsents(db, accountID: accountID).contains { $0.purpose == purpose && $0.isActive(at: now) }
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
        return Consent(
            id: try read("id"), accountID: try read("account_id"), purpose: try read.value("purpose"),
            noticeVersion: try read("notice_version"), noticeSHA256: try read("notice_sha256"), channel: try read.value("channel"),
            method: try read.value("method"), evidence: try read("evidence"), storedStatus: try read.value("status"),
            grantedAt: try read.timestamp("granted_at"), expiresAt: try read.timestamp("expires_at"),
            withdrawnAt: try read.optionalTimestamp("withdrawn_at"),
            withdrawalChannel: try read.optionalValue("withdrawal_channel"))
    }

    static let consentColumns = TableColumns("consents", """
        id, account_id, purpose, notice_version, notice_sha256, channel, method, evidence, status, granted_at,
        expires_at, withdrawn_at, withdrawal_channel
        """)
}
