import CreditLine
import CreditStore
import Foundation
import HTTPServer
import HTTPTypes

/// A consent as its receipt: who (the pseudonymous account), which purpose, which notice and its
/// hash, how, when, until when, its status now, and its history (ISO/IEC TS 27560 shape).
struct ConsentReceipt: Encodable {
    let consent: Consent
    let now: Timestamp

    struct Event: Encodable {
        var event: String
        var at: String
        var channel: String?
    }

    enum CodingKeys: String, CodingKey {
        case id, purpose, channel, method, evidence, status, events, controller
        case accountID = "account_id"
        case noticeVersion = "notice_version"
        case noticeSHA256 = "notice_sha256"
        case grantedAt = "granted_at"
        case declinedAt = "declined_at"
        case expiresAt = "expires_at"
        case withdrawnAt = "withdrawn_at"
        case withdrawalChannel = "withdrawal_channel"
    }

    /// A page's first-party evidence (README "The customer's own pages"), in place of a caller's
    /// text: the act's moment is `agreed_at`, or `declined_at` for a refusal.
    static func evidence(_ consent: Consent, _ page: PageEvidence) -> [String: String] {
        ["link_id": page.linkID, "notice_sha256": consent.noticeSHA256, "locale": page.locale.rawValue,
         "page_sha256": page.pageSHA256, "shown_at": page.shownAt.rfc3339,
         consent.storedStatus == .declined ? "declined_at" : "agreed_at": consent.grantedAt.rfc3339]
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(consent.id, forKey: .id)
        try container.encode(consent.accountID, forKey: .accountID)
        try container.encode("creditline", forKey: .controller)
        try container.encode(consent.purpose.rawValue, forKey: .purpose)
        try container.encode(consent.noticeVersion, forKey: .noticeVersion)
        try container.encode(consent.noticeSHA256, forKey: .noticeSHA256)
        try container.encode(consent.channel.rawValue, forKey: .channel)
        try container.encode(consent.method.rawValue, forKey: .method)
        // Absent values are written as null: a receipt shows every field it has.
        if let page = consent.pageEvidence {
            try container.encode(Self.evidence(consent, page), forKey: .evidence)
        } else {
            try container.encode(consent.evidence, forKey: .evidence)
        }
        try container.encode(consent.status(at: now).rawValue, forKey: .status)
        // A refusal was never granted and never expires: its one moment is when it was declined.
        let declined = consent.storedStatus == .declined
        try container.encode(declined ? nil : consent.grantedAt.rfc3339, forKey: .grantedAt)
        try container.encode(declined ? consent.grantedAt.rfc3339 : nil, forKey: .declinedAt)
        try container.encode(declined ? nil : consent.expiresAt.rfc3339, forKey: .expiresAt)
        try container.encode(consent.withdrawnAt?.rfc3339, forKey: .withdrawnAt)
        try container.encode(consent.withdrawalChannel?.rawValue, forKey: .withdrawalChannel)
        guard !declined else {
            try container.encode([Event(event: "declined", at: consent.grantedAt.rfc3339, channel: consent.channel.rawValue)],
                                 forKey: .events)
            return
        }
        var events = [Event(event: "granted", at: consent.grantedAt.rfc3339, channel: consent.channel.rawValue)]
        if let withdrawnAt = consent.withdrawnAt {
            events.append(Event(event: "withdrawn", at: withdrawnAt.rfc3339, channel: consent.withdrawalChannel?.rawValue))
        } else if consent.status(at: now) == .expired {
            events.append(Event(event: "expired", at: consent.expiresAt.rfc3339, channel: nil))
        }
        try container.encode(events, forKey: .events)
    }
}

extension NoticeRegistry {
    /// The published notices, with their texts' SHA-256; a purpose without any stops start-up
    /// (nobody could consent to it). `<purpose>/<version>.<locale>.txt` for each language a
    /// version was published in, and
    /// `<purpose>/<version>.txt` for a version published in English alone before there were
    /// two (2026-11). Published texts never change: a consent's hash names the words.
    static func load(directory: String) throws -> NoticeRegistry {
        var texts: [NoticeRegistry.Text] = []
        for purpose in ConsentPurpose.allCases {
            let folder = directory + "/" + purpose.rawValue
            let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            for file in files.sorted() where file.hasSuffix(".txt") {
                let parts = file.dropLast(4).split(separator: ".", maxSplits: 1).map(String.init)
                guard let version = parts.first,
                      let locale = parts.count == 2 ? NoticeLocale(rawValue: parts[1]) : .en
                else {
                    throw ScorecardError("\(folder)/\(file): a notice is <version>.<zh-CN|en>.txt")
                }
                guard let bytes = FileManager.default.contents(atPath: folder + "/" + file),
                      let text = String(data: bytes, encoding: .utf8)
                else {
                    throw ScorecardError("cannot read \(folder)/\(file) as UTF-8")
                }
                texts.append(.init(purpose: purpose, version: version, locale: locale, text: text,
                                   sha256: Hashing.sha256Hex(bytes)))
            }
            guard texts.contains(where: { $0.purpose == purpose }) else {
                throw ScorecardError("\(folder): no notice for \(purpose.rawValue)")
            }
        }
        return NoticeRegistry(texts)
    }
}

struct ConsentRoutes: RouteFamily {
    let application: Application

