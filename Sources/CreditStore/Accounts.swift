import CreditLine
import GRDB

/// Opens an account in `prospect`, or returns the one that already has this `customer_ref`
/// (a retried create must never make a second account).
public struct CreateAccount: BusinessWrite {
    public var customerRef: String

    public init(customerRef: String) { self.customerRef = customerRef }

    public func apply(_ db: Database, now: Timestamp) throws -> ((account: Account, created: Bool), [AuditRecord]) {
        if let existing = try Store.fetchAccount(db, customerRef: customerRef) {
            return ((existing, false), [])
        }
        let account = Account(id: Identifier.make("acc"), customerRef: customerRef, createdAt: now, updatedAt: now)
        try db.execute(
            sql: """
                INSERT INTO accounts (id, customer_ref, status, credit_limit, currency, limit_increase_opt_out, version,
                                      created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [account.id, account.customerRef, account.status.rawValue, account.creditLimit, account.currency,
                        account.limitIncreaseOptOut, account.version, now.rfc3339, now.rfc3339])
        // The customer_ref stays out of the audit log: it is the link to a person.
        return ((account, true), [AuditRecord(.accountCreated, accountID: account.id, subjectID: account.id,
                                              detail: ["status": .string(account.status.rawValue)])])
    }
}

extension Store {
    public func account(id: String) async throws -> Account? {
        try await pool.read { db in try Self.fetchAccount(db, id: id) }
    }

    static func fetchAccount(_ db: Database, id: String) throws -> Account? {
        try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE id = ?", arguments: [id]).map(account(from:))
    }

    static func fetchAccount(_ db: Database, customerRef: String) throws -> Account? {
        try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE customer_ref = ?", arguments: [customerRef]).map(account(from:))
    }

    static func account(from row: Row) -> Account {
        Account(
            id: row["id"], customerRef: row["customer_ref"],
            status: AccountStatus(rawValue: row["status"]) ?? .prospect,
            creditLimit: row["credit_limit"], currency: row["currency"],
            limitIncreaseOptOut: row["limit_increase_opt_out"], version: row["version"],
            createdAt: Timestamp(rfc3339: row["created_at"]) ?? Timestamp(milliseconds: 0),
            updatedAt: Timestamp(rfc3339: row["updated_at"]) ?? Timestamp(milliseconds: 0))
    }
}
