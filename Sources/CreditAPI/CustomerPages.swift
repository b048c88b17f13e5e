import CreditLine
import CreditStore
import Foundation

/// One of the customer's own pages, as they read it (README "The customer's own pages"). What
/// the customer reads is `main`, and its SHA-256 is the page's evidence: the form carries it
/// back, and an action is taken only on the page as it still reads (else the page is shown
/// again). Every value from the database or a caller goes through `HTML.escape`; no script.
struct CustomerPage {
    /// What the page's one form does, or that there is nothing to do.
    enum Form: Equatable {
        case none
        /// The consent page: an unticked box, then "agree" and "no, thank you" of equal weight.
        case consent
        /// One action, its consequences stated above it.
        case single(label: String)
    }

    var title: String
    /// Escaped HTML of what the customer reads; the form's hidden fields are not part of it.
    var main: String
    var form: Form

    var sha256: String { Hashing.sha256Hex(Data((title + "\n" + main).utf8)) }

    /// The words, the facts and the moment that make one page: the same facts and words always
    /// make the same bytes.
    struct Context {
        var facts: CustomerPageFacts
        var locale: NoticeLocale
        var now: Timestamp
        /// The words, notices, terms and rules the page is made of.
        let application: Application

        var words: ConsoleTexts { application.customerTexts }
        var notices: NoticeRegistry { application.notices }
        var terms: Terms { application.scoring.terms }
        var policy: LimitPolicy { application.configuration.limitPolicy }
        var coolingOffDays: Int { application.configuration.coolingOffDays }

        func t(_ key: String, _ values: [String: String] = [:]) -> String {
            var text = words(key, locale)
            for (name, value) in values { text = text.replacingOccurrences(of: "{\(name)}", with: HTML.escape(value)) }
            return text
        }

        func money(_ fen: Int) -> String { NoticeTemplates.amount(fen, locale: locale) }
        func day(_ time: Timestamp) -> String { NoticeTemplates.date(CivilDate(time), locale: locale) }
    }

    static func make(_ c: Context) -> CustomerPage {
        let request = c.facts.link.request
        switch request.purpose {
        case .consent: return consent(c, purpose: request.consentPurpose ?? .creditAssessment)
        case .activation: return activation(c)
        case .withdrawal: return withdrawal(c, purpose: request.consentPurpose ?? .creditAssessment)
        case .cancellation: return cancellation(c)
        case .offer: return offer(c)
        }
    }

    /// The published notice of the purpose in the page's language, its current version.
    static func notice(_ c: Context, _ purpose: ConsentPurpose) -> NoticeRegistry.Text? {
        guard let version = c.notices.currentVersion(of: purpose) else { return nil }
        let texts = c.notices.texts[purpose]?[version]
        return texts?[c.locale] ?? c.notices.defaultLocale(of: purpose, version: version).flatMap { texts?[$0] }
    }

    static func activeConsent(_ c: Context, _ purpose: ConsentPurpose) -> Consent? {
        c.facts.consents.first { $0.purpose == purpose && $0.isActive(at: c.now) }
    }

    private static func paragraph(_ text: String) -> String { "<p>\(text)</p>" }

    static func consent(_ c: Context, purpose: ConsentPurpose) -> CustomerPage {
        let title = c.t("consent_\(purpose.rawValue)_title")
        guard activeConsent(c, purpose) == nil else { return CustomerPage(title: title, main: paragraph(c.t("already_agreed")), form: .none) }
        guard let notice = notice(c, purpose) else { return CustomerPage(title: title, main: paragraph(c.t("not_found")), form: .none) }
        let main = paragraph(c.t("consent_intro"))
            + #"<section aria-labelledby="notice"><h2 id="notice">\#(c.t("notice_heading", ["version": notice.version]))</h2>"#
            + #"<div class="notice" lang="\#(notice.locale.rawValue)">\#(HTML.escape(notice.text))</div></section>"#
        return CustomerPage(title: title, main: main, form: .consent)
    }

