/// A risk tier, from the scorecard's bands. The JSON and the database hold the letter.
public enum Tier: String, Sendable, Codable, CaseIterable, Comparable {
    case a = "A", b = "B", c = "C", d = "D", e = "E"

    /// Tiers whose decision approves a line without a person (README "Scoring").
    public var approves: Bool { self <= .c }

    public static func < (lhs: Tier, rhs: Tier) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension Decision {
    /// What a decision says should happen: its tier's outcome in the scorecard.
    public enum Outcome: String, Sendable, Codable, CaseIterable {
        case approve, review, decline
    }
}
