import CreditLine
import CreditStore
import Foundation
import HTTPServer
import HTTPTypes

/// The console's pages (README "Console"). Each reads through the same store methods as the API
/// and writes through the same business writes: no second rule set.
struct ConsolePageRoutes: RouteFamily {
    let console: ConsoleRoutes

    var application: Application { console.application }
    private var t: ConsoleTexts { console.texts }
    private var model: ScoringModel { application.scoring }
    private var policy: LimitPolicy { application.configuration.limitPolicy }
    private var singleApproverLimit: Int { model.scorecard.tierDLimit }

    /// The view of a page for this visit: its words in the visitor's language, at the request's time.
    private func view(_ visit: ConsoleRoutes.Visit) -> ConsoleView {
        ConsoleView(texts: t, locale: visit.locale, now: visit.now)
    }

    private func render(_ visit: ConsoleRoutes.Visit, title: String, _ body: String) -> Response {
        console.html(console.layout(visit, title: title, body))
    }

    func register(on router: inout Router) {
        router.get("/console/reviews", handler: console.page(ConsoleRoutes.Page.reviews.roles, reviewsPage))
        router.post("/console/reviews/{id}/resolution", handler: console.page(ConsoleRoutes.Page.reviews.roles, resolveReview))
        router.post("/console/hardship-requests/{id}/resolution",
                    handler: console.page(ConsoleRoutes.Page.reviews.roles, resolveHardship))
        router.post("/console/bureau-disputes/{id}/resolution",
                    handler: console.page(ConsoleRoutes.Page.reviews.roles, resolveDispute))
        router.get("/console/accounts/{id}", handler: console.page([.operator, .auditor], accountPage))
        router.get("/console/notices", handler: console.page(ConsoleRoutes.Page.notices.roles, noticesPage))
        router.get("/console/webhooks", handler: console.page(ConsoleRoutes.Page.webhooks.roles, webhooksPage))
        router.get("/console/models", handler: console.page(ConsoleRoutes.Page.models.roles, modelsPage))
        router.get("/console/audit", handler: console.page(ConsoleRoutes.Page.audit.roles, auditPage))
        router.get("/console/compliance", handler: console.page(ConsoleRoutes.Page.compliance.roles, compliancePage))
    }

    // MARK: - Endpoints

    @Sendable func reviewsPage(_ request: Request, _: RequestContext, _ visit: ConsoleRoutes.Visit, _ session: ConsoleSession) async throws -> Response {
        let page = ReviewQueuePage(queue: try await store.reviewQueue(scope: session.key.scope),
                                   hardship: try await store.pendingHardshipRequests(scope: session.key.scope),
                                   disputes: try await store.openBureauDisputes(scope: session.key.scope), now: visit.now,
                                   done: request.queryParameters["done"], csrfField: console.csrf(session))
        return render(visit, title: t("reviews", visit.locale), page.html(view(visit)))
    }

