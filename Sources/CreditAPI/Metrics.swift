import CoreMetrics
import Foundation
import Metrics
import Prometheus
import Synchronization

/// Request counts and latencies through swift-metrics, exported as Prometheus text. Each
/// application owns its registry, so tests can run several side by side.
final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let counters = Mutex<[String: CoreMetrics.Counter]>([:])
    private let timers = Mutex<[String: Metrics.Timer]>([:])
    private let openConnections: CoreMetrics.Gauge
    private let auditEntries: CoreMetrics.Gauge

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Latency buckets from 100 µs to 5 s: loopback requests sit at the low end, fsync-bound
        // writes in the middle.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
        ]
        self.factory = factory
        openConnections = CoreMetrics.Gauge(label: "creditline_open_connections", dimensions: [], factory: factory)
        auditEntries = CoreMetrics.Gauge(label: "creditline_audit_log_entries", dimensions: [], factory: factory)
    }

    func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        let counterKey = "\(method) \(route) \(status)"
        let counter = counters.withLock { counters in
            if let existing = counters[counterKey] { return existing }
            let made = CoreMetrics.Counter(label: "creditline_http_requests_total",
                               dimensions: [("method", method), ("route", route), ("status", String(status))],
                               factory: factory)
            counters[counterKey] = made
            return made
        }
        counter.increment()
        let timerKey = "\(method) \(route)"
        let timer = timers.withLock { timers in
            if let existing = timers[timerKey] { return existing }
            let made = Metrics.Timer(label: "creditline_http_request_duration_seconds",
                                     dimensions: [("method", method), ("route", route)], factory: factory)
            timers[timerKey] = made
            return made
        }
        timer.record(duration: duration)
    }

    /// Prometheus text exposition, with the gauges read at scrape time.
    func exposition(openConnections connections: Int, auditLength: Int) -> [UInt8] {
        openConnections.record(connections)
        auditEntries.record(auditLength)
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
