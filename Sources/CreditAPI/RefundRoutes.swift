import CreditLine
import CreditStore
import HTTPServer
import HTTPTypes

/// Refunds of returned purchases (README "Refunds and the credit balance"): the calling service
/// reports the merchant's refund onto the draw that paid for the purchase.
struct RefundRoutes: RouteFamily {
    let application: Application

    struct RefundRequest: RequestFields {
        var amount: FeatureInput
        var merchantRef: String
        enum CodingKeys: String, CodingKey, CaseIterable {
            case amount
            case merchantRef = "merchant_ref"
        }
    }

    /// A refund as answered (and listed on a statement): what it took off each instalment and
    /// what it left to the credit balance; with the line's figures after it when `account` is set.
    static func body(_ refund: RefundRecord, account: Account? = nil) -> JSONValue {
        var body: [String: JSONValue] = [
            "id": .string(refund.id), "account_id": .string(refund.accountID), "draw_id": .string(refund.drawID),
            "amount": .int(refund.amount), "merchant_ref": .string(refund.merchantRef),
            "received_at": .string(refund.receivedAt.rfc3339),
            "principal_reduced": .int(refund.outcome.principalReduced), "fees_cancelled": .int(refund.outcome.feesCancelled),
            "fees_credited": .int(refund.outcome.feesCredited), "to_credit_balance": .int(refund.outcome.toCreditBalance),
            "allocations": .array(refund.outcome.allocations.map { part in
                .object(["instalment_id": .string(part.instalmentID), "principal": .int(part.principal),
                         "fee_cancelled": .int(part.feeCancelled), "fee_credited": .int(part.feeCredited)])
            }),
        ]
        if let account {
            body.merge([
                "credit_applied": .int(refund.creditApplied), "balance": .int(account.balance),
                "fees_outstanding": .int(account.feesOutstanding), "credit_balance": .int(account.creditBalance),
                "available_credit": .int(account.availableCredit),
            ]) { $1 }
        }
        return .object(body)
    }

    func register(on router: inout Router) {
        router.post("/v1/accounts/{id}/draws/{draw_id}/refunds", handler: application.authorized([.service], refund))
    }

    @Sendable func refund(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let body = try RequestBody.decode(RefundRequest.self, from: request)
        let merchantRef = try Reference.validate(body.merchantRef, field: "merchant_ref")
        let accountID = try context.parameter("id")
        return try await call.perform(
            MakeRefund(accountID: accountID, drawID: try context.parameter("draw_id"), amount: LedgerRoutes.fen(body.amount),
                       merchantRef: merchantRef),
            ifMatch: try Preconditions.ifMatch(request, accountID: accountID)
        ) { refund, account in
            var response = try ResponseBody.json(Self.body(refund, account: account), status: .created)
            response.headerFields[.eTag] = "\"\(account.version)\""
            return response
        }
    }
}