    struct GrantRequest: RequestFields {
        var purpose: String
        var noticeVersion: String
        var noticeSHA256: String
        var noticeLocale: String?
        var channel: String
        var method: String
        var evidence: String?
        var expiresAt: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case purpose, channel, method, evidence
            case noticeVersion = "notice_version"
            case noticeSHA256 = "notice_sha256"
            case noticeLocale = "notice_locale"
            case expiresAt = "expires_at"
        }
    }

    struct WithdrawalRequest: RequestFields {
        var channel: String
        var reason: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case channel, reason }
    }

    struct WithdrawalBody: Encodable {
        var consent: ConsentReceipt
        var effects: [Effect]
        var accountStatus: String

        struct Effect: Encodable {
            var effect: String
            var decisions: Int?
        }

        enum CodingKeys: String, CodingKey {
            case consent, effects
            case accountStatus = "account_status"
        }
    }

    struct ListBody: Encodable {
        var items: [ConsentReceipt]
    }

    struct NoticeBody: Encodable {
        var notice: NoticeRegistry.Text
        enum CodingKeys: String, CodingKey { case purpose, version, locale, text, sha256 }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(notice.purpose.rawValue, forKey: .purpose)
            try container.encode(notice.version, forKey: .version)
            try container.encode(notice.locale.rawValue, forKey: .locale)
            try container.encode(notice.text, forKey: .text)
            try container.encode(notice.sha256, forKey: .sha256)
        }
    }

    private var maxDays: Int { application.configuration.consentMaxDays }

    func register(on router: inout Router) {
        router.post("/v1/accounts/{id}/consents", handler: application.authorized([.service], grantConsent))
        router.get("/v1/accounts/{id}/consents", handler: application.authorized([.service, .operator], listConsents))
        router.get("/v1/consents/{id}", handler: application.authorized([.service, .operator], readConsent))
        router.post("/v1/consents/{id}/withdrawal", handler: application.authorized([.service], withdrawConsent))
        router.get("/v1/consent-notices", handler: application.authorized([.service], readNotice))
    }

    // MARK: - Endpoints

    /// The current text of a purpose's notice in a language, Chinese unless asked otherwise: what
    /// the calling app shows the customer, and whose hash the grant then names.
    @Sendable func readNotice(_ request: Request, _: RequestContext, _: Call) async throws -> Response {
        let query = request.queryParameters
        guard let purpose = query["purpose"].flatMap(ConsentPurpose.init(rawValue:)) else {
            throw DomainError.invalidField("purpose", "purpose must be credit_assessment or credit_line.")
        }
        let locale = try NoticeLocale.parse(query["locale"], field: "locale") ?? .customerDefault
        let notices = application.notices
        guard let version = notices.currentVersion(of: purpose), let text = notices.texts[purpose]?[version]?[locale] else {
            throw DomainError.notFound("notice")
        }
        return try ResponseBody.json(NoticeBody(notice: text))
    }

    @Sendable func grantConsent(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let accountID = try context.parameter("id")
        let body = try RequestBody.decode(GrantRequest.self, from: request)
        let grant = try ConsentRules.validate(
            purpose: body.purpose, noticeVersion: body.noticeVersion, noticeSHA256: body.noticeSHA256,
            noticeLocale: body.noticeLocale, channel: body.channel, method: body.method, evidence: body.evidence, expiresAt: body.expiresAt,
            now: call.now, maxValidityDays: maxDays, notices: application.notices)
        return try await call.perform(GrantConsent(accountID: accountID, grant: grant)) { consent in
            var response = try ResponseBody.json(ConsentReceipt(consent: consent, now: call.now), status: .created)
            response.headerFields[.location] = "/v1/consents/\(consent.id)"
            return response
        }
    }

    @Sendable func listConsents(_: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        guard let consents = try await store.consents(accountID: try context.parameter("id")) else {
            throw DomainError.notFound("account")
        }
        return try ResponseBody.json(ListBody(items: consents.map { ConsentReceipt(consent: $0, now: call.now) }))
    }

    @Sendable func readConsent(_: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        guard let consent = try await store.consent(id: try context.parameter("id")) else {
            throw DomainError.notFound("consent")
        }
        return try ResponseBody.json(ConsentReceipt(consent: consent, now: call.now))
    }

    @Sendable func withdrawConsent(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let consentID = try context.parameter("id")
        let body = try RequestBody.decode(WithdrawalRequest.self, from: request)
        let channel = try ConsentChannel.parse(body.channel)
        if let reason = body.reason {
            try FreeText.check(reason, field: "reason", max: ConsentRules.maxEvidenceLength)
        }
        return try await call.perform(WithdrawConsent(consentID: consentID, channel: channel, reason: body.reason)) { outcome in
            let effects = outcome.effects.map { effect -> WithdrawalBody.Effect in
                if case .scoringInputsErased(let decisions) = effect {
                    return WithdrawalBody.Effect(effect: effect.code, decisions: decisions)
                }
                return WithdrawalBody.Effect(effect: effect.code, decisions: nil)
            }
            return try ResponseBody.json(WithdrawalBody(
                consent: ConsentReceipt(consent: outcome.consent, now: call.now), effects: effects,
                accountStatus: outcome.account.status.rawValue))
        }
    }
}
