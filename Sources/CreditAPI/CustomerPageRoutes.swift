import CreditLine
import CreditStore
import Foundation
import HTTPServer
import HTTPTypes

/// The customer's own pages (README "The customer's own pages"): a calling service asks for a
/// link, and the customer reads and acts on a page the service itself shows. Each action runs
/// the same business write as the API, and uses the link in the same transaction.
struct CustomerPageRoutes: RouteFamily {
    let application: Application

    struct LinkRequest: RequestFields {
        var purpose: String
        var consentPurpose: String?
        var offerID: String?
        var decisionID: String?
        var returnURL: String
        var locale: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case purpose, locale
            case consentPurpose = "consent_purpose"
            case offerID = "offer_id"
            case decisionID = "decision_id"
            case returnURL = "return_url"
        }
    }

    struct LinkBody: Encodable {
        var id: String
        var url: String
        var purpose: String
        var expiresAt: String
        enum CodingKeys: String, CodingKey {
            case id, url, purpose
            case expiresAt = "expires_at"
        }
    }

    /// Where links are made: `public_base_url`, or this machine when the service listens on
    /// loopback; nil when it listens elsewhere and no public address is set.
    var baseURL: String? {
        let configuration = application.configuration
        if let base = configuration.publicBaseURL { return base }
        guard WebhookRules.loopbackHosts.contains(configuration.host) || configuration.host.hasPrefix("127.") else {
            return nil
        }
        return "http://127.0.0.1:\(application.port)"
    }

    func register(on router: inout Router) {
        router.post("/v1/accounts/{id}/customer-links", handler: application.authorized([.service], issueLink))
        let stylesheet = application.customerStylesheet
        router.get("/c/style.css", handler: { _, _ in
            var response = Response(status: .ok, body: stylesheet)
            response.headerFields[.contentType] = "text/css; charset=utf-8"
            response.headerFields[.cacheControl] = "max-age=300"
            return response
        })
        router.get("/c/{token}", handler: showPage)
        router.post("/c/{token}", handler: actOnPage)
    }

    // MARK: - The link

    /// A link for the customer, `{id, url, purpose, expires_at}`. The answer holds the token, so
    /// it is never kept for an Idempotency-Key replay: a retry hands out a new link, and the
    /// first expires unused.
    @Sendable func issueLink(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let body = try RequestBody.decode(LinkRequest.self, from: request)
        let accountID = try context.parameter("id")
        let linkRequest = try CustomerLinkRules.validate(
            purpose: body.purpose, consentPurpose: body.consentPurpose, offerID: body.offerID, decisionID: body.decisionID,
            returnURL: body.returnURL, locale: body.locale, returnHosts: application.configuration.customerReturnHosts)
        guard let base = baseURL else {
            throw Problem(status: .serviceUnavailable, code: .notConfigured,
                          detail: "public_base_url is not set and the service listens beyond loopback: a link would name an address customers cannot reach.")
        }
        let token = KeyToken.newSecret()
        let link = try await store.perform(
            IssueCustomerLink(accountID: accountID, request: linkRequest, tokenSHA256: Hashing.sha256Hex(Data(token.utf8))),
            by: call.actor, at: call.now)
        var response = try ResponseBody.json(LinkBody(id: link.id, url: base + "/c/" + token, purpose: linkRequest.purpose.rawValue,
                                                      expiresAt: link.expiresAt.rfc3339), status: .created)
        response.headerFields[.cacheControl] = "no-store"
        return response
    }

    // MARK: - The pages

    private func context(_ facts: CustomerPageFacts, locale: NoticeLocale, now: Timestamp) -> CustomerPage.Context {
        CustomerPage.Context(facts: facts, locale: locale, now: now, application: application)
    }

    private func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response { HTML.response(text, status: status) }

    /// A page that only says something: a missing, used or expired link.
    private func message(_ key: String, locale: NoticeLocale, status: HTTPResponse.Status, returnURL: URL? = nil) -> Response {
        let words = application.customerTexts
        var body = #"<p class="banner" role="alert">\#(words(key, locale))</p>"#
        if let returnURL {
            body += #"<p><a class="back" href="\#(HTML.escape(returnURL.absoluteString))">\#(words("back", locale))</a></p>"#
        }
        return html(CustomerPage.layout(title: words("refused", locale), body, locale: locale, words: words), status: status)
    }

    /// The page's language: the switch's (`?locale=`, or the form's), else the link's, else the
    /// account's own (its notices'), else Chinese.
    private static func locale(_ text: String?, _ facts: CustomerPageFacts?) -> NoticeLocale {
        text.flatMap(NoticeLocale.init(rawValue:)) ?? facts?.link.request.locale ?? facts?.account.locale ?? .customerDefault
    }

    /// The link's page. Opening it does not use it (message previewers fetch links); the time it
    /// was shown is kept for the evidence of its action.
    @Sendable func showPage(_ request: Request, _ context: RequestContext) async throws -> Response {
        let now = application.requestTime(context)
        let token = try context.parameter("token")
        guard let facts = try await store.customerPage(token: token) else {
            return message("not_found", locale: Self.locale(request.queryParameters["locale"], nil), status: .notFound)
        }
        let link = facts.link
        let locale = Self.locale(request.queryParameters["locale"], facts)
        if let gone = gone(link, locale: locale, now: now) { return gone }
        let pageContext = self.context(facts, locale: locale, now: now)
        let page = CustomerPage.make(pageContext)
        if page.form != .none {
            _ = try await store.perform(ShowCustomerLink(linkID: link.id), by: actor(link, context), at: now)
        }
        return html(page.document(pageContext))
    }

    private func gone(_ link: CustomerLink, locale: NoticeLocale, now: Timestamp) -> Response? {
        switch link.state(at: now) {
        case .usable: return nil
        case .used: return message("link_used", locale: locale, status: .gone, returnURL: link.request.returnURL)
        case .expired: return message("link_expired", locale: locale, status: .gone, returnURL: link.request.returnURL)
        }
    }

    private func actor(_ link: CustomerLink, _ context: RequestContext) -> Actor {
        Actor(keyID: link.id, role: .customer, requestID: context[RequestIDKey.self] ?? "unknown")
    }

    /// The page's one action, on the page as the customer read it: the hash the form carries must
    /// be the page's hash now, else the page is shown again (409) and nothing is done.
    @Sendable func actOnPage(_ request: Request, _ context: RequestContext) async throws -> Response {
        let now = application.requestTime(context)
        let token = try context.parameter("token")
        let fields = ConsoleRoutes.form(request)
        guard let facts = try await store.customerPage(token: token) else {
            return message("not_found", locale: Self.locale(fields["locale"], nil), status: .notFound)
        }
        let link = facts.link
        let locale = Self.locale(fields["locale"], facts)
        if let gone = gone(link, locale: locale, now: now) { return gone }
        let pageContext = self.context(facts, locale: locale, now: now)
        let page = CustomerPage.make(pageContext)
        let words = application.customerTexts
        func refuse(_ key: String, _ status: HTTPResponse.Status) -> Response {
            html(page.document(pageContext, banner: (words(key, locale), false)), status: status)
        }
        guard page.form != .none, let shownAt = link.shownAt, fields["page"] == page.sha256 else {
            return refuse("page_changed", .conflict)
        }
        let evidence = PageEvidence(linkID: link.id, locale: locale, pageSHA256: page.sha256, shownAt: shownAt)
        let action = fields["action"] ?? ""
        if page.form == .consent, action == "agree", fields["agree"] != "yes" {
            return refuse("tick_required", .unprocessableContent)
        }
        do {
            let result = try await act(facts, page: evidence, action: action, pageContext: pageContext,
                                       actor: actor(link, context), now: now)
            return html(page.document(pageContext, banner: (result, true), showForm: false, returnURL: link.request.returnURL))
        } catch let error as DomainError {
            if error.kind == .gone {
                // Used by another submission, or expired, since this one read the link.
                return message(error.code == .linkExpired ? "link_expired" : "link_used", locale: locale, status: .gone,
                               returnURL: link.request.returnURL)
            }
            let status: HTTPResponse.Status = error.kind == .notFound ? .notFound
                : error.kind == .invalid ? .unprocessableContent : .conflict
            let known = Self.friendly[error.code].map { words($0, locale) }
            let text = known ?? words("refused", locale) + ": " + HTML.escape(error.message)
            return html(page.document(pageContext, banner: (text, false), returnURL: link.request.returnURL), status: status)
        }
    }

    /// Refusals a customer can meet, in their words; others are named by the rule's message.
    static let friendly: [ProblemCode: String] = [
        .consentAlreadyActive: "already_agreed", .consentRequired: "need_consent", .coolingOffOver: "cooling_off_over",
        .linkUsed: "link_used", .linkExpired: "link_expired",
    ]

    /// Runs the page's action through the API's own write, wrapped so that the link is used in
    /// the same transaction; answers the result in the customer's words.
    private func act(_ facts: CustomerPageFacts, page: PageEvidence, action: String, pageContext c: CustomerPage.Context,
                     actor: Actor, now: Timestamp) async throws -> String
    {
        let link = facts.link
        let accountID = facts.account.id
        let confirmation = CustomerConfirmation(page: page)
        func run<W: BusinessWrite>(_ write: W, _ outcome: @escaping @Sendable (W.Output) -> (outcome: String, recordID: String))
            async throws -> W.Output
        {
            try await store.perform(ActOnCustomerLink(linkID: link.id, page: page, inner: write, outcome: outcome), by: actor, at: now)
        }
        switch link.request.purpose {
        case .consent:
            let purpose = link.request.consentPurpose ?? .creditAssessment
            guard let notice = CustomerPage.notice(c, purpose), action == "agree" || action == "decline" else {
                throw DomainError.invalidField("action", "action must be agree or decline.")
            }
            let grant = ConsentRules.Grant(
                purpose: purpose, noticeVersion: notice.version, noticeSHA256: notice.sha256, channel: .hosted,
                method: .explicitOptIn, evidence: nil,
                expiresAt: now.adding(days: min(ConsentRules.defaultValidityDays, application.configuration.consentMaxDays)))
            if action == "decline" {
                _ = try await run(DeclineConsent(accountID: accountID, grant: grant, page: page)) { ("declined", $0.id) }
                return c.t("declined_result")
            }
            _ = try await run(GrantConsent(accountID: accountID, grant: grant, page: page)) { ("agreed", $0.id) }
            return c.t("agreed_result")
        case .activation:
            let consentID = CustomerPage.activeConsent(c, .creditLine)?.id ?? ""
            let result = try await run(ActivateAccount(
                accountID: accountID, consentID: consentID, decisionID: link.request.decisionID ?? "",
                termsVersion: application.scoring.terms.version, requestedLimit: nil, terms: application.scoring.terms,
                policy: c.policy, confirmation: confirmation)) { ($0.outcome.name, $0.account.id) }
            switch result.outcome {
            case .activated(let limit): return c.t("activated_result", ["limit": c.money(limit)])
            case .pendingReview: return c.t("review_result")
            case .declined: return c.t("declined_activation_result")
            }
        case .withdrawal:
            let purpose = link.request.consentPurpose ?? .creditAssessment
            let consentID = try Existence.require(CustomerPage.activeConsent(c, purpose)?.id, "consent")
            _ = try await run(WithdrawConsent(consentID: consentID, channel: .hosted, reason: nil, confirmation: confirmation)) {
                ("withdrawn", $0.consent.id)
            }
            return c.t("withdrawn_result")
        case .cancellation:
            _ = try await run(CancelLine(accountID: accountID, channel: .hosted, confirmation: confirmation,
                                         coolingOffDays: c.coolingOffDays)) { ("cancelled", $0.id) }
            return c.t("cancelled_result")
        case .offer:
            let (_, account) = try await run(AcceptLimitOffer(
                accountID: accountID, offerID: link.request.offerID ?? "", confirmation: confirmation, policy: c.policy,
                actorKeyID: link.id)) { (offer, _) in ("accepted", offer.id) }
            return c.t("offer_result", ["limit": c.money(account.creditLimit)])
        }
    }
}
