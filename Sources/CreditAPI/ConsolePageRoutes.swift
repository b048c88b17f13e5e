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

    func table(_ headers: [String], _ rows: [[String]]) -> String {
        guard !rows.isEmpty else { return "" }
        return "<table><tr>" + headers.map { "<th>\($0)</th>" }.joined() + "</tr>"
            + rows.map { "<tr>" + $0.map { "<td>\($0)</td>" }.joined() + "</tr>" }.joined() + "</table>"
    }

    func consentList(_ consents: [Consent], _ now: Timestamp) -> String {
        consents.map { consent in
            let status = consent.status(at: now).rawValue
            // The receipt: what was shown (version and hash), how and where it was given, until when.
            return "\(HTML.escape(consent.purpose.rawValue)): <strong class=\"\(status == "active" ? "good" : "bad")\">\(status)</strong>"
                + " <span class=\"muted\">\(HTML.escape(consent.id)) · \(HTML.escape(consent.noticeVersion))"
                + " sha256:\(HTML.escape(String(consent.noticeSHA256.prefix(16))))… · \(HTML.escape(consent.method.rawValue))"
                + " · \(HTML.escape(consent.channel.rawValue)) · \(consent.grantedAt.rfc3339) → \(consent.expiresAt.rfc3339)"
                + (consent.withdrawnAt.map { " · withdrawn \($0.rfc3339)" } ?? "") + "</span>"
        }.joined(separator: "<br>")
    }

    func register(on router: inout Router) {
        router.get("/console/reviews", handler: console.page(ConsoleRoutes.Page.reviews.roles, reviewsPage))
        router.post("/console/reviews/{id}/resolution", handler: console.page(ConsoleRoutes.Page.reviews.roles, resolveReview))
        router.get("/console/accounts/{id}", handler: console.page([.operator, .auditor], accountPage))
        router.get("/console/notices", handler: console.page(ConsoleRoutes.Page.notices.roles, noticesPage))
        router.get("/console/webhooks", handler: console.page(ConsoleRoutes.Page.webhooks.roles, webhooksPage))
        router.get("/console/models", handler: console.page(ConsoleRoutes.Page.models.roles, modelsPage))
        router.get("/console/audit", handler: console.page(ConsoleRoutes.Page.audit.roles, auditPage))
        router.get("/console/compliance", handler: console.page(ConsoleRoutes.Page.compliance.roles, compliancePage))
    }

    // MARK: - Endpoints

    /// The review queue: oldest first, each with its decision explained and its four-eyes state.
    @Sendable func reviewsPage(_ request: Request, _: RequestContext, _ visit: ConsoleRoutes.Visit, _ session: ConsoleSession) async throws -> Response {
        let l = visit.locale
        let now = visit.now
        var sections = ""
        if let done = request.queryParameters["done"] {
            sections += #"<p class="banner info">\#(HTML.escape(done))</p>"#
        }
        for queued in try await store.reviewQueue(scope: session.key.scope) {
            let (record, decision, consents) = (queued.record, queued.decision, queued.consents)
            let review = record.review
            var item = #"<section class="card review" id="\#(HTML.escape(review.id))">"#
            item += #"<h2>\#(HTML.escape(review.kind.rawValue)) · <a href="/console/accounts/\#(HTML.escape(review.accountID))">\#(HTML.escape(review.accountID))</a></h2>"#
            item += #"<p class="muted">\#(t("opened", l)) \#(review.createdAt.rfc3339) · \#(HTML.escape(review.id))"#
            if let reason = record.reason {
                item += " · \(t("review_reason", l)): <strong>\(t(reason, l))</strong>"
            }
            item += "</p>"
            if let decision {
                item += "<p>\(t("score", l)) <strong>\(decision.score)</strong> · \(t("tier", l)) <strong>\(decision.tier.rawValue)</strong> · "
                    + "\(t("reasons", l)): " + decision.reasons.map { HTML.escape("\($0.code) \($0.description)") }.joined(separator: "; ") + "</p>"
                item += "<p class=\"muted\">\(t("explanation", l))</p>" + HTML.explanationBars(decision.explanation)
            }
            item += "<p>\(t("consents", l)):<br>\(consentList(consents, now))</p>"
            if let statement = review.statement {
                item += #"<p>\#(t("statement", l)):</p><p class="statement">\#(HTML.escape(statement))</p>"#
            }
            // What the customer asked for is the most an approval may grant (more is an offer).
            if let requested = record.requestedLimit {
                item += #"<p class="requested">\#(t("requested_limit", l)): <strong>\#(HTML.yuan(requested))</strong></p>"#
            }
            if let limit = record.firstApprovedLimit, let first = record.firstApprover {
                item += #"<p class="banner info awaiting">\#(t("awaiting", l)) \#(HTML.yuan(limit)) \#(t("by", l)) \#(HTML.escape(first))</p>"#
            }
            let action = "/console/reviews/\(HTML.escape(review.id))/resolution"
            item += """
                <div class="forms"><form method="post" action="\(action)">\(console.csrf(session))
                <input type="hidden" name="approve" value="true">
                <label>\(t("credit_limit", l))<input type="number" name="credit_limit" min="0"\(record.requestedLimit.map { " max=\"\($0)\"" } ?? "") value="\((record.firstApprovedLimit ?? record.requestedLimit).map(String.init) ?? "")"></label>
                <label>\(t("note", l))<input type="text" name="note" required maxlength="1000"></label>
                <button type="submit" class="approve">\(t("approve", l))</button></form>
                <form method="post" action="\(action)">\(console.csrf(session))
                <input type="hidden" name="approve" value="false">
                <label>\(t("note", l))<input type="text" name="note" required maxlength="1000"></label>
                <button type="submit" class="danger decline">\(t("decline", l))</button></form></div></section>
                """
            sections += item
        }
        if sections.isEmpty { sections = "<p class=\"muted\">\(t("empty", l))</p>" }
        return console.html(console.layout(visit, title: t("reviews", l), sections))
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

    /// An account: its state, consents, decisions, notices and its audit timeline.
    @Sendable func accountPage(_: Request, _ context: RequestContext, _ visit: ConsoleRoutes.Visit, _ session: ConsoleSession) async throws -> Response {
        let l = visit.locale
        let now = visit.now
        let id = try context.parameter("id")
        guard let account = try await store.account(id: id), session.key.scope.sees(account.tenant) else {
            throw DomainError.notFound("account")
        }
        var body = "<section class=\"card\">" + table(
            [t("status", l), t("limit", l), t("balance", l), t("delinquency", l)],
            [[HTML.escape(account.status.rawValue), HTML.yuan(account.creditLimit), HTML.yuan(account.balance),
              HTML.escape(account.delinquency(on: CivilDate(now)).rawValue)]]) + "</section>"
        body += "<h2>\(t("consents", l))</h2><section class=\"card\">"
            + consentList(try await store.consents(accountID: id) ?? [], now) + "</section>"
        let decisions = try await store.decisions(accountID: id)
        body += "<h2>\(t("decisions", l))</h2>" + table([t("decision", l), t("score", l), t("tier", l), t("reasons", l)],
            decisions.map { [HTML.escape($0.id), String($0.score), $0.tier.rawValue,
                             $0.reasons.map { HTML.escape($0.code) }.joined(separator: " ")] })
        let notices = try await store.notices(accountID: id)
        body += "<h2>\(t("notices", l))</h2>" + table([t("kind", l), t("status", l), "text"],
            notices.map { [HTML.escape($0.kind.rawValue), NoticeStatus.of(deliveredAt: $0.deliveredAt, dueBy: $0.dueBy, now: now).rawValue,
                           HTML.escape($0.text)] })
        let entries = try await store.auditPage(accountID: id, action: nil, afterSeq: 0, limit: 1000,
                                                scope: session.key.scope).entries
        body += "<h2>\(t("timeline", l))</h2>" + table(["seq", "at", "action", "detail"],
            entries.map { [String($0.seq), HTML.escape($0.at), HTML.escape($0.action), HTML.escape($0.detail)] })
        return console.html(console.layout(visit, title: t("account", l) + " " + id, body))
    }

    @Sendable func noticesPage(_: Request, _: RequestContext, _ visit: ConsoleRoutes.Visit, _ session: ConsoleSession) async throws -> Response {
        let l = visit.locale
        let overdue = try await store.notices(status: .overdue, now: visit.now, scope: session.key.scope)
        let rows = overdue.map { notice in
            [#"<a href="/console/accounts/\#(HTML.escape(notice.accountID))">\#(HTML.escape(notice.accountID))</a>"#,
             HTML.escape(notice.kind.rawValue), notice.dueBy.rfc3339, HTML.escape(notice.text)]
        }
        let body = rows.isEmpty ? "<p class=\"muted\">\(t("empty", l))</p>"
            : table([t("account", l), t("kind", l), t("due_by", l), "text"], rows)
        return console.html(console.layout(visit, title: t("notices", l), body))
    }

    @Sendable func webhooksPage(_: Request, _: RequestContext, _ visit: ConsoleRoutes.Visit, _ session: ConsoleSession) async throws -> Response {
        let l = visit.locale
        let failing = try await store.failingDeliveries(scope: session.key.scope, limit: 200)
        let rows = failing.map { delivery in
            [HTML.escape(delivery.endpointID), HTML.escape(delivery.eventType.rawValue), HTML.escape(delivery.status.rawValue),
             String(delivery.attempts), HTML.escape(delivery.lastError ?? delivery.lastStatus.map(String.init) ?? "")]
        }
        let body = rows.isEmpty ? "<p class=\"muted\">\(t("empty", l))</p>"
            : table([t("endpoint", l), t("event", l), t("status", l), t("attempts", l), t("last_error", l)], rows)
        return console.html(console.layout(visit, title: t("webhooks", l), body))
    }

    @Sendable func modelsPage(_: Request, _: RequestContext, _ visit: ConsoleRoutes.Visit, _ session: ConsoleSession) async throws -> Response {
        let l = visit.locale
        let now = visit.now
        var body = ""
        for card in [model.registry.champion] + (model.registry.challenger.map { [$0] } ?? []) {
            guard let report = StabilityReport(try await store.stabilityCounts(
                of: card, from: now.adding(days: -30), to: now, scope: session.key.scope))
            else { continue }
            body += "<section class=\"card\"><h2>\(HTML.escape(card.modelVersion)) · \(model.registry.part(of: card.version).rawValue)</h2>"
            body += "<p>\(t("psi", l)): <strong>\(String(format: "%.4f", report.populationStabilityIndex))</strong> "
                + "(<span class=\"\(report.status == "act" ? "bad" : "good")\">\(report.status)</span>) · \(report.decisions) \(t("decisions", l))</p>"
            body += HTML.stabilityChart(report)
            body += "<h2>\(t("csi", l))</h2>" + table(["", "CSI", t("status", l)],
                report.characteristics.map { [HTML.escape($0.name), String(format: "%.4f", $0.index), $0.status] })
            body += "</section>"
        }
        return console.html(console.layout(visit, title: t("models", l), body))
    }

    @Sendable func auditPage(_ request: Request, _: RequestContext, _ visit: ConsoleRoutes.Visit, _: ConsoleSession) async throws -> Response {
        let l = visit.locale
        let head = try await store.auditHead()
        // A signed checkpoint of the head, to keep elsewhere (README "Audit").
        let checkpoint = try application.signer.sign(seq: head.seq, hash: head.hash, at: visit.now.rfc3339)
        var body = "<section class=\"card\"><p>\(t("head", l)): seq <strong>\(head.seq)</strong> · <code>\(HTML.escape(head.hash))</code></p>"
            + "<p>\(t("checkpoint", l)): <code>\(HTML.escape(checkpoint.at))</code> · <code>\(HTML.escape(checkpoint.signature))</code></p>"
            + "<p>\(t("public_key", l)): <code>\(application.signer.publicKey.base64EncodedString())</code></p>"
            + "<p><a href=\"/console/audit?verify=1\">\(t("verify", l))</a></p></section>"
        if request.queryParameters["verify"] != nil {
            switch try await store.verifyAuditChain(from: nil) {
            case .intact(let checked, _):
                body += "<p class=\"banner info\">\(t("intact", l)): \(checked) \(t("checked_entries", l))</p>"
            case .broken(let seq, let reason):
                body += "<p class=\"banner\">\(t("broken", l)): seq \(seq) · \(HTML.escape(reason))</p>"
            }
        }
        return console.html(console.layout(visit, title: t("audit", l), body))
    }

    @Sendable func compliancePage(_: Request, _: RequestContext, _ visit: ConsoleRoutes.Visit, _ session: ConsoleSession) async throws -> Response {
        let l = visit.locale
        let now = visit.now
        let report = try await store.complianceReport(from: now.adding(days: -30), to: now,
                                                      settings: application.scoring.complianceSettings(application.configuration),
                                                      scope: session.key.scope, now: now)
        let rows = report.checks.map { check -> [String] in
            let anomaly = check.kind == "anomaly"
            return [HTML.escape(check.number), t("check_" + check.number, l)
                        + (anomaly ? " <span class=\"muted\">(\(t("anomaly", l)))</span>" : ""),
                    "<strong class=\"\(check.holds ? "good" : "bad")\">\(check.holds ? t("holds", l) : t("fails", l))</strong>",
                    check.ids.map(HTML.escape).joined(separator: " ")]
        }
        let body = "<p class=\"muted\">\(HTML.escape(report.from.rfc3339)) – \(HTML.escape(report.to.rfc3339))"
            + " · \(t("head", l)) \(report.auditHead.seq)</p>"
            + table([t("check", l), "", t("status", l), t("ids", l)], rows)
        return console.html(console.layout(visit, title: t("compliance", l), body))
    }
}
