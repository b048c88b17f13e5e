import CreditLine
import CreditStore
import HTTPServer
import HTTPTypes

/// The JSON shape of an account (README "Accounts").
struct AccountBody: Encodable {
    var id: String
    var customerRef: String
    var status: String
    var creditLimit: Int
    var currency: String
    var limitIncreaseOptOut: Bool
    var locale: String
    var version: Int
    var createdAt: String
    var updatedAt: String
    var terms: TierTermsBody?
    var balance: Int
    var feesOutstanding: Int
    /// Refunds the customer is owed back (README "Refunds and the credit balance").
    var creditBalance: Int
    var availableCredit: Int
    var daysPastDue: Int
    var delinquency: String
    /// Why the line has its limit (README "Ability to repay"); null before one was set by the rule.
    var limitBasis: LimitBasis?
    /// Reminders' hours and channels (README "Payment reminders").
    var timeZone: String
    var reminderChannels: [String]?

    enum CodingKeys: String, CodingKey {
        case id, status, currency, version, terms, locale
        case limitBasis = "limit_basis"
        case timeZone = "time_zone"
        case reminderChannels = "reminder_channels"
        case customerRef = "customer_ref"
        case creditLimit = "credit_limit"
        case limitIncreaseOptOut = "limit_increase_opt_out"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case balance, delinquency
        case feesOutstanding = "fees_outstanding"
        case creditBalance = "credit_balance"
        case availableCredit = "available_credit"
        case daysPastDue = "days_past_due"
    }

    /// The days past due and the bucket are as of `now`, read from the due dates: they move with
    /// the calendar, not with the account's version.
    init(_ account: Account, asOf now: Timestamp) {
        id = account.id
        customerRef = account.customerRef
        status = account.status.rawValue
        creditLimit = account.creditLimit
        currency = account.currency
        limitIncreaseOptOut = account.limitIncreaseOptOut
        locale = account.locale.rawValue
        version = account.version
        createdAt = account.createdAt.rfc3339
        updatedAt = account.updatedAt.rfc3339
        balance = account.balance
        feesOutstanding = account.feesOutstanding
        creditBalance = account.creditBalance
        availableCredit = account.availableCredit
        let today = CivilDate(now)
        daysPastDue = account.daysPastDue(on: today)
        delinquency = account.delinquency(on: today).rawValue
        // The accepted terms on an activated account, with the version accepted.
        terms = account.terms.map { TierTermsBody(terms: $0, version: account.termsVersion ?? "") }
        limitBasis = account.limitBasis
        timeZone = account.timeZone
        reminderChannels = account.reminderChannels
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(customerRef, forKey: .customerRef)
        try container.encode(status, forKey: .status)
        try container.encode(creditLimit, forKey: .creditLimit)
        try container.encode(currency, forKey: .currency)
        try container.encode(limitIncreaseOptOut, forKey: .limitIncreaseOptOut)
        try container.encode(locale, forKey: .locale)
        try container.encode(version, forKey: .version)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(terms, forKey: .terms)
        try container.encode(balance, forKey: .balance)
        try container.encode(feesOutstanding, forKey: .feesOutstanding)
        try container.encode(creditBalance, forKey: .creditBalance)
        try container.encode(availableCredit, forKey: .availableCredit)
        try container.encode(daysPastDue, forKey: .daysPastDue)
        try container.encode(delinquency, forKey: .delinquency)
        try container.encode(limitBasis, forKey: .limitBasis)
        try container.encode(timeZone, forKey: .timeZone)
        try container.encode(reminderChannels, forKey: .reminderChannels)
    }

    /// The account with its version as a strong ETag (RFC 9110 §8.8.3).
    static func response(_ account: Account, asOf now: Timestamp, status: HTTPResponse.Status = .ok) throws -> Response {
        var response = Response.json(AccountBody(account, asOf: now).bytes, status: status)
        response.headerFields[.eTag] = "\"\(account.version)\""
        return response
    }
}

struct AccountRoutes: RouteFamily {
    let application: Application

    struct CreateRequest: RequestFields {
        var customerRef: String
        var locale: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case locale
            case customerRef = "customer_ref"
        }
    }



    func register(on router: inout Router) {
        router.post("/v1/accounts", handler: application.authorized([.service], createAccount))
        router.get("/v1/accounts/{id}", handler: application.authorized([.service, .operator], readAccount))
    }

    // MARK: - Endpoints

    @Sendable func createAccount(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let body = try RequestBody.decode(CreateRequest.self, from: request)
        let customerRef = try CustomerRef.validate(body.customerRef)
        let locale = try NoticeLocale.parse(body.locale, field: "locale") ?? .customerDefault
        // A service key always acts for one tenant (the database refuses one without).
        let tenant = call.scope.tenant ?? Tenant.defaultName
        return try await call.perform(CreateAccount(customerRef: customerRef, tenant: tenant, locale: locale)) { account, created in
            var response = try AccountBody.response(account, asOf: call.now, status: created ? .created : .ok)
            response.headerFields[.location] = "/v1/accounts/\(account.id)"
            return response
        }
    }

    @Sendable func readAccount(_: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        guard let account = try await store.account(id: try context.parameter("id")) else {
            throw DomainError.notFound("account")
        }
        return try AccountBody.response(account, asOf: call.now)
    }
}
