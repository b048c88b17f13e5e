import CreditStore
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// Traces to an OTLP/HTTP collector (README "Operations", "Traces"), through swift-otel: started
/// only when `otel_endpoint` is set, before anything is served, and stopped after the drain so
/// that the last spans are sent.
struct TraceExport {
    private let group: ServiceGroup
    private let task: Task<Void, Never>

    /// Nil without an endpoint; a start that fails stops `serve` naming the setting.
    static func start(_ endpoint: String?, logger: Logger) throws -> TraceExport? {
        guard let endpoint else { return nil }
        do {
            return try start(endpoint: endpoint, logger: logger)
        } catch {
            throw fail(Failure("otel_endpoint: traces cannot be exported: \(error)"))
        }
    }

    private static func start(endpoint: String, logger: Logger) throws -> TraceExport {
        var configuration = OTel.Configuration.default
        configuration.serviceName = "creditline"
        // Traces only: logs stay the service's JSON lines, metrics its /metrics.
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.enabled = true
        configuration.traces.otlpExporter.endpoint = endpoint + "/v1/traces"
        configuration.diagnosticLogger = .custom(logger)
        configuration.diagnosticLogLevel = .warning
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        InstrumentationSystem.bootstrap(backend.factory)
        Traces.switchOn()
        let group = ServiceGroup(services: [backend.service], gracefulShutdownSignals: [], logger: logger)
        return TraceExport(group: group, task: Task { try? await group.run() })
    }

    /// Sends what is batched and stops.
    func stop() async {
        await group.triggerGracefulShutdown()
        await task.value
    }
}
