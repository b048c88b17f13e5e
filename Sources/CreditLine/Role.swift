/// Who may call what (README "Roles"). A key carries exactly one role.
public enum Role: String, Sendable, Codable, CaseIterable {
    /// Calling backends: accounts, consents, scoring, activation.
    case service
    /// People in operations: reviews, freezes, limit changes.
    case `operator`
    /// Compliance: reads the audit log, changes nothing.
    case auditor
    /// Model validation: reviews the scoring models and reads their stability (README
    /// "Periodic review").
    case risk
}
