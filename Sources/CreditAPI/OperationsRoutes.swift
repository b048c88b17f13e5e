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
            return .json(Array(#"{"status":"ready"}"#.utf8))
        }
        router.get("/metrics") { _, _ in
            let auditLength = (try? await application.store.auditLength()) ?? 0
            let body = application.metrics.exposition(openConnections: application.server?.openConnections ?? 0,
                                                      auditLength: auditLength)
            // Prometheus text exposition format 0.0.4.
            return Response(status: .ok, headerFields: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: body)
        }
    }
}
