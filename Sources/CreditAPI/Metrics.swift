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
    /// Per route: its latency timer and one counter per status, created on first use.
    private struct RouteKey: Hashable {
        var method: String
        var route: String
    }
    private final class RouteMetrics: Sendable {
        let timer: Metrics.Timer
        let counters: Mutex<[Int: CoreMetrics.Counter]>
        init(timer: Metrics.Timer) {
            self.timer = timer
            counters = Mutex([:])
        }
    }
    private let routes = Mutex<[RouteKey: RouteMetrics]>([:])
    private let openConnections: CoreMetrics.Gauge
    private let auditEntries: CoreMetrics.Gauge
    private let noticesOverdue: CoreMetrics.Gauge

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
        noticesOverdue = CoreMetrics.Gauge(label: "creditline_notices_overdue", dimensions: [], factory: factory)
    }

    func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        let key = RouteKey(method: method, route: route)
        let metrics = routes.withLock { routes in
            if let existing = routes[key] { return existing }
            let made = RouteMetrics(timer: Metrics.Timer(
                label: "creditline_http_request_duration_seconds", dimensions: [("method", method), ("route", route)],
                factory: factory))
            routes[key] = made
            return made
        }
        let counter = metrics.counters.withLock { counters in
            if let existing = counters[status] { return existing }
            let made = CoreMetrics.Counter(
                label: "creditline_http_requests_total",
                dimensions: [("method", method), ("route", route), ("status", String(status))], factory: factory)
            counters[status] = made
            return made
        }
        counter.increment()
        metrics.timer.record(duration: duration)
    }

    /// Prometheus text exposition, with the gauges read at scrape time.
    func exposition(openConnections connections: Int, auditLength: Int, overdueNotices: Int) -> [UInt8] {
        openConnections.record(connections)
        auditEntries.record(auditLength)
        noticesOverdue.record(overdueNotices)
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
