import CreditLine
import CreditStore
import Foundation
import HTTPServer
import HTTPTypes

/// The operators' and compliance officers' console (README "Console"): server-rendered pages
/// under `/console` over the same store methods and rules as the API. A session cookie
/// (`HttpOnly`, `SameSite=Strict`, `Path=/console`), a CSRF token in every form, no script.
struct ConsoleRoutes: RouteFamily {
    let application: Application
    let texts: ConsoleTexts
    let stylesheet: [UInt8]

    /// Wrong keys from one client address: 10, then one every 6 seconds (README "Console").
    static let failedSignInBurst = 10.0
    static let failedSignInsPerSecond = 1.0 / 6
    static let sessionCookie = "creditline_session"
    static let signInCookie = "creditline_sign_in"
    static let languageCookie = "creditline_lang"

    /// What a page knows about its reader.
    struct Visit: Sendable {
        /// The request's time, read once (`RequestTime`): every read and check of the page uses it.
        var now: Timestamp
        var locale: NoticeLocale
        var path: String
        /// Who is signed in, once the session's token is found good.
        var session: ConsoleSession?
        var token: String?

        /// A visit of `request`, before anyone is known to be signed in.
        init(_ request: Request, _ context: RequestContext, _ application: Application, token: String? = nil) {
            (session, self.token, locale) = (nil, token, ConsoleRoutes.locale(request))
            (path, now) = (String(request.path), application.requestTime(context))
        }
    }

    enum Page: String, CaseIterable {
        case reviews, notices, webhooks, models, audit, compliance

        var roles: Set<Role> {
            switch self {
            case .reviews, .notices, .webhooks: return [.operator]
            case .models: return [.operator, .auditor, .risk]
            case .audit, .compliance: return [.auditor]
            }
        }
    }

    // MARK: - Plumbing

    static func cookies(_ request: Request) -> [String: String] {
        var found: [String: String] = [:]
        for field in request.headerFields where field.name == .cookie {
            for part in field.value.split(separator: ";") {
                let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if pair.count == 2 { found[pair[0]] = pair[1] }
            }
        }
        return found
    }

