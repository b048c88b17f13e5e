/// What the service records of its own operation, beside what happens to accounts: keys,
/// webhook endpoints, console sign-ins, sweeps, reviews of models and portfolios, the demo clock.
/// Typed like the account's events (README "Development", typed domain events), and like them
/// free of caller text: a key's person, an endpoint's path, a review's findings stay outside the
/// chain; only whether one was given is recorded.
public enum ServiceRecord: Sendable, Equatable {
    case keyCreated(role: Role, tenant: String?, personNamed: Bool)
    case keyRevoked(role: Role)
    case demoClockAdvanced(days: Int)
    /// Counts by action and by reason skipped, never an account.
    case portfolioReviewCompleted(rows: Int, modelVersion: String, actions: [String: Int], skipped: [String: Int])
    case webhookEndpointCreated(tenant: String, host: String, eventTypes: [String])
    case webhookEndpointDeleted(tenant: String)
    case modelReviewed(version: String, modelVersion: String, outcome: ModelReviewRules.Outcome, validUntil: Timestamp,
                       hasFindings: Bool)
    /// What a retention sweep erased, in counts by kind, under which policy.
    case retentionSwept(erased: [String: Int], freeTextDays: Int, scoringInputDays: Int)
    case consoleSignedIn(role: Role)
    case consoleSignedOut

    public var action: AuditAction {
        switch self {
        case .keyCreated: .keyCreated
        case .keyRevoked: .keyRevoked
        case .demoClockAdvanced: .demoClockAdvanced
        case .portfolioReviewCompleted: .portfolioReviewCompleted
        case .webhookEndpointCreated: .webhookEndpointCreated
        case .webhookEndpointDeleted: .webhookEndpointDeleted
        case .modelReviewed: .modelReviewed
        case .retentionSwept: .retentionSwept
        case .consoleSignedIn: .consoleSignedIn
        case .consoleSignedOut: .consoleSignedOut
        }
    }

    private static let retentionPolicyKeys: Set<String> = ["free_text_retention_days", "scoring_input_retention_days"]

    public var auditDetail: [String: JSONValue] {
        func counts(_ values: [String: Int]) -> JSONValue { .object(values.mapValues(JSONValue.int)) }
        switch self {
        case .keyCreated(let role, let tenant, let personNamed):
            return ["role": .string(role.rawValue), "tenant": tenant.map(JSONValue.string) ?? .null,
                    "person_named": .bool(personNamed)]
        case .keyRevoked(let role), .consoleSignedIn(let role):
            return ["role": .string(role.rawValue)]
        case .demoClockAdvanced(let days):
            return ["days": .int(days)]
        case .portfolioReviewCompleted(let rows, let modelVersion, let actions, let skipped):
            return ["rows": .int(rows), "model_version": .string(modelVersion), "actions": counts(actions),
                    "skipped": counts(skipped)]
        case .webhookEndpointCreated(let tenant, let host, let eventTypes):
            return ["tenant": .string(tenant), "host": .string(host), "event_types": .array(eventTypes.map(JSONValue.string))]
        case .webhookEndpointDeleted(let tenant):
            return ["tenant": .string(tenant)]
        case .modelReviewed(let version, let modelVersion, let outcome, let validUntil, let hasFindings):
            return ["version": .string(version), "model_version": .string(modelVersion), "outcome": .string(outcome.rawValue),
                    "valid_until": .string(validUntil.rfc3339), "has_findings": .bool(hasFindings)]
        case .retentionSwept(let erased, let freeTextDays, let scoringInputDays):
            // The counts sit beside the policy at the top level, as the first sweeps wrote them.
            return erased.mapValues(JSONValue.int).merging([
                "free_text_retention_days": .int(freeTextDays), "scoring_input_retention_days": .int(scoringInputDays),
            ]) { $1 }
        case .consoleSignedOut:
            return [:]
        }
    }

    static func decode(_ read: DetailReader) throws(NoticeRules.MissingFact) -> ServiceRecord? {
        // Counts by name: a member that is not a whole number fails, named by `key` or its own name.
        func counts(_ members: [String: JSONValue], key: String?) throws(NoticeRules.MissingFact) -> [String: Int] {
            var counts: [String: Int] = [:]
            for (name, value) in members {
                guard let count = value.intValue else { throw read.missing(key ?? name) }
                counts[name] = count
            }
            return counts
        }
        func counts(_ key: String) throws(NoticeRules.MissingFact) -> [String: Int] {
            guard case .object(let members)? = read.detail[key] else { throw read.missing(key) }
            return try counts(members, key: key)
        }
        switch read.action {
        case .keyCreated:
            return .keyCreated(role: try read.named("role"), tenant: try read.optionalText("tenant"),
                               personNamed: try read.bool("person_named"))
        case .keyRevoked, .consoleSignedIn:
            // The same one member, as the detail writes it.
            let role: Role = try read.named("role")
            return read.action == .keyRevoked ? .keyRevoked(role: role) : .consoleSignedIn(role: role)
        case .consoleSignedOut:
            return .consoleSignedOut
        case .demoClockAdvanced:
            return .demoClockAdvanced(days: try read.int("days"))
        case .portfolioReviewCompleted:
            return .portfolioReviewCompleted(rows: try read.int("rows"), modelVersion: try read.text("model_version"),
                                             actions: try counts("actions"), skipped: try counts("skipped"))
        case .webhookEndpointCreated:
            return .webhookEndpointCreated(tenant: try read.text("tenant"), host: try read.text("host"),
                                           eventTypes: try read.texts("event_types"))
        case .webhookEndpointDeleted:
            return .webhookEndpointDeleted(tenant: try read.text("tenant"))
        case .modelReviewed:
            return .modelReviewed(version: try read.text("version"), modelVersion: try read.text("model_version"),
                                  outcome: try read.named("outcome"), validUntil: try read.timestamp("valid_until"),
                                  hasFindings: try read.bool("has_findings"))
        case .retentionSwept:
            let erased = try counts(read.detail.filter { !retentionPolicyKeys.contains($0.key) }, key: nil)
            return .retentionSwept(erased: erased, freeTextDays: try read.int("free_text_retention_days"),
                                   scoringInputDays: try read.int("scoring_input_retention_days"))
        default:
            return nil
        }
    }
}
