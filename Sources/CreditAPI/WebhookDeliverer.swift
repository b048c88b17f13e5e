import CreditLine
import CreditStore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Synchronization

/// Pushes events to webhook endpoints beside request handling (README "Events and notices"):
/// deliveries come from the outbox table, at most `webhook_concurrency` in flight, each account's
/// events to an endpoint in `seq` order. A push that is not answered 2xx within the timeout is
/// tried again later; nothing is marked delivered before its 2xx, so a crash only repeats.
final class WebhookDeliverer: Sendable {
    private let store: Store
    private let logger: Logger
    private let concurrency: Int
    private let retryHours: Int
    private let retryBaseMs: Int
    private let timeout: TimeInterval
    private let loop = Mutex<Task<Void, Never>?>(nil)
    private let running = Mutex<Set<String>>([])
    /// This deliverer's requests in flight, cancelled when it stops; nil once stopping began.
    private let requests = Mutex<[UUID: URLSessionTask]?>([:])

    init(store: Store, configuration: ServiceConfiguration, logger: Logger) {
        self.store = store
        self.logger = logger
        concurrency = configuration.webhookConcurrency
        retryHours = configuration.webhookRetryHours
        retryBaseMs = configuration.webhookRetryBaseMs
        timeout = TimeInterval(configuration.webhookTimeoutMs) / 1000
    }

    /// One session for the process, made at the first push (most installations and most tests
    /// never push), never invalidated: sessions made and torn down one after another have been
    /// seen to crash Foundation's Linux implementation, which a single long-lived one avoids.
    private static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 64
        return URLSession(configuration: configuration, delegate: RedirectRefusal(), delegateQueue: nil)
    }()

    func start() {
        let task = Task { [self] in await run() }
        loop.withLock { $0 = task }
    }

    /// Stops taking deliveries and waits for the pushes in flight to end; an interrupted push
    /// stays pending and is sent again after the restart.
    func stop() async {
        let task = loop.withLock { task -> Task<Void, Never>? in
            defer { task = nil }
            return task
        }
        // The loop first, so that it starts nothing more; then its requests, which answer at once
        // when cancelled, so that the pushes in flight end and the loop can finish.
        task?.cancel()
        let inFlight = requests.withLock { requests -> [URLSessionTask] in
            defer { requests = nil }
            return Array((requests ?? [:]).values)
        }
        for request in inFlight { request.cancel() }
        await task?.value
    }

    private func run() async {
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                let free = concurrency - running.withLock { $0.count }
                var started = 0
                if free > 0 {
                    let due = (try? await store.dueDeliveries(at: store.time.now(), limit: concurrency * 2)) ?? []
                    for delivery in due where started < free {
                        let claimed = running.withLock { $0.insert(delivery.id).inserted }
                        guard claimed else { continue }
                        started += 1
                        group.addTask { [self] in
                            await attempt(delivery)
                            running.withLock { _ = $0.remove(delivery.id) }
                        }
                    }
                }
                // A short idle wait: new deliveries are committed rows, found on the next look.
                if started == 0 { try? await Task.sleep(for: .milliseconds(200)) }
            }
        }
    }

    private func attempt(_ delivery: DueDelivery) async {
        guard let url = URL(string: delivery.url) else { return }
        let body = Array(delivery.body.utf8)
        let timestamp = store.time.now().milliseconds / 1000
        let signature = Hashing.hmacSHA256Hex(key: delivery.secret,
                                              message: WebhookRules.signedPayload(timestamp: timestamp, body: body))
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("t=\(timestamp),v1=\(signature)", forHTTPHeaderField: "Creditline-Signature")
        request.setValue(delivery.eventID, forHTTPHeaderField: "Creditline-Event-Id")
        request.setValue("creditline-webhooks", forHTTPHeaderField: "User-Agent")
        guard !Task.isCancelled else { return }
        let outcome: RecordDeliveryAttempt.Outcome
        switch await send(request) {
        case .success(let status):
            outcome = (200..<300).contains(status) ? .delivered(status: status) : .failed(status: status, error: "HTTP \(status)")
        case .failure(let error):
            // Shutting down: the push stays pending and goes again after the restart.
            if Task.isCancelled { return }
            outcome = .failed(status: nil, error: "no answer (\(type(of: error)))")
        }
        do {
            try await store.perform(
                RecordDeliveryAttempt(deliveryID: delivery.id, outcome: outcome, retryHours: retryHours,
                                      baseMilliseconds: retryBaseMs, jitter: Double.random(in: 0...1)),
                by: Actor.system("webhooks"), at: store.time.now())
        } catch {
            logger.error("webhook delivery not recorded", metadata: ["delivery": .string(delivery.id), "error": "\(error)"])
        }
    }
}

extension WebhookDeliverer {
    struct Stopped: Error {}

    /// One request through the completion-handler API. Not `data(for:)`: on Linux, cancelling the
    /// task that awaits it can deadlock against the request's own completion (the cancellation
    /// waits on the session's queue while holding the task's lock, which the completion needs).
    /// Stopping cancels the requests themselves, from outside any task.
    func send(_ request: URLRequest) async -> Result<Int, any Error> {
        let key = UUID()
        return await withCheckedContinuation { continuation in
            let task = Self.session.dataTask(with: request) { [self] _, response, error in
                requests.withLock { _ = $0?.removeValue(forKey: key) }
                if let error {
                    continuation.resume(returning: .failure(error))
                } else {
                    continuation.resume(returning: .success((response as? HTTPURLResponse)?.statusCode ?? 0))
                }
            }
            let started = requests.withLock { requests -> Bool in
                guard requests != nil else { return false }
                requests?[key] = task
                return true
            }
            guard started else {
                continuation.resume(returning: .failure(Stopped()))
                return
            }
            task.resume()
        }
    }
}

/// A redirect is not followed: the endpoint's host was checked against the allowed list, the
/// redirect's target was not. The 3xx counts as a failed attempt.
private final class RedirectRefusal: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void)
    {
        completionHandler(nil)
    }
}
