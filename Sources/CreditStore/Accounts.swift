import CreditLine
import Foundation
import GRDB

/// Opens an account in `prospect`, or returns the one of this tenant that already has this
/// `customer_ref` (a retried create must never make a second account; another tenant's customer
/// with the same reference is another person).
public struct CreateAccount: BusinessWrite {
    public var customerRef: String
    public var tenant: String
    public var locale: NoticeLocale
    /// The chain the account goes to, placed before the write runs (`place(accountChains:)`);
    /// nil places it when it runs.
    var chain: Int?

    public init(customerRef: String, tenant: String = Tenant.defaultName, locale: NoticeLocale = .customerDefault) {
        self.customerRef = customerRef
        self.tenant = tenant
        self.locale = locale
    }

    /// By its tenant and reference, not its id: two creations of one reference go to one chain,
    /// whose lock orders them, so the second finds the first.
    public mutating func place(accountChains: Int) -> Int? {
        chain = placement(accountChains)
        return chain
    }

    private func placement(_ accountChains: Int) -> Int {
        AuditChains.chain(forNewAccount: tenant + "\u{0}" + customerRef, accountChains: accountChains)
    }

    /// A held account's key by its reference (`SQLConnection.heldRow`).
    static func referenceKey(_ tenant: String, _ customerRef: String) -> String { "ref\u{0}\(tenant)\u{0}\(customerRef)" }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> ((account: Account, created: Bool), [AuditRecord]) {
        // A second account of the same reference in one batch must find the first even while
        // its row is held; any other reference reads beside what is held.
        let found = try db.rowsBesideHeld(Store.fetchAccountByReferenceSQL, [tenant, customerRef],
                                          unless: Self.referenceKey(tenant, customerRef)).first.map(Store.account(from:))
        if let existing = found {
            return ((existing, false), [])
        }
        var account = Account(id: Identifier.make("acc"), tenant: tenant, customerRef: customerRef, createdAt: now,
                              updatedAt: now)
        account.locale = locale
        let chain = try chain ?? placement(try AuditChain.accountChainCount(db))
        // Held on PostgreSQL (`SQLConnection.enqueue`): a second account of the same reference,
        // racing in from another instance, still fails its unique key when the insert is sent.
        try db.enqueue(
            cached: """
                INSERT INTO accounts (id, tenant, customer_ref, status, credit_limit, currency, limit_increase_opt_out,
                                      version, created_at, updated_at, locale, audit_chain)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [account.id, tenant, account.customerRef, account.status.rawValue, account.creditLimit, account.currency,
                        account.limitIncreaseOptOut, account.version, now.rfc3339, now.rfc3339, locale.rawValue, chain],
            keys: [account.id, Self.referenceKey(tenant, account.customerRef)])
        db.accountTenants[account.id] = tenant
        db.accountChains[account.id] = chain
        // The customer_ref stays out of the audit log: it is the link to a person.
        return ((account, true), [AuditRecord(.fact(.accountCreated(status: account.status)), accountID: account.id,
                                              subjectID: account.id)])
    }
}

extension Store {
    public func account(id: String) async throws -> Account? {
        try await readStatement { db in try Self.fetchAccount(db, id: id) }
    }

    static func fetchAccount(_ db: SQLConnection, id: String) throws -> Account? {
        guard let row = try StoreRow.fetchOne(db, cached: fetchAccountSQL, arguments: [id]) else { return nil }
        let account = try account(from: row)
        db.accountTenants[account.id] = account.tenant
        db.accountChains[account.id] = try row["audit_chain"]
        return account
    }

    /// An account's status and whether a consent of `purpose` is active, in one statement (a
    /// round trip on PostgreSQL): nil and false when there is no such account.
    static func accountStatus(_ db: SQLConnection, id: String, consent purpose: ConsentPurpose, now: Timestamp) throws
        -> (AccountStatus?, Bool)
    {
        // Nothing held is a consent, and a held account is read here only by its id (a new
        // account's id is known to no other write before the commit): otherwise what is held
        // stays held (`SQLConnection.rowsBesideHeld`).
        let sql = """
            SELECT a.id, a.status, a.tenant, a.audit_chain, c.status AS consent_status, c.expires_at AS consent_expires_at
            FROM accounts a
            LEFT JOIN consents c ON c.account_id = a.id AND c.purpose = ? WHERE a.id = ?
            """
        let rows = try db.rowsBesideHeld(sql, [purpose.rawValue, id], unless: id)
        var status: AccountStatus?
        var consented = false
        for row in rows {
            var read = ColumnReader(row, table: "accounts")
            _ = try read("id") as String
            status = try read.value("status")
            db.accountTenants[id] = try read("tenant")
            db.accountChains[id] = try read("audit_chain")
            let consentStatus: ConsentStatus? = try read.optionalValue("consent_status")
            if let consentStatus, let expiresAt = try read.optionalTimestamp("consent_expires_at") {
                consented = consented || Consent.status(stored: consentStatus, expiresAt: expiresAt, at: now) == .active
            }
        }
        return (status, consented)
    }

    /// Built once: the statement cache finds it by its text on every call.
    private static let fetchAccountSQL = "SELECT \(accountColumns.list) FROM accounts WHERE id = ?"
    static let fetchAccountByReferenceSQL = "SELECT \(accountColumns.list) FROM accounts WHERE tenant = ? AND customer_ref = ?"

    static func fetchAccount(_ db: SQLConnection, customerRef: String, tenant: String) throws -> Account? {
        try StoreRow.fetchOne(db, cached: fetchAccountByReferenceSQL, arguments: [tenant, customerRef]).map(account(from:))
    }

    /// What an id in a path can name; each leads to one account and so to one tenant.
    public enum Subject: String, Sendable {
        case account, consent, decision, review, notice, event
        case webhookEndpoint = "webhook endpoint"
        case hardshipRequest = "hardship request"
        case bureauDispute = "bureau dispute"
    }

    /// The tenant of the account a subject belongs to; nil when there is no such subject.
    public func tenant(of subject: Subject, id: String) async throws -> String? {
        let sql: String
        switch subject {
        case .account: sql = "SELECT tenant FROM accounts WHERE id = ?"
        case .consent: sql = "SELECT a.tenant FROM consents c JOIN accounts a ON a.id = c.account_id WHERE c.id = ?"
        case .decision: sql = "SELECT a.tenant FROM decisions d JOIN accounts a ON a.id = d.account_id WHERE d.id = ?"
        case .review: sql = "SELECT a.tenant FROM reviews r JOIN accounts a ON a.id = r.account_id WHERE r.id = ?"
        case .notice: sql = "SELECT a.tenant FROM notices n JOIN accounts a ON a.id = n.account_id WHERE n.id = ?"
        case .event: sql = "SELECT tenant FROM events WHERE id = ?"
        case .hardshipRequest: sql = "SELECT a.tenant FROM hardship_requests h JOIN accounts a ON a.id = h.account_id WHERE h.id = ?"
        case .bureauDispute: sql = "SELECT a.tenant FROM bureau_disputes d JOIN accounts a ON a.id = d.account_id WHERE d.id = ?"
        // A deleted endpoint is gone for every caller.
        case .webhookEndpoint: sql = "SELECT tenant FROM webhook_endpoints WHERE id = ? AND deleted_at IS NULL"
        }
        return try await readStatement { db in try String.fetchOne(db, cached: sql, arguments: [id]) }
    }

    /// A tier's terms and a customer's channels: a handful of texts across every line.
    private static let repeatedTerms = RepeatedJSON<Terms.TierTerms>()
    private static let repeatedChannels = RepeatedJSON<[String]>()

    static func account(from row: StoreRow) throws -> Account {
        var read = ColumnReader(row, table: "accounts")
        var account = Account(
            id: try read("id"), tenant: try read("tenant"), customerRef: try read("customer_ref"), status: try read.value("status"),
            creditLimit: try read("credit_limit"), currency: try read("currency"),
            limitIncreaseOptOut: try read("limit_increase_opt_out"), version: try read("version"),
            createdAt: try read.timestamp("created_at"), updatedAt: try read.timestamp("updated_at"))
        account.termsVersion = try read("terms_version")
        account.terms = try read.optionalJSON("terms", from: repeatedTerms)
        account.tier = try read.optionalValue("tier")
        account.consentID = try read("consent_id")
        account.decisionID = try read("decision_id")
        account.declinedAt = try read.optionalTimestamp("declined_at")
        account.lastIncreaseAt = try read.optionalTimestamp("last_increase_at")
        account.activatedAt = try read.optionalTimestamp("activated_at")
        account.balance = try read("balance")
        account.feesOutstanding = try read("fees_outstanding")
        account.oldestUnpaidDue = try read.optionalDate("oldest_unpaid_due")
        account.recordedDelinquency = try read.value("delinquency")
        account.locale = try read.value("locale")
        account.limitBasis = try read.optionalJSON("limit_basis", as: LimitBasis.self)
        account.delinquencyCap = try read.optionalValue("delinquency_cap")
        account.creditBalance = try read("credit_balance")
        account.timeZone = try read("time_zone")
        account.reminderChannels = try read.optionalJSON("reminder_channels", from: repeatedChannels)
        return account
    }

    static let accountColumns = TableColumns("accounts", """
        id, tenant, customer_ref, status, credit_limit, currency, limit_increase_opt_out, version, created_at, updated_at,
        terms_version, terms, tier, consent_id, decision_id, declined_at, last_increase_at, activated_at, balance,
        fees_outstanding, oldest_unpaid_due, delinquency, locale, limit_basis, delinquency_cap, credit_balance,
        time_zone, reminder_channels, audit_chain
        """)

    /// Writes every mutable field of an account, bumping its version (the ETag) and `updated_at`.
    static func save(_ db: SQLConnection, _ account: Account, now: Timestamp) throws -> Account {
        var saved = account
        saved.version += 1
        saved.updatedAt = now
        let terms = try saved.terms.map(StoredJSON.text)
        let basis = try saved.limitBasis.map(StoredJSON.text)
        try db.execute(
            cached: """
                UPDATE accounts SET status = ?, credit_limit = ?, limit_increase_opt_out = ?, version = ?, updated_at = ?,
                    terms_version = ?, terms = ?, tier = ?, consent_id = ?, decision_id = ?, declined_at = ?,
                    last_increase_at = ?, activated_at = ?, balance = ?, fees_outstanding = ?, oldest_unpaid_due = ?,
                    delinquency = ?, locale = ?, limit_basis = ?, delinquency_cap = ?, credit_balance = ?,
                    time_zone = ?, reminder_channels = ?
                WHERE id = ?
                """,
            arguments: [saved.status.rawValue, saved.creditLimit, saved.limitIncreaseOptOut, saved.version, now.rfc3339,
                        saved.termsVersion, terms, saved.tier?.rawValue, saved.consentID, saved.decisionID,
                        saved.declinedAt?.rfc3339, saved.lastIncreaseAt?.rfc3339, saved.activatedAt?.rfc3339,
                        saved.balance, saved.feesOutstanding, saved.oldestUnpaidDue?.description,
                        saved.recordedDelinquency.rawValue, saved.locale.rawValue, basis, saved.delinquencyCap?.rawValue,
                        saved.creditBalance, saved.timeZone, try saved.reminderChannels.map(StoredJSON.text), saved.id])
        return saved
    }
}
