import CreditLine
import CreditStore
import Foundation
import HTTPServer
import HTTPTypes

/// The line in use: quotes, draws, repayments, statements, cancellation and charge-off (README
/// "The line in use").
struct LedgerRoutes: RouteFamily {
    let application: Application

    struct DrawRequest: RequestFields {
        var amount: FeatureInput
        var planMonths: FeatureInput?
        var merchantRef: String?
        /// Anything but `true` (absent, false, a string) is a payment method the customer did not pick.
        var customerSelected: FeatureInput?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case amount
            case planMonths = "plan_months"
            case merchantRef = "merchant_ref"
            case customerSelected = "customer_selected"
        }
    }

    struct RepaymentRequest: RequestFields {
        var amount: FeatureInput
        enum CodingKeys: String, CodingKey, CaseIterable { case amount }
    }

    struct CancellationRequest: RequestFields {
        var channel: String
        var customerConfirmation: ConfirmationRequest?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case channel
            case customerConfirmation = "customer_confirmation"
        }
    }

    struct ChargeOffRequest: RequestFields {
        var reasonCode: String
        enum CodingKeys: String, CodingKey, CaseIterable { case reasonCode = "reason_code" }
    }

    struct InstalmentBody: Encodable {
        var id: String?
        var drawID: String?
        var number: Int
        var due: String
        var principal: Int
        var fee: Int
        /// Present on recorded instalments only (not on a quote).
        var principalPaid: Int?
        var feePaid: Int?
        var feeWaived: Int?
        var outstanding: Int?
        var paid: Bool?
        var overdue: Bool?
        enum CodingKeys: String, CodingKey {
            case id, number, due, principal, fee, outstanding, paid, overdue
            case drawID = "draw_id"
            case principalPaid = "principal_paid"
            case feePaid = "fee_paid"
            case feeWaived = "fee_waived"
        }

        init(_ instalment: Schedule.Instalment) {
            number = instalment.number
            due = instalment.due.description
            principal = instalment.principal
            fee = instalment.fee
        }

        init(_ instalment: LedgerInstalment, today: CivilDate, withDraw: Bool) {
            let state = instalment.state
            id = state.id
            drawID = withDraw ? instalment.drawID : nil
            number = instalment.number
            due = state.due.description
            principal = state.principal
            fee = state.fee
            principalPaid = state.principalPaid
            feePaid = state.feePaid
            feeWaived = state.feeWaived
            outstanding = state.principalOwed + state.feeOwed
            paid = state.isSettled
            overdue = state.isOverdue(on: today)
        }
    }

    struct QuoteBody: Encodable {
        var quote: DrawQuote
        var availableCredit: Int
        enum CodingKeys: String, CodingKey {
            case amount, instalments
            case planMonths = "plan_months"
            case monthlyFeeBps = "monthly_fee_bps"
            case aprBps = "apr_bps"
            case totalFees = "total_fees"
            case totalCost = "total_cost"
            case availableCredit = "available_credit"
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(quote.amount, forKey: .amount)
            try container.encode(quote.plan?.months, forKey: .planMonths)
            try container.encode(quote.plan?.monthlyFeeBps ?? 0, forKey: .monthlyFeeBps)
            try container.encode(quote.plan?.aprBps ?? 0, forKey: .aprBps)
            try container.encode(quote.instalments.map(InstalmentBody.init), forKey: .instalments)
            try container.encode(quote.totalFees, forKey: .totalFees)
            try container.encode(quote.totalCost, forKey: .totalCost)
            try container.encode(availableCredit, forKey: .availableCredit)
        }
    }

    struct DrawBody: Encodable {
        var draw: DrawRecord
        var today: CivilDate
        /// Set on the answer to a draw: the line as the draw left it.
        var account: Account?
        enum CodingKeys: String, CodingKey {
            case id, amount, instalments, balance
            case accountID = "account_id"
            case planMonths = "plan_months"
            case monthlyFeeBps = "monthly_fee_bps"
            case aprBps = "apr_bps"
            case merchantRef = "merchant_ref"
            case drawnAt = "drawn_at"
            case totalFees = "total_fees"
            case totalCost = "total_cost"
            case availableCredit = "available_credit"
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(draw.id, forKey: .id)
            try container.encode(draw.accountID, forKey: .accountID)
            try container.encode(draw.amount, forKey: .amount)
            try container.encode(draw.plan?.months, forKey: .planMonths)
            try container.encode(draw.plan?.monthlyFeeBps ?? 0, forKey: .monthlyFeeBps)
            try container.encode(draw.plan?.aprBps ?? 0, forKey: .aprBps)
            try container.encode(draw.merchantRef, forKey: .merchantRef)
            try container.encode(draw.drawnAt.rfc3339, forKey: .drawnAt)
            guard let account else { return }
            try container.encode(draw.instalments.map { InstalmentBody($0, today: today, withDraw: false) },
                                 forKey: .instalments)
            try container.encode(draw.totalFees, forKey: .totalFees)
            try container.encode(draw.amount + draw.totalFees, forKey: .totalCost)
            try container.encode(account.balance, forKey: .balance)
            try container.encode(account.availableCredit, forKey: .availableCredit)
        }
    }

    struct AppliedBody: Encodable {
        var instalmentID: String
        var fee: Int
        var principal: Int
        enum CodingKeys: String, CodingKey {
            case fee, principal
            case instalmentID = "instalment_id"
        }
    }

    struct RepaymentBody: Encodable {
        var repayment: RepaymentRecord
        var today: CivilDate
        var account: Account?
        enum CodingKeys: String, CodingKey {
            case id, amount, applied, balance, delinquency, source
            case accountID = "account_id"
            case receivedAt = "received_at"
            case feesOutstanding = "fees_outstanding"
            case availableCredit = "available_credit"
            case daysPastDue = "days_past_due"
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(repayment.id, forKey: .id)
            try container.encode(repayment.accountID, forKey: .accountID)
            try container.encode(repayment.amount, forKey: .amount)
            try container.encode(repayment.receivedAt.rfc3339, forKey: .receivedAt)
            try container.encode(repayment.source.rawValue, forKey: .source)
            try container.encode(repayment.applied.map {
                AppliedBody(instalmentID: $0.instalmentID, fee: $0.fee, principal: $0.principal)
            }, forKey: .applied)
            guard let account else { return }
            try container.encode(account.balance, forKey: .balance)
            try container.encode(account.feesOutstanding, forKey: .feesOutstanding)
            try container.encode(account.availableCredit, forKey: .availableCredit)
            try container.encode(account.daysPastDue(on: today), forKey: .daysPastDue)
            try container.encode(account.delinquency(on: today).rawValue, forKey: .delinquency)
        }
    }

    struct StatementBody: Encodable {
        var statement: Statement
        var now: Timestamp
        enum CodingKeys: String, CodingKey {
            case from, to, draws, repayments, refunds, instalments, balance, delinquency, status, currency
            case accountID = "account_id"
            case creditBalance = "credit_balance"
            case asOf = "as_of"
            case creditLimit = "credit_limit"
            case feesOutstanding = "fees_outstanding"
            case availableCredit = "available_credit"
            case daysPastDue = "days_past_due"
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            let account = statement.account
            let today = CivilDate(now)
            try container.encode(account.id, forKey: .accountID)
            try container.encode(statement.from.description, forKey: .from)
            try container.encode(statement.to.description, forKey: .to)
            try container.encode(now.rfc3339, forKey: .asOf)
            try container.encode(account.status.rawValue, forKey: .status)
            try container.encode(account.currency, forKey: .currency)
            try container.encode(account.creditLimit, forKey: .creditLimit)
            try container.encode(account.balance, forKey: .balance)
            try container.encode(account.feesOutstanding, forKey: .feesOutstanding)
            try container.encode(account.creditBalance, forKey: .creditBalance)
            try container.encode(account.availableCredit, forKey: .availableCredit)
            try container.encode(account.daysPastDue(on: today), forKey: .daysPastDue)
            try container.encode(account.delinquency(on: today).rawValue, forKey: .delinquency)
            try container.encode(statement.refunds.map { RefundRoutes.body($0) }, forKey: .refunds)
            try container.encode(statement.draws.map { DrawBody(draw: $0, today: today, account: nil) }, forKey: .draws)
            try container.encode(statement.repayments.map { RepaymentBody(repayment: $0, today: today, account: nil) },
                                 forKey: .repayments)
            try container.encode(statement.instalments.map { InstalmentBody($0, today: today, withDraw: true) },
                                 forKey: .instalments)
        }
    }

    struct AwaitingBody: Encodable {
        var accountID: String
        var reasonCode: String
        var awaitingSecondApproval = true
        enum CodingKeys: String, CodingKey {
            case accountID = "account_id"
            case reasonCode = "reason_code"
            case awaitingSecondApproval = "awaiting_second_approval"
        }
    }

    /// A statement covers at most a year and a day, so one answer stays bounded.
    static let maxStatementDays = 366

    /// A whole number of fen for a write: anything that is not a JSON integer is handed to the
    /// rules as 0, so that it is refused as `invalid-amount` in the rules' own order.
    static func fen(_ input: FeatureInput) -> Int {
        if case .integer(let value) = input { return value }
        return 0
    }

    /// An optional whole-number query parameter.
    static func integer(_ query: [String: String], _ name: String, code: ProblemCode) throws -> Int? {
        guard let text = query[name] else { return nil }
        guard let value = Int(text) else {
            throw DomainError(.invalid, code: code, "\(name) must be a whole number.", field: name)
        }
        return value
    }

    static func date(_ query: [String: String], _ name: String) throws -> CivilDate? {
        guard let text = query[name] else { return nil }
        guard let date = CivilDate(text) else { throw DomainError.invalidField(name, "\(name) must be a date, YYYY-MM-DD.") }
        return date
    }

    private var coolingOffDays: Int { application.configuration.coolingOffDays }
    private var maxAmount: Int { application.configuration.limitPolicy.maxLimit }

    func register(on router: inout Router) {
        router.get("/v1/accounts/{id}/draw-quote", handler: application.authorized([.service], quoteDraw))
        router.post("/v1/accounts/{id}/draws", handler: application.authorized([.service], createDraw))
        router.post("/v1/accounts/{id}/repayments", handler: application.authorized([.service], recordRepayment))
        router.get("/v1/accounts/{id}/statement", handler: application.authorized([.service, .operator], readStatement))
        router.post("/v1/accounts/{id}/cancellation", handler: application.authorized([.service], cancelLine))
        router.post("/v1/accounts/{id}/charge-off", handler: application.authorized([.operator], chargeOff))
    }

    // MARK: - Endpoints

    @Sendable func quoteDraw(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let query = request.queryParameters
        guard let amount = try Self.integer(query, "amount", code: .invalidAmount) else {
            throw DomainError(.invalid, code: .invalidAmount, "amount is required, in whole fen.", field: "amount")
        }
        let months = try Self.integer(query, "plan_months", code: .invalidPlan)
        guard let account = try await store.account(id: try context.parameter("id")) else {
            throw DomainError.notFound("account")
        }
        let quote = try DrawQuote.make(terms: account.terms, amount: amount, planMonths: months,
                                       today: CivilDate(call.now), maxAmount: maxAmount,
                                       aprCapBps: application.configuration.aprCapBps)
        return try ResponseBody.json(QuoteBody(quote: quote, availableCredit: account.availableCredit))
    }

    @Sendable func createDraw(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let body = try RequestBody.decode(DrawRequest.self, from: request)
        let merchantRef = try body.merchantRef.map { try Reference.validate($0, field: "merchant_ref") }
        var months: Int? = nil
        if let plan = body.planMonths, plan != .null {
            // A plan that is not a whole number matches none of the line's plans.
            guard case .integer(let value) = plan else {
                throw DomainError(.invalid, code: .invalidPlan, "plan_months must be a whole number of months.",
                                  field: "plan_months")
            }
            months = value
        }
        let accountID = try context.parameter("id")
        let today = CivilDate(call.now)
        return try await call.perform(
            MakeDraw(accountID: accountID, amount: Self.fen(body.amount), planMonths: months, merchantRef: merchantRef,
                     aprCapBps: application.configuration.aprCapBps,
                     customerSelected: body.customerSelected == .boolean(true)),
            ifMatch: try Preconditions.ifMatch(request, accountID: accountID)
        ) { draw, account in
            var response = try ResponseBody.json(DrawBody(draw: draw, today: today, account: account), status: .created)
            response.headerFields[.eTag] = "\"\(account.version)\""
            return response
        }
    }

    @Sendable func recordRepayment(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let body = try RequestBody.decode(RepaymentRequest.self, from: request)
        let accountID = try context.parameter("id")
        let today = CivilDate(call.now)
        return try await call.perform(
            MakeRepayment(accountID: accountID, amount: Self.fen(body.amount)),
            ifMatch: try Preconditions.ifMatch(request, accountID: accountID)
        ) { repayment, account in
            var response = try ResponseBody.json(RepaymentBody(repayment: repayment, today: today, account: account),
                                                 status: .created)
            response.headerFields[.eTag] = "\"\(account.version)\""
            return response
        }
    }

    @Sendable func readStatement(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let query = request.queryParameters
        let to = try Self.date(query, "to") ?? CivilDate(call.now)
        let from = try Self.date(query, "from") ?? to.adding(days: -30)
        guard from <= to else { throw DomainError.invalidField("from", "from must not be after to.") }
        guard from.days(until: to) < Self.maxStatementDays else {
            throw DomainError.invalidField("from", "A statement covers at most \(Self.maxStatementDays) days.")
        }
        guard let statement = try await store.statement(accountID: try context.parameter("id"), from: from, to: to) else {
            throw DomainError.notFound("account")
        }
        return try ResponseBody.json(StatementBody(statement: statement, now: call.now))
    }

    @Sendable func cancelLine(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let body = try RequestBody.decode(CancellationRequest.self, from: request)
        let channel = try ConsentChannel.parse(body.channel)
        let accountID = try context.parameter("id")
        return try await call.perform(
            CancelLine(accountID: accountID, channel: channel,
                       confirmation: try ConfirmationRequest.parse(body.customerConfirmation),
                       coolingOffDays: coolingOffDays),
            ifMatch: try Preconditions.ifMatch(request, accountID: accountID),
            respond: { try AccountBody.response($0, asOf: call.now) })
    }

    @Sendable func chargeOff(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let body = try RequestBody.decode(ChargeOffRequest.self, from: request)
        guard let reason = ChargeOff.ReasonCode(rawValue: body.reasonCode) else {
            let codes = ChargeOff.ReasonCode.allCases.map(\.rawValue).joined(separator: ", ")
            throw DomainError.invalidField("reason_code", "reason_code must be one of \(codes).")
        }
        let accountID = try context.parameter("id")
        return try await call.perform(
            ChargeOffLine(accountID: accountID, reasonCode: reason, approver: call.key.approver),
            ifMatch: try Preconditions.ifMatch(request, accountID: accountID)
        ) { result in
            switch result {
            case .awaitingSecondApproval(let account, let code):
                var response = try ResponseBody.json(AwaitingBody(accountID: account.id, reasonCode: code.rawValue),
                                                     status: .accepted)
                response.headerFields[.eTag] = "\"\(account.version)\""
                return response
            case .chargedOff(let account):
                return try AccountBody.response(account, asOf: call.now)
            }
        }
    }
}