    /// `application/x-www-form-urlencoded`, as a browser posts a form.
    static func form(_ request: Request) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in String(decoding: request.body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            fields[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return fields
    }

    /// The reader's language: the switch's cookie, else `Accept-Language`, else Chinese.
    static func locale(_ request: Request) -> NoticeLocale {
        if let chosen = cookies(request)[languageCookie], let locale = NoticeLocale(rawValue: chosen) { return locale }
        let accept = request.headerFields[.acceptLanguage]?.lowercased() ?? ""
        let english = accept.range(of: "en")?.lowerBound
        let chinese = accept.range(of: "zh")?.lowerBound
        if let english, chinese.map({ english < $0 }) ?? true { return .en }
        return .zhCN
    }

    /// Every console answer (`HTML.response`), with the cookies a page sets.
    func html(_ body: String, status: HTTPResponse.Status = .ok, headers: [(HTTPField.Name, String)] = []) -> Response {
        var response = HTML.response(body, status: status)
        for (name, value) in headers { response.headerFields.append(HTTPField(name: name, value: value)) }
        return response
    }

    func redirect(_ location: String, headers: [(HTTPField.Name, String)] = []) -> Response {
        var response = html("", status: .seeOther, headers: headers)
        response.headerFields[.location] = location
        return response
    }

    func cookie(_ name: String, _ value: String, maxAge: Int? = nil) -> String {
        var text = "\(name)=\(value); Path=/console; HttpOnly; SameSite=Strict"
        if let maxAge { text += "; Max-Age=\(maxAge)" }
        if application.configuration.consoleSecureCookies { text += "; Secure" }
        return text
    }

    func layout(_ visit: Visit, title: String, _ content: String) -> String {
        let t = { (key: String) in texts(key, visit.locale) }
        var nav = ""
        if let session = visit.session {
            for page in Page.allCases where page.roles.contains(session.key.role) {
                let here = visit.path.hasPrefix("/console/\(page.rawValue)") ? #" class="here""# : ""
                nav += #"<a\#(here) href="/console/\#(page.rawValue)">\#(t(page.rawValue))</a>"#
            }
            nav += languageSwitch(visit)
            nav += #"<span class="muted">\#(HTML.escape(session.key.name)) · \#(session.key.role.rawValue)</span>"#
            nav += #"<form class="inline" method="post" action="/console/sign-out">\#(csrf(session))"#
                + #"<button class="secondary" type="submit">\#(t("sign_out"))</button></form>"#
        } else {
            nav += languageSwitch(visit)
        }
        return """
            <!doctype html><html lang="\(visit.locale.rawValue)"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTML.escape(title)) · \(t("title"))</title><link rel="stylesheet" href="/console/style.css"></head>
            <body><header><nav><strong>\(t("title"))</strong>\(nav)</nav></header><main><h1>\(HTML.escape(title))</h1>
            \(content)</main></body></html>
            """
    }

    /// The other language, coming back to this page (no Referer is sent: the policy is no-referrer).
    func languageSwitch(_ visit: Visit) -> String {
        let back = visit.path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        return #"<a href="/console/language?to=\#(visit.locale == .en ? "zh-CN" : "en")&amp;back=\#(back)">\#(texts("language", visit.locale))</a>"#
    }

    func csrf(_ session: ConsoleSession) -> String {
        #"<input type="hidden" name="csrf" value="\#(HTML.escape(session.csrfToken))">"#
    }

    /// A page for signed-in readers of the given roles; others are sent to sign in (no
    /// session) or shown a refusal (wrong role).
    func page(_ roles: Set<Role>, _ render: @escaping @Sendable (Request, RequestContext, Visit, ConsoleSession) async throws -> Response)
        -> Handler
    {
        let store = application.store
        return { request, context in
            let token = Self.cookies(request)[Self.sessionCookie]
            var visit = Visit(request, context, application, token: token)
            guard let token, let session = try await store.consoleSession(token: token, now: visit.now) else {
                return redirect("/console/sign-in")
            }
            visit.session = session
            guard roles.contains(session.key.role) else {
                return html(layout(visit, title: texts("refused", visit.locale),
                                   #"<p class="banner">\#(texts("forbidden", visit.locale))</p>"#), status: .forbidden)
            }
            if request.method == .post {
                // A form from another page, or no form at all, is refused: the token is the
                // session's own (compared in constant time).
                let sent = Self.form(request)["csrf"] ?? ""
                guard !sent.isEmpty && KeyToken.constantTimeEqual(Data(sent.utf8), Data(session.csrfToken.utf8)) else {
                    return html(layout(visit, title: texts("refused", visit.locale),
                                       #"<p class="banner">CSRF</p>"#), status: .forbidden)
                }
            }
            do {
                return try await render(request, context, visit, session)
            } catch let error as DomainError {
                let status: HTTPResponse.Status = error.kind == .notFound ? .notFound
                    : error.kind == .invalid ? .unprocessableContent : .conflict
                return html(layout(visit, title: texts("refused", visit.locale),
                                   #"<p class="banner">\#(HTML.escape(error.message))</p><p><a href="/console/reviews">\#(texts("reviews", visit.locale))</a></p>"#),
                            status: status)
            }
        }
    }

    // MARK: - Routes

    func register(on router: inout Router) {
        let stylesheet = self.stylesheet

        router.get("/console", handler: { _, _ in redirect("/console/reviews") })

        router.get("/console/style.css", handler: { _, _ in
            var response = Response(status: .ok, body: stylesheet)
            response.headerFields[.contentType] = "text/css; charset=utf-8"
            response.headerFields[.cacheControl] = "max-age=300"
            return response
        })

        router.get("/console/language", handler: { request, _ in
            // A language the console does not have keeps the reader's own.
            let to = request.queryParameters["to"].flatMap(NoticeLocale.init(rawValue:)) ?? Self.locale(request)
            // Only a console path of this site: never a redirect to elsewhere.
            let back = request.queryParameters["back"].flatMap {
                $0.hasPrefix("/console/") && !$0.contains("//") && !$0.contains("\\") ? $0 : nil
            }
            return redirect(back ?? "/console/reviews", headers: [(.setCookie, cookie(Self.languageCookie, to.rawValue, maxAge: 31_536_000))])
        })

        router.get("/console/sign-in", handler: signInPage)
        router.post("/console/sign-in", handler: signIn)

        router.post("/console/sign-out", handler: page([.operator, .auditor, .risk]) { _, context, visit, session in
            if let token = visit.token {
                _ = try await store.perform(EndConsoleSession(token: token), by: Actor(
                    keyID: session.key.id, role: .key(session.key.role), requestID: context[RequestIDKey.self] ?? "console"))
            }
            return redirect("/console/sign-in", headers: [(.setCookie, cookie(Self.sessionCookie, "", maxAge: 0))])
        })

        ConsolePageRoutes(console: self).register(on: &router)
    }

    /// The sign-in page: a form whose token its own cookie carries (double submit).
    @Sendable func signInPage(_ request: Request, _ context: RequestContext) async throws -> Response {
        let locale = Self.locale(request)
        let nonce = KeyToken.newSecret()
        let visit = Visit(request, context, application)
        let failed = request.queryParameters["failed"] != nil
        let body = (failed ? #"<p class="banner">\#(texts("bad_key", locale))</p>"# : "") + """
            <section class="card"><p>\(texts("sign_in_help", locale))</p>
            <form method="post" action="/console/sign-in" class="forms"><div>
            <input type="hidden" name="csrf" value="\(nonce)">
            <label for="key">\(texts("api_key", locale))</label>
            <input type="password" id="key" name="key" autocomplete="off" required>
            <p><button type="submit" id="sign-in">\(texts("sign_in", locale))</button></p></div></form></section>
            """
        return html(layout(visit, title: texts("sign_in", locale), body),
                    headers: [(.setCookie, cookie(Self.signInCookie, nonce, maxAge: 600))])
    }

    /// A sign-in: a key of a role that may use the console starts a session.
    @Sendable func signIn(_ request: Request, _ context: RequestContext) async throws -> Response {
        let fields = Self.form(request)
        // The sign-in form's token is the one its page set in a cookie (double submit).
        guard let expected = Self.cookies(request)[Self.signInCookie], !expected.isEmpty && KeyToken.constantTimeEqual(Data((fields["csrf"] ?? "").utf8), Data(expected.utf8))
        else {
            let visit = Visit(request, context, application)
            return html(layout(visit, title: texts("refused", visit.locale), #"<p class="banner">CSRF</p>"#),
                        status: .forbidden)
        }
        // Guessing keys is limited per client address: each wrong key from it takes a token,
        // and once they are gone every attempt waits; a key that signs in takes a token from
        // its own rate limit, as a request does.
        let locale = Self.locale(request)
        func tooMany(_ seconds: Int) -> Response {
            let visit = Visit(request, context, application)
            var response = html(layout(visit, title: texts("refused", locale), #"<p class="banner">429</p>"#),
                                status: .tooManyRequests)
            response.headerFields[.retryAfter] = String(seconds)
            return response
        }
        let address = "address:" + (request.remoteAddress ?? "unknown")
        let limiter = application.signInLimiter
        if let wait = limiter.wait(bucket: address, rate: Self.failedSignInsPerSecond, capacity: Self.failedSignInBurst) {
            return tooMany(wait)
        }
        guard let key = try await store.authenticate(token: fields["key"] ?? ""),
              ConsoleSessionRules.maySignIn(key.role)
        else {
            _ = limiter.take(bucket: address, rate: Self.failedSignInsPerSecond, capacity: Self.failedSignInBurst)
            return redirect("/console/sign-in?failed=1")
        }
        if let wait = application.rateLimiter.take(keyID: key.id, role: key.role) { return tooMany(wait) }
        let (token, _) = try await store.perform(
            StartConsoleSession(key: key),
            by: Actor(keyID: key.id, role: .key(key.role), requestID: context[RequestIDKey.self] ?? "console"))
        let landing = key.role == .operator ? "/console/reviews" : key.role == .risk ? "/console/models" : "/console/audit"
        return redirect(landing, headers: [(.setCookie, cookie(Self.sessionCookie, token)),
                                           (.setCookie, cookie(Self.signInCookie, "", maxAge: 0))])
    }
}
