import Foundation

/// Where events may be pushed, and how often a failed push is tried again (README "Events and
/// notices").
public enum WebhookRules {
    /// Hosts an endpoint may name when `webhook_allowed_hosts` is empty: this machine only, so an
    /// operator key alone cannot aim the service at an internal address.
    public static let loopbackHosts: Set<String> = ["127.0.0.1", "::1", "localhost"]
    public static let maxURLLength = 2048

    /// The URL, or 422 naming `url`: http or https, no user or password in it, and a host on the
    /// allowed list (compared exactly, lower-cased).
    public static func validate(url text: String, allowedHosts: [String]) throws(DomainError) -> URL {
        let (url, host) = try outgoingURL(text, field: "url", why: "the signature authenticates")
        guard isAllowed(host: host, allowedHosts) else {
            throw DomainError(.invalid, code: .webhookHostNotAllowed,
                              "\(allowedHosts.isEmpty ? "Only loopback hosts are allowed" : "The host is not in webhook_allowed_hosts").",
                              field: "url")
        }
        return url
    }

    /// An absolute http or https URL of at most `maxURLLength` bytes without a user or password,
    /// and its host lower-cased; 422 naming `field` otherwise. Shared by webhook endpoints and the
    /// customer pages' return URLs, the two places a caller names where the service sends someone.
    static func outgoingURL(_ text: String, field: String, why: String) throws(DomainError) -> (URL, host: String) {
        guard text.utf8.count <= maxURLLength, let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = components.host, !host.isEmpty, let url = components.url
        else {
            throw DomainError.invalidField(field, "\(field) must be an absolute http or https URL of at most \(maxURLLength) bytes.")
        }
        guard components.user == nil, components.password == nil else {
            throw DomainError.invalidField(field, "\(field) must not carry a user name or password; \(why).")
        }
        return (url, host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]")))
    }

    /// On the list, or on this machine when the list is empty.
    static func isAllowed(host: String, _ allowedHosts: [String]) -> Bool {
        (allowedHosts.isEmpty ? loopbackHosts : Set(allowedHosts.map { $0.lowercased() })).contains(host)
    }

    /// The event types an endpoint subscribes to: at least one, each an event's type.
    public static func eventTypes(_ names: [String]) throws(DomainError) -> [AuditAction] {
        var types: [AuditAction] = []
        for name in names {
            guard let type = AuditAction(rawValue: name), type.isEvent else {
                throw DomainError.invalidField("event_types", "event_types must name events, such as account.activated.")
            }
            if !types.contains(type) { types.append(type) }
        }
        guard !types.isEmpty else { throw DomainError.invalidField("event_types", "event_types must name at least one event.") }
        return types
    }

    /// The wait before attempt `attempt + 1` after `attempt` failed ones: `base` doubling each time
    /// up to an hour, and of that a random share between half and all (`jitter` in 0…1), so that
    /// endpoints that failed together are not retried together.
    public static func delayMilliseconds(afterAttempts attempts: Int, baseMilliseconds: Int, jitter: Double) -> Int {
        let cap = 3_600_000
        let exponent = min(max(attempts - 1, 0), 40)
        let full = baseMilliseconds > cap >> exponent ? cap : min(cap, baseMilliseconds << exponent)
        return full / 2 + Int(Double(full / 2) * min(max(jitter, 0), 1))
    }

    /// Whether a delivery has run out of time: retried for `retryHours` after its window opened.
    public static func isExhausted(windowStart: Timestamp, now: Timestamp, retryHours: Int) -> Bool {
        now >= windowStart.adding(seconds: Int64(retryHours) * 3600)
    }

    /// `Creditline-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`; this
    /// is what is signed.
    public static func signedPayload(timestamp: Int64, body: [UInt8]) -> [UInt8] {
        Array("\(timestamp).".utf8) + body
    }
}
