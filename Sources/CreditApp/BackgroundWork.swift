import Logging
import ServiceLifecycle
import Synchronization

/// The work a service does beside answering requests (the sweeps and the webhook deliverer),
/// run together as one swift-service-lifecycle `ServiceGroup` and stopped together: `stop`
/// shuts the group down gracefully, each service in the reverse of its order here, and returns
/// once every one has finished.
public final class BackgroundWork: Sendable {
    private let group: ServiceGroup
    private let running = Mutex<Task<Void, Never>?>(nil)
    private let logger: Logger

    public init(_ services: [any Service], logger: Logger) {
        self.logger = logger
        // No signals of its own: the process decides when to stop (`serve` drains on SIGTERM).
        group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }, logger: logger))
    }

    public func start() {
        let task = Task { [group, logger] in
            do {
                try await group.run()
            } catch {
                logger.error("background work stopped", metadata: ["error": "\(error)"])
            }
        }
        running.withLock { $0 = task }
    }

    public func stop() async {
        guard let task = running.withLock({ task -> Task<Void, Never>? in
            defer { task = nil }
            return task
        }) else { return }
        await group.triggerGracefulShutdown()
        await task.value
    }
}
