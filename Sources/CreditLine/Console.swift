/// The console's sessions as rules (README "Console"): who may sign in, and how long a session
/// lasts.
public enum ConsoleSessionRules {
    /// A session ends after this long without a request...
    public static let idleSeconds: Int64 = 30 * 60
    /// ...and after this long in any case.
    public static let maxSeconds: Int64 = 8 * 3600

    /// People sign in: operators, auditors and the risk team. A calling service's key cannot.
    public static func maySignIn(_ role: Role) -> Bool { role != .service }

    /// Whether a session opened at `createdAt`, last used at `lastSeenAt` and not ended is still good at `now`.
    public static func isLive(createdAt: Timestamp, lastSeenAt: Timestamp, endedAt: Timestamp?, now: Timestamp) -> Bool {
        guard endedAt == nil else { return false }
        return now.milliseconds - lastSeenAt.milliseconds < idleSeconds * 1000
            && now.milliseconds - createdAt.milliseconds < maxSeconds * 1000
    }
}
