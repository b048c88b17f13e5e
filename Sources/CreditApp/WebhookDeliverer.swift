import AsyncHTTPClient
import CreditLine
import CreditStore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization
import Tracing

/// How the deliverer pushes (README "Configuration", the `webhook_*` settings).
public struct WebhookSettings: Sendable {
    public var concurrency: Int
    public var perEndpoint: Int
    public var retryHours: Int
    public var retryBaseMs: Int
    public var timeoutMs: Int
    public var claimMarginMs: Int
    public var pollMs: Int

    public init(concurrency: Int = 8, perEndpoint: Int = 2, retryHours: Int = 24, retryBaseMs: Int = 1000,
                timeoutMs: Int = 10_000, claimMarginMs: Int = 5_000, pollMs: Int = 200)
    {
        (self.concurrency, self.perEndpoint, self.retryHours) = (concurrency, perEndpoint, retryHours)
        (self.retryBaseMs, self.timeoutMs, self.claimMarginMs, self.pollMs) = (retryBaseMs, timeoutMs, claimMarginMs, pollMs)
    }
}

/// Pushes events to webhook endpoints beside request handling (README "Events and notices"):
/// deliveries come from the outbox table, at most `webhook_concurrency` in flight and at most
/// `webhook_concurrency_per_endpoint` to one endpoint, each account's events to an endpoint in
/// `seq` order. A push that is not answered 2xx within the timeout is tried again later; nothing
/// is marked delivered before its 2xx, so a crash only repeats. Each delivery is claimed in the
/// database before it is pushed, so that instances sharing a database push it once between them;
/// a claim lapses after `leaseMilliseconds`, longer than any attempt can take, so a crashed
/// instance's deliveries go to another.
///
/// What a receiver can make the service hold is bounded (README "Hostile clients and faults"):
/// the whole attempt, from connecting to the answer's last byte read, ends at
/// `webhook_timeout_ms`; of the answer's body at most `maxAnswerBytes` are read, never inflated
/// (no compression is asked for, none is undone), and the connection is closed when more come.
/// A service of the process's `ServiceGroup` (`BackgroundWork`): it runs until the group shuts
/// down gracefully, then releases its claims and closes its client.
public final class WebhookDeliverer: Service {
    /// The most of an answer's body read; the status is what counts, the body is read only so
    /// that a small answer leaves its connection reusable.
    static let maxAnswerBytes = 64 * 1024

    private let store: Store
    private let logger: Logger
    private let concurrency: Int
    private let perEndpoint: Int
    private let retryHours: Int
    private let retryBaseMs: Int
    private let timeoutMs: Int
    private let claimMarginMs: Int
    private let pollMs: Int
    /// The client, made at the first push and shut down when the deliverer stops: a service
    /// with no endpoint never starts its event loops.
    private let client = Mutex<HTTPClient?>(nil)
    /// Deliveries in flight in this process.
    private let running = Mutex<Set<String>>([])
    /// This instance's name on its claims: new at every start of the process.
    let owner = Identifier.make("instance")
    /// How long a claim holds: the attempt's bound twice over and `webhook_claim_margin_ms` (5 s),
    /// so that neither a slow record of the outcome nor a clock step hands a push in progress to
    /// another instance.
    var leaseMilliseconds: Int { 2 * timeoutMs + claimMarginMs }

    public init(store: Store, settings: WebhookSettings, logger: Logger) {
        self.store = store
        self.logger = logger
        concurrency = settings.concurrency
        perEndpoint = settings.perEndpoint
        retryHours = settings.retryHours
        retryBaseMs = settings.retryBaseMs
        timeoutMs = settings.timeoutMs
        claimMarginMs = settings.claimMarginMs
        pollMs = settings.pollMs
    }

    /// Pushes until the group shuts down, then stops taking deliveries and ends the pushes in
    /// flight (cancelled, they stay pending and are sent again after the restart), releases this
    /// instance's claims and closes the client's connections.
    public func run() async throws {
        await cancelWhenGracefulShutdown { [self] in await deliver() }
        // What was cancelled mid-push is free at once for the next instance, or this one restarted.
        _ = try? await store.perform(ReleaseDeliveryClaims(owner: owner), by: Actor.system("webhooks"), at: store.time.now())
        let made = client.withLock { client -> HTTPClient? in
            defer { client = nil }
            return client
        }
        try? await made?.shutdown()
    }