    static func activation(_ c: Context) -> CustomerPage {
        let title = c.t("activation_title")
        let account = c.facts.account
        guard account.status == .prospect || account.status == .declined else {
            return CustomerPage(title: title, main: paragraph(c.t("already_open")), form: .none)
        }
        guard let decision = c.facts.decision, decision.outcome != .decline, let tier = c.terms.tiers[decision.tier] else {
            return CustomerPage(title: title, main: paragraph(c.t("no_offer")), form: .none)
        }
        // The limit the line would open with, by the same rule as the activation (README "Ability to repay").
        let basis = Affordability.limit(tierRecommendation: decision.recommendedLimit, requestedLimit: nil,
                                        assessment: c.facts.affordability, plans: tier.instalmentPlans,
                                        settings: c.policy.affordability, policyMax: c.policy.maxLimit, now: c.now)
        let limit = basis.limit
        var main = paragraph(c.t("activation_intro"))
        main += "<section><dl>"
        main += "<dt>\(c.t("limit"))</dt><dd>\(decision.outcome == .review ? c.t("limit_review", ["limit": c.money(limit)]) : HTML.escape(c.money(limit)))</dd>"
        main += "<dt>\(c.t("interest_free_days"))</dt><dd>\(c.t("days", ["n": String(tier.interestFreeDays)]))</dd>"
        // What using all of it would cost a month, beside what the customer said they earn.
        let repayment = Affordability.monthlyRepayment(of: limit, on: Affordability.longestPlan(tier.instalmentPlans))
        if let income = c.facts.affordability.flatMap({ $0.isCurrent(at: c.now) ? $0.monthlyIncome : nil }) {
            main += "<dt>\(c.t("full_use"))</dt><dd>\(c.t("full_use_income", ["repayment": c.money(repayment), "income": c.money(income)]))</dd>"
        } else {
            main += "<dt>\(c.t("full_use"))</dt><dd>\(c.t("full_use_starter", ["repayment": c.money(repayment)]))</dd>"
        }
        main += "</dl><h2>\(c.t("plans"))</h2>"
        if tier.instalmentPlans.isEmpty {
            main += paragraph(c.t("no_plans"))
        } else {
            main += "<ul>" + tier.instalmentPlans.map { plan in
                "<li>" + c.t("plan_row", ["months": String(plan.months), "fee": AnnualRate.percent(plan.monthlyFeeBps),
                                          "apr": AnnualRate.percent(plan.aprBps)]) + "</li>"
            }.joined() + "</ul>"
        }
        // A worked example on an amount the customer might borrow: 1,000 yuan, or the whole
        // limit when it is less, on the longest plan (the dearest in total).
        let amount = min(100_000, limit)
        main += "<h2>\(c.t("example_heading"))</h2>"
        if let plan = Affordability.longestPlan(tier.instalmentPlans) {
            let monthly = Schedule.fee(amount: amount, bps: plan.monthlyFeeBps)
            main += paragraph(c.t("example_plan", ["amount": c.money(amount), "months": String(plan.months),
                                                   "monthly": c.money(monthly), "total": c.money(monthly * plan.months),
                                                   "repay": c.money(amount + monthly * plan.months)]))
        }
        main += paragraph(c.t("example_free", ["amount": c.money(amount), "days": String(tier.interestFreeDays)]))
        main += paragraph(c.t("cooling_off", ["days": String(c.coolingOffDays)]))
        main += paragraph(c.t("how_to_withdraw")) + "</section>"
        guard activeConsent(c, .creditLine) != nil, activeConsent(c, .creditAssessment) != nil else {
            return CustomerPage(title: title, main: main + paragraph(c.t("need_consent")), form: .none)
        }
        return CustomerPage(title: title, main: main, form: .single(label: c.t("activate")))
    }

