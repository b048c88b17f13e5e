import CreditLine
import Foundation
import GRDB

/// Records what the customer earns and owes (README "Ability to repay"): their own data, given
/// with their confirmation and under a `credit_assessment` consent in force, valid 12 months.
public struct RecordAffordability: BusinessWrite {
    public var accountID: String
    /// Its rule reads and changes this account's rows alone (`BusinessWrite.chainAccountID`).
    public var chainAccountID: String? { accountID }
    public var monthlyIncome: Int
    public var monthlyObligations: Int
    public var source: AffordabilityAssessment.Source
    public var evidenceRef: String?
    public var confirmation: CustomerConfirmation?

    public init(accountID: String, monthlyIncome: Int, monthlyObligations: Int, source: AffordabilityAssessment.Source,
                evidenceRef: String?, confirmation: CustomerConfirmation?)
    {
        (self.accountID, self.monthlyIncome, self.monthlyObligations) = (accountID, monthlyIncome, monthlyObligations)
        (self.source, self.evidenceRef, self.confirmation) = (source, evidenceRef, confirmation)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (AffordabilityAssessment, [AuditRecord]) {
        try CustomerConfirmation.require(confirmation, customerInitiated: true)
        let account = try Store.fetchAccount(db, id: accountID)
        var records = account == nil ? [] : try ExpireConsents.expire(db, now: now, accountID: accountID)
        try Affordability.checkRecord(
            accountStatus: account?.status,
            assessmentConsentActive: try Store.hasActiveConsent(db, accountID: accountID, purpose: .creditAssessment, now: now))
        let assessment = AffordabilityAssessment(
            id: Identifier.make("aff"), accountID: accountID, monthlyIncome: monthlyIncome,
            monthlyObligations: monthlyObligations, source: source, evidenceRef: evidenceRef, assessedAt: now,
            validUntil: now.adding(days: Affordability.validityDays))
        try db.execute(
            cached: """
                INSERT INTO affordability_assessments (id, account_id, monthly_income, monthly_obligations, source,
                                                       evidence_ref, assessed_at, valid_until)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [assessment.id, accountID, monthlyIncome, monthlyObligations, source.rawValue, evidenceRef,
                        now.rfc3339, assessment.validUntil.rfc3339])
        let evidence = try Store.recordConfirmation(db, accountID: accountID, subjectID: assessment.id, confirmation, now: now)
        // The amounts are sensitive and erasable: the chain holds that an assessment was made.
        records.append(AuditRecord(.fact(.affordabilityAssessed(source: source, validUntil: assessment.validUntil,
                                                                hasEvidenceRef: evidenceRef != nil, confirmation: evidence)),
                                   accountID: accountID, subjectID: assessment.id))
        return (assessment, records)
    }
}

extension Store {
    /// The account's latest assessment (current or not); nil when it has none. Throws nothing
    /// for a missing account: the caller asks `fetchAccount` for that.
    static func latestAffordability(_ db: SQLConnection, accountID: String) throws -> AffordabilityAssessment? {
        try StoreRow.fetchOne(db, cached: """
            SELECT \(Store.affordabilityColumns.list) FROM affordability_assessments
            WHERE account_id = ? ORDER BY assessed_at DESC, id DESC LIMIT 1
            """, arguments: [accountID]).map(affordability(from:))
    }

    /// The account's latest assessment, or nil; nil for the account too when it does not exist.
    public func affordability(accountID: String) async throws -> (found: Bool, assessment: AffordabilityAssessment?) {
        try await read { db in
            guard try Self.fetchAccount(db, id: accountID) != nil else { return (false, nil) }
            return (true, try Self.latestAffordability(db, accountID: accountID))
        }
    }

    /// When the `credit_assessment` consent ends, the amounts go (PIPL Art. 47); the row stays as
    /// the record that an assessment was made. Returns how many were erased.
    static func eraseAffordability(_ db: SQLConnection, accountID: String, now: Timestamp) throws -> Int {
        try db.execute(
            cached: """
                UPDATE affordability_assessments SET monthly_income = NULL, monthly_obligations = NULL, erased_at = ?
                WHERE account_id = ? AND erased_at IS NULL
                """,
            arguments: [now.rfc3339, accountID])
        return db.changesCount
    }

    static func affordability(from row: StoreRow) throws -> AffordabilityAssessment {
        var read = ColumnReader(row, table: "affordability_assessments")
        return AffordabilityAssessment(
            id: try read("id"), accountID: try read("account_id"), monthlyIncome: try read("monthly_income"),
            monthlyObligations: try read("monthly_obligations"), source: try read.value("source"),
            evidenceRef: try read("evidence_ref"), assessedAt: try read.timestamp("assessed_at"),
            validUntil: try read.timestamp("valid_until"))
    }

    static let affordabilityColumns = TableColumns("affordability_assessments", """
        id, account_id, monthly_income, monthly_obligations, source, evidence_ref, assessed_at, valid_until
        """)
}
