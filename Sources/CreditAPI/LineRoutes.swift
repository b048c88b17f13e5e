import CreditLine
import CreditStore
import Foundation
import HTTPServer
import HTTPTypes

/// Terms, activation, the review queue, limits, preferences and operator actions (README
/// "Activation, reviews and limits").
struct LineRoutes: RouteFamily {
    let application: Application

    struct ActivationRequest: RequestFields {
        var consentID: String
        var decisionID: String
        var termsVersion: String
        var requestedLimit: FeatureInput?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case consentID = "consent_id"
            case decisionID = "decision_id"
            case termsVersion = "terms_version"
            case requestedLimit = "requested_limit"
        }
    }

    struct ActivationBody: Encodable {
        var outcome: String
        var account: AccountBody
        var reasons: [Scorecard.Reason]
        var reviewID: String?
        var reviewReason: String?
        /// Why the limit is what it is, in the customer's language (README "Ability to repay"):
        /// the binding bound's code and its words; the figures are the account's `limit_basis`.
        var limitReason: LimitReason?
        enum CodingKeys: String, CodingKey {
            case outcome, account, reasons
            case reviewID = "review_id"
            case reviewReason = "review_reason"
            case limitReason = "limit_reason"
        }
    }

    struct LimitReason: Encodable {
        var code: String
        var text: String
    }

    struct TermsBody: Encodable {
        var version: String
        var tiers: [String: TierTermsBody]
    }

    struct ResolutionRequest: RequestFields {
        var approve: Bool
        var creditLimit: FeatureInput?
        var note: String
        enum CodingKeys: String, CodingKey, CaseIterable {
            case approve, note
            case creditLimit = "credit_limit"
        }
    }

    struct ReviewQueueBody: Encodable {
        var items: [Item]
        struct Item: Encodable {
            var record: ReviewRecord
            enum CodingKeys: String, CodingKey {
                case id, kind, status, statement, resolution
                case accountID = "account_id"
                case decisionID = "decision_id"
                case createdAt = "created_at"
                case resolvedAt = "resolved_at"
                case awaitingSecondApproval = "awaiting_second_approval"
                case firstApprovedLimit = "first_approved_limit"
                case reviewReason = "review_reason"
                case requestedLimit = "requested_limit"
            }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                let review = record.review
                try container.encode(review.id, forKey: .id)
                try container.encode(review.kind.rawValue, forKey: .kind)
                try container.encode(review.status.rawValue, forKey: .status)
                try container.encode(review.accountID, forKey: .accountID)
                try container.encode(review.decisionID, forKey: .decisionID)
                try container.encode(review.statement, forKey: .statement)
                try container.encode(review.createdAt.rfc3339, forKey: .createdAt)
                try container.encode(record.resolvedAt?.rfc3339, forKey: .resolvedAt)
                let resolution = record.resolution.flatMap {
                    try? SharedJSON.decoder.decode([String: String].self, from: Data($0.utf8))
                }
                try container.encode(resolution, forKey: .resolution)
                try container.encode(record.firstApprover != nil && review.status == .open, forKey: .awaitingSecondApproval)
                try container.encode(record.firstApprovedLimit, forKey: .firstApprovedLimit)
                try container.encode(record.reason, forKey: .reviewReason)
                try container.encode(record.requestedLimit, forKey: .requestedLimit)
            }
        }
    }

    struct AdjustmentRequest: RequestFields {
        var newLimit: FeatureInput
        var reasonCode: String
        var note: String?
        var initiatedBy: String
        var customerAccepted: Bool?
        var customerConfirmation: ConfirmationRequest?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case note
            case reasonCode = "reason_code"
            case newLimit = "new_limit"
            case initiatedBy = "initiated_by"
            case customerAccepted = "customer_accepted"
            case customerConfirmation = "customer_confirmation"
        }
    }

    struct AdjustmentBody: Encodable {
        var adjustment: LimitAdjustment
        enum CodingKeys: String, CodingKey {
            case id, direction
            case accountID = "account_id"
            case oldLimit = "old_limit"
            case newLimit = "new_limit"
            case initiatedBy = "initiated_by"
            case noticeDue = "notice_due"
            case effectiveAt = "effective_at"
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(adjustment.id, forKey: .id)
            try container.encode(adjustment.accountID, forKey: .accountID)
            try container.encode(adjustment.oldLimit, forKey: .oldLimit)
            try container.encode(adjustment.newLimit, forKey: .newLimit)
            try container.encode(adjustment.direction.rawValue, forKey: .direction)
            try container.encode(adjustment.initiatedBy.rawValue, forKey: .initiatedBy)
            try container.encode(adjustment.noticeDue, forKey: .noticeDue)
            try container.encode(adjustment.effectiveAt.rfc3339, forKey: .effectiveAt)
        }
    }

    struct PreferencesRequest: RequestFields {
        var limitIncreaseOptOut: Bool?
        var locale: String?
        var timeZone: String?
        var reminderChannels: [String]?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case locale
            case limitIncreaseOptOut = "limit_increase_opt_out"
            case timeZone = "time_zone"
            case reminderChannels = "reminder_channels"
        }

        /// Either field may be left out; one that is given must have a value of its type: `null`
        /// is 422 naming the field, never read as "left out".
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            limitIncreaseOptOut = container.contains(.limitIncreaseOptOut)
                ? try container.decode(Bool.self, forKey: .limitIncreaseOptOut) : nil
            locale = container.contains(.locale) ? try container.decode(String.self, forKey: .locale) : nil
            timeZone = container.contains(.timeZone) ? try container.decode(String.self, forKey: .timeZone) : nil
            reminderChannels = container.contains(.reminderChannels)
                ? try container.decode([String].self, forKey: .reminderChannels) : nil
        }
    }

    struct ReasonRequest: RequestFields {
        var reasonCode: String
        var note: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case note
            case reasonCode = "reason_code"
        }
    }

    /// Amounts are whole fen: anything else is 422 `invalid-amount` naming the field.
    static func amount(_ input: FeatureInput?, field: String) throws -> Int? {
        guard let input else { return nil }
        guard case .integer(let value) = input, value >= 0 else {
            throw DomainError(.invalid, code: .invalidAmount, "\(field) must be a whole number of fen, 0 or more.",
                              field: field)
        }
        return value
    }

    private var model: ScoringModel { application.scoring }
    private var policy: LimitPolicy { application.configuration.limitPolicy }
    private var composer: NoticeComposer { application.composer }
    /// Tier D's recommendation: the most one operator may grant alone (README "Activation").
    private var singleApproverLimit: Int { model.scorecard.tierDLimit }

    func register(on router: inout Router) {
        router.get("/v1/terms", handler: application.authorized([.service, .operator], readTerms))
        router.post("/v1/accounts/{id}/activation", handler: application.authorized([.service], activate))
        router.post("/v1/accounts/{id}/terms-acceptance", handler: application.authorized([.service], acceptTerms))
        router.get("/v1/reviews", handler: application.authorized([.operator], listReviews))
        router.post("/v1/reviews/{id}/resolution", handler: application.authorized([.operator], resolveReview))
        router.post("/v1/accounts/{id}/limit-adjustments",
                    handler: application.authorized([.service, .operator], adjustLimit))
        router.put("/v1/accounts/{id}/preferences", handler: application.authorized([.service], updatePreferences))
        for action in OperatorAction.allCases {
            router.post("/v1/accounts/{id}/\(action.rawValue)", handler: application.authorized([.operator]) { request, context, call in
                try await apply(action, request, context, call)
            })
        }
    }

    // MARK: - Endpoints

    /// An operator's freeze, unfreeze or closure, with a reason code from the closed list.
    @Sendable func apply(_ action: OperatorAction, _ request: Request, _ context: RequestContext, _ call: Call) async throws
        -> Response
    {
        let body = try RequestBody.decode(ReasonRequest.self, from: request)
        let (reasonCode, note) = try application.reasonCodes.parse(code: body.reasonCode, note: body.note)
        let accountID = try context.parameter("id")
        return try await call.perform(
            ApplyOperatorAction(accountID: accountID, action: action, reasonCode: reasonCode, note: note),
            ifMatch: try Preconditions.ifMatch(request, accountID: accountID), respond: { try AccountBody.response($0, asOf: call.now) })
    }

    @Sendable func readTerms(_: Request, _: RequestContext, _: Call) async throws -> Response {
        try ResponseBody.json(TermsBody(
            version: model.terms.version,
            tiers: Dictionary(uniqueKeysWithValues: model.terms.tiers.map { ($0.key.rawValue, TierTermsBody(terms: $0.value)) })))
    }

    @Sendable func activate(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let body = try RequestBody.decode(ActivationRequest.self, from: request)
        let requested = try Self.amount(body.requestedLimit, field: "requested_limit")
        let accountID = try context.parameter("id")
        return try await call.perform(
            ActivateAccount(accountID: accountID, consentID: body.consentID,
                            decisionID: body.decisionID, termsVersion: body.termsVersion, requestedLimit: requested,
                            terms: model.terms, policy: policy),
            ifMatch: try Preconditions.ifMatch(request, accountID: accountID)
        ) { result in
            var response = try ResponseBody.json(ActivationBody(
                outcome: result.outcome.name, account: AccountBody(result.account, asOf: call.now),
                reasons: result.outcome == .declined || result.outcome == .pendingReview ? result.reasons : [],
                reviewID: result.reviewID, reviewReason: result.reviewReason,
                limitReason: result.account.limitBasis.map { basis in
                    let code = basis.binding.rawValue
                    return LimitReason(code: code, text: composer.templates[result.account.locale]?.reasons[code] ?? code)
                }))
            response.headerFields[.eTag] = "\"\(result.account.version)\""
            return response
        }
    }

    @Sendable func acceptTerms(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        struct Acceptance: RequestFields {
            var termsVersion: String
            var decisionID: String
            var customerConfirmation: ConfirmationRequest?
            enum CodingKeys: String, CodingKey, CaseIterable {
                case termsVersion = "terms_version"
                case decisionID = "decision_id"
                case customerConfirmation = "customer_confirmation"
            }
        }
        let body = try RequestBody.decode(Acceptance.self, from: request)
        let accountID = try context.parameter("id")
        return try await call.perform(
            AcceptTerms(accountID: accountID, termsVersion: body.termsVersion, decisionID: body.decisionID,
                        terms: model.terms, confirmation: try ConfirmationRequest.parse(body.customerConfirmation)),
            ifMatch: try Preconditions.ifMatch(request, accountID: accountID), respond: { try AccountBody.response($0, asOf: call.now) })
    }

    @Sendable func listReviews(_ request: Request, _: RequestContext, _ call: Call) async throws -> Response {
        let query = request.queryParameters
        var status: Review.Status? = .open
        if let text = query["status"] {
            guard let parsed = Review.Status(rawValue: text) else {
                throw DomainError.invalidField("status", "status must be open, resolved or cancelled.")
            }
            status = parsed
        }
        var kind: Review.Kind? = nil
        if let text = query["kind"] {
            guard let parsed = Review.Kind(rawValue: text) else {
                throw DomainError.invalidField("kind", "kind must be activation or contest.")
            }
            kind = parsed
        }
        let records = try await store.reviews(status: status, kind: kind, scope: call.scope)
        return try ResponseBody.json(ReviewQueueBody(items: records.map { .init(record: $0) }))
    }

    @Sendable func resolveReview(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let body = try RequestBody.decode(ResolutionRequest.self, from: request)
        let note = try FreeText.required(body.note, field: "note", max: 1000)
        let limit = try Self.amount(body.creditLimit, field: "credit_limit")
        return try await call.perform(
            ResolveReview(reviewID: try context.parameter("id"), approve: body.approve, creditLimit: limit, note: note,
                          approver: call.key.approver, terms: model.terms, policy: policy,
                          singleApproverLimit: singleApproverLimit)
        ) { result in
            switch result {
            case .awaitingSecondApproval(let record):
                return try ResponseBody.json(ReviewQueueBody.Item(record: record), status: .accepted)
            case .resolved(let record, _):
                return try ResponseBody.json(ReviewQueueBody.Item(record: record))
            }
        }
    }

    @Sendable func adjustLimit(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let body = try RequestBody.decode(AdjustmentRequest.self, from: request)
        guard let newLimit = try Self.amount(body.newLimit, field: "new_limit") else {
            throw DomainError(.invalid, code: .invalidAmount, "new_limit is required.", field: "new_limit")
        }
        guard let initiator = LimitPolicy.Initiator(rawValue: body.initiatedBy) else {
            throw DomainError.invalidField("initiated_by", "initiated_by must be customer, system or operator.")
        }
        let (reasonCode, note) = try application.reasonCodes.parse(code: body.reasonCode, note: body.note)
        let confirmation = try ConfirmationRequest.parse(body.customerConfirmation)
        let accountID = try context.parameter("id")
        return try await call.perform(
            AdjustLimit(accountID: accountID,
                        request: LimitPolicy.Request(newLimit: newLimit, initiatedBy: initiator,
                                                     customerAccepted: body.customerAccepted ?? false),
                        reasonCode: reasonCode, note: note, confirmation: confirmation, policy: policy,
                        actorKeyID: call.key.id),
            ifMatch: try Preconditions.ifMatch(request, accountID: accountID)
        ) { adjustment, account in
            var response = try ResponseBody.json(AdjustmentBody(adjustment: adjustment), status: .created)
            response.headerFields[.eTag] = "\"\(account.version)\""
            return response
        }
    }

    @Sendable func updatePreferences(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let body = try RequestBody.decode(PreferencesRequest.self, from: request)
        // A preference not named (or null) keeps its value; naming none changes nothing.
        let locale = try NoticeLocale.parse(body.locale, field: "locale")
        if let zone = body.timeZone { _ = try ReminderRules.timeZone(zone) }
        let channels = try body.reminderChannels.map { try ReminderRules.channels($0) }
        let accountID = try context.parameter("id")
        return try await call.perform(
            UpdatePreferences(accountID: accountID, limitIncreaseOptOut: body.limitIncreaseOptOut, locale: locale,
                              timeZone: body.timeZone, reminderChannels: channels),
            ifMatch: try Preconditions.ifMatch(request, accountID: accountID), respond: { try AccountBody.response($0, asOf: call.now) })
    }
}
