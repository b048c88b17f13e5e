import CreditLine
import CreditStore
import Foundation
import HTTPServer
import HTTPTypes

/// Health, readiness and metrics: unauthenticated, for orchestrators and scrapers.
struct OperationsRoutes {
    let application: Application

    static let ready = #"{"status":"ready"}"#

    /// `/readyz`'s answer, which `creditline_not_ready` follows too. Says why, from a closed set;
    /// and while a fault is recorded, each probe tries a write, so readiness comes back by itself
    /// when the disk has room again.
    static func readiness(_ application: Application) async -> String {
        if application.isDraining { return #"{"status":"draining"}"# }
        guard await application.store.isReady() else { return #"{"status":"database-not-ready"}"# }
        if let fault = await application.store.storageFault(at: application.store.time.now()) {
            return #"{"status":"storage-unavailable","reason":"\#(fault.rawValue)"}"#
        }
        return ready
    }

    func register(on router: inout Router) {
        let application = self.application
        router.get("/healthz") { _, _ in
            // Liveness only: the process answers. Dependencies are readiness's business.
            .json(Array(#"{"status":"ok"}"#.utf8))
        }
        router.get("/readyz") { _, _ in
            let answer = await Self.readiness(application)
            return .json(Array(answer.utf8), status: answer == Self.ready ? .ok : .serviceUnavailable)
        }
        // Read once at start-up; a missing file answers 404 rather than stopping the service.
        let openapi = FileManager.default.contents(atPath: application.configuration.openapi).map(Array.init)
        router.get("/openapi.json") { _, _ in
            guard let openapi else {
                throw Problem(status: .notFound, code: ProblemCode.notFound, detail: "The OpenAPI description is not installed.")
            }
            return .json(openapi)
        }
        router.get("/metrics") { _, _ in
            let store = application.store
            let body = application.metrics.exposition(ServiceMetrics.Scrape(
                openConnections: application.server?.openConnections ?? 0,
                auditLength: (try? await store.auditLength()) ?? 0,
                signals: (try? await store.operatingSignals(at: store.time.now())) ?? OperatingSignals(),
                writeQueue: store.writeQueue,
                ready: await Self.readiness(application) == Self.ready,
                auditVerificationFailed: application.sweeps.auditVerificationFailed))
            // Prometheus text exposition format 0.0.4.
            return Response(status: .ok, headerFields: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: body)
        }
    }
}
