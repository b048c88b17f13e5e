/// The states of a credit line account (README "Accounts").
public enum AccountStatus: String, Sendable, Codable, CaseIterable {
    case prospect
    case pendingReview = "pending_review"
    case active
    case frozen
    case declined
    case closed
    /// Written off after more than 90 days past due (README "The line in use"); final, and
    /// repayments go on.
    case chargedOff = "charged_off"

    /// Closed or charged off: nothing more is opened, scored or consented to.
    public var isFinal: Bool { self == .closed || self == .chargedOff }
}

extension AccountStatus {
    /// The account must exist and not be closed: a closed account is scored and consents to
    /// nothing more; `refusal` says which of those was asked.
    public static func requireOpen(_ status: AccountStatus?, _ refusal: String) throws(DomainError) -> AccountStatus {
        let status = try Existence.require(status, "account")
        guard !status.isFinal else { throw DomainError(.conflict, code: .accountClosed, refusal) }
        return status
    }
}

/// A credit line account. Money is integer fen, never floating point.
public struct Account: Sendable, Equatable {
    public var id: String
    /// The lender the account belongs to; never changes.
    public var tenant: String
    /// Pseudonymous reference chosen by the calling service (PIPL Art. 6: no more data than the purpose needs).
    public var customerRef: String
    public var status: AccountStatus
    public var creditLimit: Int
    public var currency: String
    public var limitIncreaseOptOut: Bool
    /// Bumped on every change; the API's ETag.
    public var version: Int
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    /// Set at activation: the accepted terms version and the tier's terms.
    public var termsVersion: String? = nil
    public var terms: Terms.TierTerms? = nil
    public var tier: Tier? = nil
    public var consentID: String? = nil
    public var decisionID: String? = nil
    public var declinedAt: Timestamp? = nil
    public var lastIncreaseAt: Timestamp? = nil
    /// When the line first opened: the cooling-off period runs from here.
    public var activatedAt: Timestamp? = nil
    /// Outstanding principal and fees, kept equal to the instalments' sums by every ledger write.
    public var balance: Int = 0
    public var feesOutstanding: Int = 0
    /// Money the customer is owed back from refunds (README "Refunds and the credit balance"):
    /// positive only while nothing is owed, since it pays whatever comes due.
    public var creditBalance: Int = 0
    /// Where the customer lives, for the hours reminders are written in (README "Payment reminders").
    public var timeZone: String = ReminderRules.defaultTimeZone
    /// The channels the customer allows reminders on; nil: not restricted.
    public var reminderChannels: [String]? = nil
    /// The due date of the oldest instalment not fully paid; nil when nothing is owed.
    public var oldestUnpaidDue: CivilDate? = nil
    /// The bucket last recorded in the audit log; the live bucket is `delinquency(on:)`.
    public var recordedDelinquency: Delinquency = .current
    /// While a hardship plan is in force: the delinquency when it was approved, which the line's
    /// is never worse than (README "Hardship plans").
    public var delinquencyCap: Delinquency? = nil
    /// The language of the customer's notices.
    /// Why the line has its limit, as last set (README "Ability to repay"); nil before any.
    public var limitBasis: LimitBasis? = nil
    public var locale: NoticeLocale = .customerDefault

    public init(id: String, tenant: String = Tenant.defaultName, customerRef: String, status: AccountStatus = .prospect,
                creditLimit: Int = 0,
                currency: String = "CNY", limitIncreaseOptOut: Bool = false, version: Int = 1,
                createdAt: Timestamp, updatedAt: Timestamp)
    {
        self.id = id
        self.tenant = tenant
        self.customerRef = customerRef
        self.status = status
        self.creditLimit = creditLimit
        self.currency = currency
        self.limitIncreaseOptOut = limitIncreaseOptOut
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

extension Account {
    /// max(0, limit − balance).
    public var availableCredit: Int { DrawRules.availableCredit(limit: creditLimit, balance: balance) }

    public func daysPastDue(on today: CivilDate) -> Int {
        Delinquency.daysPastDue(oldestUnpaidDue: oldestUnpaidDue, today: today)
    }

    public func delinquency(on today: CivilDate) -> Delinquency {
        HardshipRules.delinquency(live: Delinquency(daysPastDue: daysPastDue(on: today)), atApproval: delinquencyCap)
    }

    /// What the line owes, as its instalments add up.
    public var position: LedgerPosition {
        LedgerPosition(balance: balance, feesOutstanding: feesOutstanding, oldestUnpaidDue: oldestUnpaidDue)
    }
}

/// The rules for a `customer_ref`: a pseudonymous handle, never personal data.
public enum CustomerRef {
    public static let maxLength = Reference.maxLength

    public static func validate(_ value: String) throws(DomainError) -> String {
        try Reference.validate(value, field: "customer_ref")
    }
}

/// A calling service's own handle for something (`customer_ref`, `merchant_ref`): an opaque
/// reference, never personal data.
public enum Reference {
    public static let maxLength = 64

    /// Refuses identifier-shaped values first (422 `pii-not-allowed`: a resident ID, a mobile
    /// number or an e-mail address), then anything but 1–64 characters of `[A-Za-z0-9_.:-]`.
    public static func validate(_ value: String, field: String) throws(DomainError) -> String {
        try PersonalData.refuse(in: value, field: field)
        guard !value.isEmpty, value.utf8.count <= maxLength,
            value.utf8.allSatisfy({ isAllowed($0) })
        else {
            throw .invalidField(field, "\(field) must be 1–64 characters of A-Z, a-z, 0-9, '_', '.', ':' or '-'.")
        }
        return value
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"),
            UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}
