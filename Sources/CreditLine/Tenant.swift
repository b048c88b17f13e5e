/// A lender using the service: every account belongs to one, and a key acts for one or, for
/// operators and auditors, for all of them (README "Tenants").
public enum Tenant {
    /// What a key or account belongs to when nobody said otherwise: one tenant per installation
    /// keeps single-lender setups as they were.
    public static let defaultName = "default"

    /// 1–32 characters of `a-z 0-9 - _`: a name an operator types, never a customer's data.
    public static func validate(_ name: String) throws(DomainError) -> String {
        guard (1...32).contains(name.utf8.count),
            name.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 })
        else {
            throw .invalidField("tenant", "tenant must be 1–32 characters of a-z, 0-9, '-' or '_'.")
        }
        return name
    }
}

/// Which tenants' accounts a key sees.
public enum TenantScope: Sendable, Equatable {
    case one(String)
    case all

    public func sees(_ tenant: String) -> Bool {
        switch self {
        case .all: return true
        case .one(let own): return own == tenant
        }
    }

    /// The one tenant a key acts for; nil for a key that acts for all of them.
    public var tenant: String? {
        if case .one(let own) = self { return own }
        return nil
    }

    /// An object of another tenant is answered exactly as one that does not exist (404): its id
    /// must not even be confirmed (OWASP API1:2023, broken object level authorization).
    public func require(_ tenant: String?, _ what: String) throws(DomainError) {
        guard let tenant = try? Existence.require(tenant, what), sees(tenant) else { throw DomainError.notFound(what) }
    }
}
