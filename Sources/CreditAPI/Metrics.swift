import CreditStore
import Foundation
import Prometheus
import Synchronization

/// Request counts and latencies, and what an operator watches, in a Prometheus registry of the
/// application's own (tests run several side by side), every metric with its help text so that
/// `promtool check metrics` finds nothing to say (README "Operations", "What to watch").
final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// Per route: its latency histogram and one counter per status, created on first use.
    private struct RouteKey: Hashable {
        var method: String
        var route: String
    }
    private final class RouteMetrics: Sendable {
        let histogram: DurationHistogram
        let counters: Mutex<[Int: Counter]>
        init(histogram: DurationHistogram) {
            self.histogram = histogram
            counters = Mutex([:])
        }
    }
    private let routes = Mutex<[RouteKey: RouteMetrics]>([:])
    private let openConnections: Gauge
    private let auditEntries: Gauge
    /// What to watch: each zero when nothing is wrong.
    private let noticesOverdue: Gauge
    private let webhookFailing: Gauge
    private let webhookGivenUp: Gauge
    private let reviewOldestOpen: Gauge
    private let writeQueueDepth: Gauge
    private let writeQueueLimit: Gauge
    private let notReady: Gauge
    private let auditVerificationFailed: Gauge

    /// The gauges' values, read at scrape time.
    struct Scrape {
        var openConnections: Int
        var auditLength: Int
        var signals: OperatingSignals
        var writeQueue: (depth: Int, limit: Int)
        var ready: Bool
        var auditVerificationFailed: Bool
    }

    /// Latency buckets from 100 µs to 5 s: loopback requests sit at the low end, fsync-bound
    /// writes in the middle.
    private static let buckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
    ]
    // Made when a route or a status is first seen (MetricNameDescriptor is not Sendable).
    private static var requests: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "creditline_http_requests", unitName: "total",
                             helpText: "Requests answered, by method, route pattern and status")
    }
    private static var durations: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "creditline_http_request_duration", unitName: "seconds",
                             helpText: "Time from a request's arrival to its answer, by method and route pattern")
    }

    init() {
        let registry = self.registry
        func gauge(_ name: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help))
        }
        openConnections = gauge("creditline_open_connections", "HTTP connections open now")
        auditEntries = gauge("creditline_audit_log_entries", "Entries in the audit log, every chain together")
        noticesOverdue = gauge("creditline_notices_overdue", "Customer notices not delivered by their deadline")
        webhookFailing = gauge("creditline_webhook_failing_seconds",
                               "Age of the oldest webhook delivery still owed after a failed attempt (0: none)")
        webhookGivenUp = gauge("creditline_webhook_deliveries_given_up",
                               "Webhook deliveries given up after webhook_retry_hours whose last attempt was in the last 24 hours")
        reviewOldestOpen = gauge("creditline_review_oldest_open_seconds",
                                 "Age of the oldest review waiting for a person (0: none)")
        writeQueueDepth = gauge("creditline_write_queue_depth", "Writes waiting in the fullest writer lane")
        writeQueueLimit = gauge("creditline_write_queue_limit", "Writes a lane may hold before refusing (write_queue_max)")
        notReady = gauge("creditline_not_ready", "1 while /readyz answers 503, else 0")
        auditVerificationFailed = gauge("creditline_audit_verification_failed",
                                        "1 when the last walk of the audit chains found one broken, else 0")
    }

    func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        let key = RouteKey(method: method, route: route)
        let metrics = routes.withLock { routes in
            if let existing = routes[key] { return existing }
            let made = RouteMetrics(histogram: registry.makeDurationHistogram(
                descriptor: Self.durations, labels: [("method", method), ("route", route)], buckets: Self.buckets))
            routes[key] = made
            return made
        }
        let counter = metrics.counters.withLock { counters in
            if let existing = counters[status] { return existing }
            let made = registry.makeCounter(
                descriptor: Self.requests, labels: [("method", method), ("route", route), ("status", String(status))])
            counters[status] = made
            return made
        }
        counter.increment()
        metrics.histogram.record(duration)
    }

    /// Prometheus text exposition, with the gauges read at scrape time.
    func exposition(_ scrape: Scrape) -> [UInt8] {
        openConnections.set(Int64(scrape.openConnections))
        auditEntries.set(Int64(scrape.auditLength))
        noticesOverdue.set(Int64(scrape.signals.overdueNotices))
        webhookFailing.set(Int64(scrape.signals.oldestFailingWebhookSeconds))
        webhookGivenUp.set(Int64(scrape.signals.webhookDeliveriesGivenUp))
        reviewOldestOpen.set(Int64(scrape.signals.oldestOpenReviewSeconds))
        writeQueueDepth.set(Int64(scrape.writeQueue.depth))
        writeQueueLimit.set(Int64(scrape.writeQueue.limit))
        notReady.set(Int64(scrape.ready ? 0 : 1))
        auditVerificationFailed.set(Int64(scrape.auditVerificationFailed ? 1 : 0))
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
