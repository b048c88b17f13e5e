import CreditLine
import Foundation
import HTTPServer
import HTTPTypes

/// Health, readiness and metrics: unauthenticated, for orchestrators and scrapers.
struct OperationsRoutes {
    let application: Application

    func register(on router: inout Router) {
        let application = self.application
        router.get("/healthz") { _, _ in
            // Liveness only: the process answers. Dependencies are readiness's business.
            .json(Array(#"{"status":"ok"}"#.utf8))
        }
        router.get("/readyz") { _, _ in
            if application.isDraining {
                return .json(Array(#"{"status":"draining"}"#.utf8), status: .serviceUnavailable)
            }
            guard await application.store.isReady() else {
                return .json(Array(#"{"status":"database-not-ready"}"#.utf8), status: .serviceUnavailable)
            }
            // Says why, from a closed set; and while a fault is recorded, each probe tries a write,
            // so readiness comes back by itself when the disk has room again.
            if let fault = await application.store.storageFault(at: application.store.time.now()) {
                return .json(Array(#"{"status":"storage-unavailable","reason":"\#(fault.rawValue)"}"#.utf8),
                             status: .serviceUnavailable)
            }
            return .json(Array(#"{"status":"ready"}"#.utf8))
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
            let auditLength = (try? await application.store.auditLength()) ?? 0
            let overdue = (try? await application.store.overdueNoticeCount(at: application.store.time.now())) ?? 0
            let body = application.metrics.exposition(openConnections: application.server?.openConnections ?? 0,
                                                      auditLength: auditLength, overdueNotices: overdue)
            // Prometheus text exposition format 0.0.4.
            return Response(status: .ok, headerFields: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: body)
        }
    }
}
