import CreditLine
import CreditStore
import HTTPServer
import Synchronization

/// The service's clock under `serve --demo`: the system's, moved forward on request, so that a
/// walkthrough can let days pass (README "Try it"). Every rule, sweep and timestamp reads the
/// store's clock, so they all move with it. It never moves back.
public final class DemoClock: TimeSource, Sendable {
    private let base: any TimeSource
    private let offset = Atomic<Int64>(0)

    public init(base: any TimeSource = SystemTimeSource()) { self.base = base }

    public func now() -> Timestamp { Timestamp(milliseconds: base.now().milliseconds + offset.load(ordering: .acquiring)) }

    /// Moves the clock `days` forward; the new time.
    @discardableResult
    public func advance(days: Int) -> Timestamp {
        offset.add(Int64(days) * 86_400_000, ordering: .acquiringAndReleasing)
        return now()
    }

    /// Moves the clock up to `moment` if it is behind it: a demo restarted after days were
    /// advanced goes on from the time its audit log last recorded.
    public func catchUp(to moment: Timestamp) {
        let behind = moment.milliseconds - now().milliseconds
        if behind > 0 { offset.add(behind, ordering: .acquiringAndReleasing) }
    }
}

/// `POST /v1/demo/clock`, registered only when the store runs on a `DemoClock`; anywhere else
/// the route does not exist (404).
struct DemoRoutes: RouteFamily {
    let application: Application
    let clock: DemoClock

    struct AdvanceRequest: RequestFields {
        var advanceDays: Int
        enum CodingKeys: String, CodingKey, CaseIterable { case advanceDays = "advance_days" }
    }

    struct AdvanceBody: Encodable {
        var now: String
        var advancedDays: Int
        enum CodingKeys: String, CodingKey {
            case now
            case advancedDays = "advanced_days"
        }
    }

    static let maxDays = 3_650


    func register(on router: inout Router) {
        router.post("/v1/demo/clock", handler: application.authorized([.operator], advanceClock))
    }

    // MARK: - Endpoints

    @Sendable func advanceClock(_ request: Request, _: RequestContext, _ call: Call) async throws -> Response {
        let body = try RequestBody.decode(AdvanceRequest.self, from: request)
        guard (1...Self.maxDays).contains(body.advanceDays) else {
            throw Problems.invalidField("advance_days", "advance_days must be a whole number of days, 1 to \(Self.maxDays).")
        }
        let now = clock.advance(days: body.advanceDays)
        // The jump is in the audit chain, at the new time; then the sweep records what the
        // days made due at once instead of at its next pass.
        try await store.perform(AdvanceDemoClock(days: body.advanceDays), by: call.actor, at: now)
        try await application.sweep(at: now)
        return try ResponseBody.json(AdvanceBody(now: now.rfc3339, advancedDays: body.advanceDays))
    }
}