    private func pushClient() -> HTTPClient {
        client.withLock { client in
            if let client { return client }
            let limit = TimeAmount.milliseconds(Int64(timeoutMs))
            var configuration = HTTPClient.Configuration(
                // A redirect's target was never checked against webhook_allowed_hosts.
                redirectConfiguration: .disallow,
                timeout: .init(connect: limit, read: limit),
                // Our own slots bound the pushes in flight; the pool must not queue behind them.
                connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency),
                decompression: .disabled)
            // The push's span is ours (`tracedPush`); the client's own would carry the endpoint's
            // whole URL, which an operator may have put a token in.
            configuration.tracing.tracer = nil
            let made = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            client = made
            return made
        }
    }

    private func deliver() async {
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                var started = 0
                let inFlight = running.withLock { $0.count }
                if inFlight < concurrency {
                    let due = (try? await store.dueDeliveries(at: store.time.now(), limit: concurrency * 4,
                                                              perEndpoint: perEndpoint)) ?? []
                    for delivery in due where inFlight + started < concurrency && !Task.isCancelled {
                        guard await claim(delivery) else { continue }
                        started += 1
                        let client = pushClient()
                        group.addTask { [self] in
                            await attempt(delivery, client: client)
                            running.withLock { _ = $0.remove(delivery.id) }
                        }
                    }
                }
                // A short idle wait: new deliveries are committed rows, found on the next look.
                if started == 0 { try? await Task.sleep(for: .milliseconds(pollMs)) }
            }
        }
    }

    /// Takes a delivery for this instance: in the database, where another instance may have taken
    /// it since it was listed (then false, and it is left to them).
    private func claim(_ delivery: DueDelivery) async -> Bool {
        guard running.withLock({ $0.insert(delivery.id).inserted }) else { return false }
        let now = store.time.now()
        let claimed = (try? await store.perform(
            ClaimDelivery(deliveryID: delivery.id, owner: owner,
                          until: Timestamp(milliseconds: now.milliseconds + Int64(leaseMilliseconds))),
            by: Actor.system("webhooks"), at: now)) ?? false
        if !claimed { running.withLock { _ = $0.remove(delivery.id) } }
        return claimed
    }

    private func attempt(_ delivery: DueDelivery, client: HTTPClient) async {
        let body = Array(delivery.body.utf8)
        let timestamp = store.time.now().milliseconds / 1000
        let signature = Hashing.hmacSHA256Hex(key: delivery.secret,
                                              message: WebhookRules.signedPayload(timestamp: timestamp, body: body))
        var request = HTTPClientRequest(url: delivery.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Creditline-Signature", value: "t=\(timestamp),v1=\(signature)")
        request.headers.add(name: "Creditline-Event-Id", value: delivery.eventID)
        request.headers.add(name: "User-Agent", value: "creditline-webhooks")
        request.headers.add(name: "Accept-Encoding", value: "identity")
        request.body = .bytes(body)
        let outcome: RecordDeliveryAttempt.Outcome
        switch await tracedPush(request, delivery, client: client) {
        case .answered(let status):
            outcome = (200..<300).contains(status) ? .delivered(status: status) : .failed(status: status, error: "HTTP \(status)")
        case .timedOut:
            outcome = .failed(status: nil, error: "no answer within webhook_timeout_ms")
        case .unreachable(let kind):
            // Shutting down: the push stays pending and goes again after the restart.
            if Task.isCancelled { return }
            outcome = .failed(status: nil, error: "no answer (\(kind))")
        }
        do {
            try await store.perform(
                RecordDeliveryAttempt(deliveryID: delivery.id, owner: owner, outcome: outcome, retryHours: retryHours,
                                      baseMilliseconds: retryBaseMs, jitter: Double.random(in: 0...1)),
                by: Actor.system("webhooks"), at: store.time.now())
        } catch {
            logger.error("webhook delivery not recorded", metadata: ["delivery": .string(delivery.id), "error": "\(error)"])
        }
    }

    /// With tracing on, the push as a client span in the trace of the request that owed it, its
    /// endpoint's id an attribute, and a `traceparent` sent for the receiver to continue it.
    private func tracedPush(_ request: HTTPClientRequest, _ delivery: DueDelivery, client: HTTPClient) async -> PushResult {
        guard Traces.enabled, let parent = delivery.traceparent else { return await push(request, client: client) }
        return await withSpan("webhook.push", context: Traces.context(traceparent: parent), ofKind: .client) { span in
            span.attributes["creditline.webhook.endpoint_id"] = delivery.endpointID
            var request = request
            if let header = Traces.traceparent(span.context) { request.headers.replaceOrAdd(name: "traceparent", value: header) }
            let result = await push(request, client: client)
            if case .answered(let status) = result {
                span.attributes["http.response.status_code"] = status
                if !(200..<300).contains(status) { span.setStatus(SpanStatus(code: .error)) }
            } else {
                span.setStatus(SpanStatus(code: .error))
            }
            return result
        }
    }

    enum PushResult {
        case answered(Int)
        case timedOut
        /// The error's type, never its text (which may quote the receiver).
        case unreachable(kind: String)
    }

    /// One push, ended at the timeout however far it got. The status decides; once it has come,
    /// the body is read up to `maxAnswerBytes` in what is left of the time, and then let go (which
    /// closes the connection if the receiver was still sending).
    func push(_ request: HTTPClientRequest, client: HTTPClient) async -> PushResult {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .milliseconds(timeoutMs))
        let response: HTTPClientResponse
        do {
            // AsyncHTTPClient's own deadline covers connecting, sending and the answer's head.
            response = try await client.execute(request, deadline: .now() + .milliseconds(Int64(timeoutMs)))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout
                    || error == .connectTimeout {
            return .timedOut
        } catch {
            return .unreachable(kind: String(describing: type(of: error)))
        }
        await Self.read(response.body, atMost: Self.maxAnswerBytes, until: deadline, clock: clock)
        return .answered(Int(response.status.code))
    }

    /// Reads a body until it ends, `limit` bytes have come, or `deadline`, whichever is first.
    static func read(_ body: HTTPClientResponse.Body, atMost limit: Int, until deadline: ContinuousClock.Instant,
                     clock: ContinuousClock) async
    {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                var seen = 0
                do {
                    for try await chunk in body {
                        seen += chunk.readableBytes
                        if seen >= limit { return }
                    }
                } catch {}
            }
            group.addTask { try? await Task.sleep(until: deadline, clock: clock) }
            await group.next()
            group.cancelAll()
        }
    }
}
