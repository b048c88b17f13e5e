/// The states of a credit line account (README "Accounts").
public enum AccountStatus: String, Sendable, Codable, CaseIterable {
    case prospect
    case pendingReview = "pending_review"
    case active
    case frozen
    case declined
    case closed
}

extension AccountStatus {
    /// The account must exist and not be closed: a closed account is scored and consents to
    /// nothing more; `refusal` says which of those was asked.
    public static func requireOpen(_ status: AccountStatus?, _ refusal: String) throws(DomainError) -> AccountStatus {
        let status = try Existence.require(status, "account")
        guard status != .closed else { throw DomainError(.conflict, code: "account-closed", refusal) }
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

/// The rules for a `customer_ref`: a pseudonymous handle, never personal data.
public enum CustomerRef {
    public static let maxLength = 64

    /// Refuses identifier-shaped values first (422 `pii-not-allowed`: a resident ID, a mobile
    /// number or an e-mail address), then anything but 1–64 characters of `[A-Za-z0-9_.:-]`.
    public static func validate(_ value: String) throws(DomainError) -> String {
        try PersonalData.refuse(in: value, field: "customer_ref")
        guard !value.isEmpty, value.utf8.count <= maxLength,
            value.utf8.allSatisfy({ isAllowed($0) })
        else {
            throw .invalidField("customer_ref", "customer_ref must be 1–64 characters of A-Z, a-z, 0-9, '_', '.', ':' or '-'.")
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
