import CreditLine
import CreditStore
import Foundation

/// What a console page shows, apart from how it was read (README "Console"): each page's
/// handler reads everything first, at the request's one time (`Visit.now`), in one read where the
/// page needs several, and a page value below turns it into HTML with no store at hand. Every
/// value from the database goes through `HTML.escape`.
struct ConsoleView {
    let texts: ConsoleTexts
    let locale: NoticeLocale
    let now: Timestamp

    func t(_ key: String) -> String { texts(key, locale) }

    func table(_ headers: [String], _ rows: [[String]]) -> String {
        guard !rows.isEmpty else { return "" }
        return "<table><tr>" + headers.map { "<th>\($0)</th>" }.joined() + "</tr>"
            + rows.map { "<tr>" + $0.map { "<td>\($0)</td>" }.joined() + "</tr>" }.joined() + "</table>"
    }

    /// A table, or a line saying there is nothing to show.
    func tableOrEmpty(_ headers: [String], _ rows: [[String]]) -> String {
        rows.isEmpty ? "<p class=\"muted\">\(t("empty"))</p>" : table(headers, rows)
    }

    func consentList(_ consents: [Consent]) -> String {
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
}

/// The review queue: oldest first, each with its decision explained and its four-eyes state.
struct ReviewQueuePage {
    var queue: [Store.QueuedReview]
    /// Hardship requests waiting for a decision (README "Hardship plans").
    var hardship: [HardshipRequest] = []
    /// Disputes of credit reporting waiting for an answer, the nearest deadline first (README
    /// "Credit reporting").
    var disputes: [BureauDispute] = []
    var now: Timestamp? = nil
    /// What the last resolution did, as the redirect after it said.
    var done: String?
    /// The session's CSRF field, for the forms.
    var csrfField: String