    /// A resolution, through the same write and the same four-eyes rule as the API.
    @Sendable func resolveReview(_ request: Request, _ context: RequestContext, _ visit: ConsoleRoutes.Visit, _ session: ConsoleSession) async throws -> Response {
        let fields = ConsoleRoutes.form(request)
        let note = try FreeText.required(fields["note"] ?? "", field: "note", max: 1000)
        let limit: Int?
        if let text = fields["credit_limit"], !text.isEmpty {
            guard let value = Int(text), value >= 0 else {
                throw DomainError(.invalid, code: .invalidAmount, "credit_limit must be a whole number of fen.",
                                  field: "credit_limit")
            }
            limit = value
        } else {
            limit = nil
        }
        let reviewID = try context.parameter("id")
        guard try await store.tenant(of: .review, id: reviewID).map(session.key.scope.sees) == true else {
            throw DomainError.notFound("review")
        }
        let result = try await store.perform(
            ResolveReview(reviewID: reviewID, approve: fields["approve"] == "true", creditLimit: limit, note: note,
                          approver: session.key.approver, terms: model.terms, policy: policy,
                          singleApproverLimit: singleApproverLimit),
            by: Actor(keyID: session.key.id, role: .key(session.key.role),
                      requestID: context[RequestIDKey.self] ?? "console"))
        let done: String
        switch result {
        case .awaitingSecondApproval: done = t("awaiting", visit.locale)
        case .resolved: done = t("resolved", visit.locale) + " " + reviewID
        }
        return console.redirect("/console/reviews?done=" + (done.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
    }

    /// A person's decision from the queue's form, through the same write as the API: the form's
    /// yes-or-no field, its reason code and note, on a subject of the session's tenant; back to
    /// the queue saying what was done.
    private func decide<Write: BusinessWrite>(
        _ request: Request, _ context: RequestContext, _ visit: ConsoleRoutes.Visit, _ session: ConsoleSession,
        subject: Store.Subject, yes field: String,
        _ write: (_ id: String, _ yes: Bool, _ reasonCode: String, _ note: String?) -> Write,
        done: (Write.Output) -> String
    ) async throws -> Response {
        let fields = ConsoleRoutes.form(request)
        let note = fields["note"].flatMap { $0.isEmpty ? nil : $0 }
        let (reasonCode, checked) = try application.reasonCodes.parse(code: fields["reason_code"] ?? "", note: note)
        let id = try context.parameter("id")
        guard try await store.tenant(of: subject, id: id).map(session.key.scope.sees) == true else {
            throw DomainError.notFound(subject.rawValue)
        }
        let output = try await store.perform(
            write(id, fields[field] == "true", reasonCode, checked),
            by: Actor(keyID: session.key.id, role: .key(session.key.role), requestID: context[RequestIDKey.self] ?? "console"))
        let said = t(done(output), visit.locale) + " " + id
        return console.redirect("/console/reviews?done=" + (said.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
    }

    /// A hardship decision (README "Hardship plans").
    @Sendable func resolveHardship(_ request: Request, _ context: RequestContext, _ visit: ConsoleRoutes.Visit, _ session: ConsoleSession) async throws -> Response {
        try await decide(request, context, visit, session, subject: .hardshipRequest, yes: "approve", {
            ResolveHardship(requestID: $0, approve: $1, reasonCode: $2, note: $3, resolvedBy: session.key.id)
        }, done: { $0.status == .approved ? "hardship_approved" : "hardship_declined" })
    }

    /// An answer to a dispute of credit reporting (README "Credit reporting").
    @Sendable func resolveDispute(_ request: Request, _ context: RequestContext, _ visit: ConsoleRoutes.Visit, _ session: ConsoleSession) async throws -> Response {
        try await decide(request, context, visit, session, subject: .bureauDispute, yes: "upheld", {
            ResolveBureauDispute(disputeID: $0, upheld: $1, reasonCode: $2, note: $3, resolvedBy: session.key.id)
        }, done: { $0.status == .upheld ? "dispute_upheld" : "dispute_rejected" })
    }

    @Sendable func accountPage(_: Request, _ context: RequestContext, _ visit: ConsoleRoutes.Visit, _ session: ConsoleSession) async throws -> Response {
        let id = try context.parameter("id")
        guard let dossier = try await store.accountDossier(id: id, scope: session.key.scope) else {
            throw DomainError.notFound("account")
        }
        return render(visit, title: t("account", visit.locale) + " " + id, AccountPage(dossier: dossier).html(view(visit)))
    }

    @Sendable func noticesPage(_: Request, _: RequestContext, _ visit: ConsoleRoutes.Visit, _ session: ConsoleSession) async throws -> Response {
        let page = OverdueNoticesPage(overdue: try await store.notices(status: .overdue, now: visit.now, scope: session.key.scope))
        return render(visit, title: t("notices", visit.locale), page.html(view(visit)))
    }

    @Sendable func webhooksPage(_: Request, _: RequestContext, _ visit: ConsoleRoutes.Visit, _ session: ConsoleSession) async throws -> Response {
        let page = FailingDeliveriesPage(failing: try await store.failingDeliveries(scope: session.key.scope, limit: 200))
        return render(visit, title: t("webhooks", visit.locale), page.html(view(visit)))
    }

    @Sendable func modelsPage(_: Request, _: RequestContext, _ visit: ConsoleRoutes.Visit, _ session: ConsoleSession) async throws -> Response {
        let now = visit.now
        var cards: [ModelStabilityPage.Card] = []
        for card in [model.registry.champion] + (model.registry.challenger.map { [$0] } ?? []) {
            guard let report = StabilityReport(try await store.stabilityCounts(
                of: card, from: now.adding(days: -30), to: now, scope: session.key.scope))
            else { continue }
            cards.append(.init(modelVersion: card.modelVersion, part: model.registry.part(of: card.version).rawValue, report: report))
        }
        return render(visit, title: t("models", visit.locale), ModelStabilityPage(cards: cards).html(view(visit)))
    }

    @Sendable func auditPage(_ request: Request, _: RequestContext, _ visit: ConsoleRoutes.Visit, _: ConsoleSession) async throws -> Response {
        // A signed root checkpoint of the heads, to keep elsewhere (README "Audit").
        let page = AuditHeadPage(
            checkpoint: try application.signer.sign(heads: try await store.auditHeads(), at: visit.now.rfc3339),
            publicKey: application.signer.publicKey.base64EncodedString(),
            verification: request.queryParameters["verify"] != nil ? try await store.verifyAuditChain(from: []) : nil)
        return render(visit, title: t("audit", visit.locale), page.html(view(visit)))
    }

    @Sendable func compliancePage(_: Request, _: RequestContext, _ visit: ConsoleRoutes.Visit, _ session: ConsoleSession) async throws -> Response {
        let now = visit.now
        let report = try await store.complianceReport(from: now.adding(days: -30), to: now,
                                                      settings: application.scoring.complianceSettings(application.configuration),
                                                      scope: session.key.scope, now: now)
        return render(visit, title: t("compliance", visit.locale), CompliancePage(report: report).html(view(visit)))
    }
}
