/// Who may call what (README "Roles"). A key carries exactly one role.
public enum Role: String, Sendable, Codable, CaseIterable {
    /// Calling backends: accounts, consents, scoring, activation.
    case service
    /// People in operations: reviews, freezes, limit changes.
    case `operator`
    /// Compliance: reads the audit log, changes nothing.
    case auditor
}