    func html(_ view: ConsoleView) -> String {
        var sections = done.map { #"<p class="banner info">\#(HTML.escape($0))</p>"# } ?? ""
        for queued in queue { sections += item(queued, view) }
        for request in hardship { sections += hardshipItem(request, view) }
        for dispute in disputes { sections += disputeItem(dispute, view) }
        return sections.isEmpty ? "<p class=\"muted\">\(view.t("empty"))</p>" : sections
    }

    /// A hardship request: what the customer asked for, and the decision with a reason code.
    private func hardshipItem(_ request: HardshipRequest, _ view: ConsoleView) -> String {
        let t = view.t
        let action = "/console/hardship-requests/\(HTML.escape(request.id))/resolution"
        func form(_ approve: Bool, codes: [String], button: String) -> String {
            let options = codes.map { #"<option value="\#($0)">\#(HTML.escape($0))</option>"# }.joined()
            return #"<form method="post" action="\#(action)">\#(csrfField)<input type="hidden" name="approve" value="\#(approve)">"#
                + #"<label>\#(t("reason_code"))<select name="reason_code">\#(options)</select></label>"#
                + #"<label>\#(t("note"))<input type="text" name="note" maxlength="500"></label>"# + button + "</form>"
        }
        let kind = t("hardship_" + request.kind.rawValue)
        var html = #"<section class="card hardship" id="\#(HTML.escape(request.id))">"#
        html += #"<h2>\#(t("hardship")) · <a href="/console/accounts/\#(HTML.escape(request.accountID))">\#(HTML.escape(request.accountID))</a></h2>"#
        html += "<p>\(kind) · \(request.months) \(t("months"))</p>"
        html += #"<p class="muted">\#(t("opened")) \#(request.requestedAt.rfc3339) · \#(HTML.escape(request.id))</p><div class="forms">"#
        let approve = #"<button type="submit" class="approve">\#(t("approve"))</button>"#
        let decline = #"<button type="submit" class="danger decline">\#(t("decline"))</button>"#
        html += form(true, codes: ["hardship_income_loss", "hardship_expenses", "other"], button: approve)
        html += form(false, codes: ["hardship_not_needed", "other"], button: decline)
        return html + "</div></section>"
    }

    /// A dispute: what it is of, its deadline (marked once passed), and the answer with a reason code.
    private func disputeItem(_ dispute: BureauDispute, _ view: ConsoleView) -> String {
        let t = view.t
        let action = "/console/bureau-disputes/\(HTML.escape(dispute.id))/resolution"
        func form(_ upheld: Bool, reason: String, button: String) -> String {
            #"<form method="post" action="\#(action)">\#(csrfField)<input type="hidden" name="upheld" value="\#(upheld)">"#
                + #"<input type="hidden" name="reason_code" value="\#(reason)">"#
                + #"<label>\#(t("note"))<input type="text" name="note" maxlength="500"></label>"# + button + "</form>"
        }
        let late = now.map { $0 > dispute.dueBy } ?? false
        var html = #"<section class="card dispute" id="\#(HTML.escape(dispute.id))">"#
        html += #"<h2>\#(t("dispute")) · <a href="/console/accounts/\#(HTML.escape(dispute.accountID))">\#(HTML.escape(dispute.accountID))</a></h2>"#
        html += "<p>\(t("dispute_" + dispute.item.rawValue))</p>"
        html += #"<p class="\#(late ? "banner" : "muted")">\#(t("answer_by")) \#(dispute.dueBy.rfc3339)\#(late ? " · " + t("late") : "")</p>"#
        html += #"<p class="muted">\#(t("opened")) \#(dispute.openedAt.rfc3339) · \#(HTML.escape(dispute.id))</p><div class="forms">"#
        html += form(true, reason: "dispute_upheld_error", button: #"<button type="submit" class="approve">\#(t("uphold"))</button>"#)
        html += form(false, reason: "dispute_rejected_accurate",
                     button: #"<button type="submit" class="danger decline">\#(t("reject"))</button>"#)
        return html + "</div></section>"
    }

    private func item(_ queued: Store.QueuedReview, _ view: ConsoleView) -> String {
        let (record, review, t) = (queued.record, queued.record.review, view.t)
        var item = #"<section class="card review" id="\#(HTML.escape(review.id))">"#
        item += #"<h2>\#(HTML.escape(review.kind.rawValue)) · <a href="/console/accounts/\#(HTML.escape(review.accountID))">\#(HTML.escape(review.accountID))</a></h2>"#
        item += #"<p class="muted">\#(t("opened")) \#(review.createdAt.rfc3339) · \#(HTML.escape(review.id))"#
        if let reason = record.reason { item += " · \(t("review_reason")): <strong>\(t(reason))</strong>" }
        item += "</p>"
        if let decision = queued.decision {
            item += "<p>\(t("score")) <strong>\(decision.score)</strong> · \(t("tier")) <strong>\(decision.tier.rawValue)</strong> · "
                + "\(t("reasons")): " + decision.reasons.map { HTML.escape("\($0.code) \($0.description)") }.joined(separator: "; ") + "</p>"
            item += "<p class=\"muted\">\(t("explanation"))</p>" + HTML.explanationBars(decision.explanation)
        }
        item += "<p>\(t("consents")):<br>\(view.consentList(queued.consents))</p>"
        if let statement = review.statement {
            item += #"<p>\#(t("statement")):</p><p class="statement">\#(HTML.escape(statement))</p>"#
        }
        // What the customer asked for is the most an approval may grant (more is an offer).
        if let requested = record.requestedLimit {
            item += #"<p class="requested">\#(t("requested_limit")): <strong>\#(HTML.yuan(requested))</strong></p>"#
        }
        if let limit = record.firstApprovedLimit, let first = record.firstApprover {
            item += #"<p class="banner info awaiting">\#(t("awaiting")) \#(HTML.yuan(limit)) \#(t("by")) \#(HTML.escape(first))</p>"#
        }
        let action = "/console/reviews/\(HTML.escape(review.id))/resolution"
        return item + """
            <div class="forms"><form method="post" action="\(action)">\(csrfField)
            <input type="hidden" name="approve" value="true">
            <label>\(t("credit_limit"))<input type="number" name="credit_limit" min="0"\(record.requestedLimit.map { " max=\"\($0)\"" } ?? "") value="\((record.firstApprovedLimit ?? record.requestedLimit).map(String.init) ?? "")"></label>
            <label>\(t("note"))<input type="text" name="note" required maxlength="1000"></label>
            <button type="submit" class="approve">\(t("approve"))</button></form>
            <form method="post" action="\(action)">\(csrfField)
            <input type="hidden" name="approve" value="false">
            <label>\(t("note"))<input type="text" name="note" required maxlength="1000"></label>
            <button type="submit" class="danger decline">\(t("decline"))</button></form></div></section>
            """
    }
}

/// An account: its state, consents, decisions, notices and its audit timeline.
struct AccountPage {
    var dossier: AccountDossier

    func html(_ view: ConsoleView) -> String {
        let (account, t) = (dossier.account, view.t)
        var body = "<section class=\"card\">" + view.table(
            [t("status"), t("limit"), t("balance"), t("delinquency")],
            [[HTML.escape(account.status.rawValue), HTML.yuan(account.creditLimit), HTML.yuan(account.balance),
              HTML.escape(account.delinquency(on: CivilDate(view.now)).rawValue)]]) + "</section>"
        if let terms = account.terms {
            // Every plan's price with its annual rate beside it (README "The line in use").
            body += "<h2>\(t("terms")) \(HTML.escape(account.termsVersion ?? ""))</h2>"
                + "<p>\(t("interest_free_days")): \(terms.interestFreeDays)</p>"
                + view.table([t("plan_months"), t("monthly_fee"), t("annual_rate")], terms.instalmentPlans.map {
                    [String($0.months), AnnualRate.percent($0.monthlyFeeBps), AnnualRate.percent($0.aprBps)]
                })
        }
        body += "<h2>\(t("consents"))</h2><section class=\"card\">" + view.consentList(dossier.consents) + "</section>"
        body += "<h2>\(t("decisions"))</h2>" + view.table([t("decision"), t("score"), t("tier"), t("reasons")],
            dossier.decisions.map { [HTML.escape($0.id), String($0.score), $0.tier.rawValue,
                                     $0.reasons.map { HTML.escape($0.code) }.joined(separator: " ")] })
        body += "<h2>\(t("notices"))</h2>" + view.table([t("kind"), t("status"), "text"],
            dossier.notices.map { [HTML.escape($0.kind.rawValue),
                                   NoticeStatus.of(deliveredAt: $0.deliveredAt, dueBy: $0.dueBy, now: view.now).rawValue,
                                   HTML.escape($0.text)] })
        body += "<h2>\(t("timeline"))</h2>" + view.table(["seq", "at", "action", "detail"],
            dossier.timeline.map { [String($0.seq), HTML.escape($0.at), HTML.escape($0.action), HTML.escape($0.detail)] })
        return body
    }
}

/// Notices past their deadline and not delivered, oldest deadline first.
struct OverdueNoticesPage {
    var overdue: [NoticeRecord]

    func html(_ view: ConsoleView) -> String {
        view.tableOrEmpty([view.t("account"), view.t("kind"), view.t("due_by"), "text"], overdue.map { notice in
            [#"<a href="/console/accounts/\#(HTML.escape(notice.accountID))">\#(HTML.escape(notice.accountID))</a>"#,
             HTML.escape(notice.kind.rawValue), notice.dueBy.rfc3339, HTML.escape(notice.text)]
        })
    }
}

/// Deliveries that failed for good or are being retried after a failure.
struct FailingDeliveriesPage {
    var failing: [WebhookDelivery]

    func html(_ view: ConsoleView) -> String {
        let t = view.t
        return view.tableOrEmpty([t("endpoint"), t("event"), t("status"), t("attempts"), t("last_error")], failing.map { delivery in
            [HTML.escape(delivery.endpointID), HTML.escape(delivery.eventType.rawValue), HTML.escape(delivery.status.rawValue),
             String(delivery.attempts), HTML.escape(delivery.lastError ?? delivery.lastStatus.map(String.init) ?? "")]
        })
    }
}

/// The champion's and the challenger's stability over the last 30 days.
struct ModelStabilityPage {
    struct Card {
        var modelVersion: String
        var part: String
        var report: StabilityReport
    }

    var cards: [Card]

    func html(_ view: ConsoleView) -> String {
        let t = view.t
        return cards.map { card in
            let report = card.report
            return "<section class=\"card\"><h2>\(HTML.escape(card.modelVersion)) · \(card.part)</h2>"
                + "<p>\(t("psi")): <strong>\(String(format: "%.4f", report.populationStabilityIndex))</strong> "
                + "(<span class=\"\(report.status == "act" ? "bad" : "good")\">\(report.status)</span>) · \(report.decisions) \(t("decisions"))</p>"
                + HTML.stabilityChart(report)
                + "<h2>\(t("csi"))</h2>" + view.table(["", "CSI", t("status")],
                    report.characteristics.map { [HTML.escape($0.name), String(format: "%.4f", $0.index), $0.status] })
                + "</section>"
        }.joined()
    }
}

/// The chains' heads with a signed root checkpoint of them, the public key, and (when asked) the
/// verification of every chain.
struct AuditHeadPage {
    var checkpoint: SignedRoot
    var publicKey: String
    var verification: AuditChain.Verification?

    func html(_ view: ConsoleView) -> String {
        let t = view.t
        let heads = checkpoint.heads.map { "\($0.chain): seq <strong>\($0.seq)</strong> · <code>\(HTML.escape($0.hash))</code>" }
        var body = "<section class=\"card\"><p>\(t("head")):</p><ul><li>" + heads.joined(separator: "</li><li>") + "</li></ul>"
            + "<p>\(t("checkpoint")): <code>\(HTML.escape(checkpoint.at))</code> · <code>\(HTML.escape(checkpoint.signature))</code></p>"
            + "<p>\(t("public_key")): <code>\(publicKey)</code></p>"
            + "<p><a href=\"/console/audit?verify=1\">\(t("verify"))</a></p></section>"
        switch verification {
        case .intact(let checked, _)?:
            body += "<p class=\"banner info\">\(t("intact")): \(checked) \(t("checked_entries"))</p>"
        case .broken(let chain, let seq, let reason)?:
            body += "<p class=\"banner\">\(t("broken")): chain \(chain) seq \(seq) · \(HTML.escape(reason))</p>"
        case nil:
            break
        }
        return body
    }
}

/// The last 30 days' compliance report, check by check.
struct CompliancePage {
    var report: ComplianceReport

    func html(_ view: ConsoleView) -> String {
        let t = view.t
        let rows = report.checks.map { check -> [String] in
            let anomaly = check.kind == "anomaly"
            return [HTML.escape(check.number), t("check_" + check.number)
                        + (anomaly ? " <span class=\"muted\">(\(t("anomaly")))</span>" : ""),
                    "<strong class=\"\(check.holds ? "good" : "bad")\">\(check.holds ? t("holds") : t("fails"))</strong>",
                    check.ids.map(HTML.escape).joined(separator: " ")]
        }
        return "<p class=\"muted\">\(HTML.escape(report.from.rfc3339)) – \(HTML.escape(report.to.rfc3339))"
            + " · \(t("head")) \(report.auditHeads.map { "\($0.chain):\($0.seq)" }.joined(separator: " "))</p>"
            + view.table([t("check"), "", t("status"), t("ids")], rows)
    }
}