    static func withdrawal(_ c: Context, purpose: ConsentPurpose) -> CustomerPage {
        let title = c.t("withdrawal_title", ["purpose": c.words.raw("purpose_\(purpose.rawValue)", c.locale)])
        guard activeConsent(c, purpose) != nil else {
            return CustomerPage(title: title, main: paragraph(c.t("nothing_to_withdraw")), form: .none)
        }
        return CustomerPage(title: title, main: paragraph(c.t("withdraw_effects_\(purpose.rawValue)")),
                            form: .single(label: c.t("withdraw")))
    }

    static func cancellation(_ c: Context) -> CustomerPage {
        let title = c.t("cancellation_title")
        let account = c.facts.account
        guard let activatedAt = account.activatedAt, account.status == .active || account.status == .frozen,
              c.now < activatedAt.adding(days: c.coolingOffDays)
        else {
            return CustomerPage(title: title, main: paragraph(c.t("cooling_off_over")), form: .none)
        }
        let deadline = activatedAt.adding(days: c.coolingOffDays)
        return CustomerPage(title: title, main: paragraph(c.t("cancellation_effects", ["balance": c.money(account.balance),
                                                                                      "deadline": c.day(deadline)])),
                            form: .single(label: c.t("cancel")))
    }

    static func offer(_ c: Context) -> CustomerPage {
        let title = c.t("offer_title")
        guard let offer = c.facts.offer, offer.status(at: c.now) == .open else {
            return CustomerPage(title: title, main: paragraph(c.t("offer_closed")), form: .none)
        }
        return CustomerPage(title: title, main: paragraph(c.t("offer_effects", [
            "current": c.money(offer.currentLimit), "offered": c.money(offer.offeredLimit), "expires": c.day(offer.expiresAt),
        ])), form: .single(label: c.t("accept_offer")))
    }

    /// The whole document: the page, a banner above it (a refusal, or the result of the action),
    /// and the form with the page's hash and language. `returnURL`: the way back, on result and
    /// refusal pages.
    func document(_ c: Context, banner: (text: String, done: Bool)? = nil, showForm: Bool = true, returnURL: URL? = nil)
        -> String
    {
        var body = ""
        if let banner {
            body += #"<p class="banner\#(banner.done ? " done" : "")" role="\#(banner.done ? "status" : "alert")">\#(banner.text)</p>"#
        }
        if showForm || banner?.done != true { body += main }
        if showForm, form != .none {
            let fields = #"<input type="hidden" name="page" value="\#(sha256)"><input type="hidden" name="locale" value="\#(c.locale.rawValue)">"#
            switch form {
            case .none: break
            case .consent:
                body += #"<form method="post">\#(fields)<p class="check"><input type="checkbox" id="agree" name="agree" value="yes">"#
                    + #"<label for="agree">\#(c.t("consent_checkbox"))</label></p><div class="choices">"#
                    + #"<button type="submit" name="action" value="agree">\#(c.t("agree"))</button>"#
                    + #"<button type="submit" name="action" value="decline">\#(c.t("decline"))</button></div></form>"#
            case .single(let label):
                body += #"<form method="post">\#(fields)<div class="choices one">"#
                    + #"<button type="submit" name="action" value="confirm">\#(label)</button></div></form>"#
            }
        }
        if let returnURL {
            body += #"<p><a class="back" href="\#(HTML.escape(returnURL.absoluteString))">\#(c.t("back"))</a></p>"#
        }
        return Self.layout(title: title, body, locale: c.locale, words: c.words)
    }

    /// The frame every customer page shares: its language, the switch to the other one (the
    /// same page, `?locale=`), the stylesheet.
    static func layout(title: String, _ body: String, locale: NoticeLocale, words: ConsoleTexts) -> String {
        let other: NoticeLocale = locale == .en ? .zhCN : .en
        return """
            <!doctype html><html lang="\(locale.rawValue)"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · \(words("title", locale))</title><link rel="stylesheet" href="/c/style.css"></head>
            <body><header><span>\(words("title", locale))</span><a href="?locale=\(other.rawValue)" lang="\(other.rawValue)">\(words("language", locale))</a></header>
            <main><h1>\(title)</h1>
            \(body)</main></body></html>
            """
    }
}
