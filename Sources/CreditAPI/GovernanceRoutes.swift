import CreditLine
import CreditStore
import Foundation
import HTTPServer
import HTTPTypes

/// The data-inventory register and the customer's copy of their data (README "Data governance").
struct GovernanceRoutes: RouteFamily {
    let application: Application

    /// Columns that hold JSON text are shown as JSON, not as strings of it.
    static func json(_ value: StoredValue) -> Any {
        switch value {
        case .null: return NSNull()
        case .integer(let number): return NSNumber(value: number)
        case .real(let number): return NSNumber(value: number)
        case .blob(let data): return data.base64EncodedString()
        case .text(let text):
            if let first = text.utf8.first, first == UInt8(ascii: "{") || first == UInt8(ascii: "["),
               let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8)) {
                return parsed
            }
            return text
        }
    }

    private var inventory: DataInventory { application.inventory }

    func register(on router: inout Router) {
        router.get("/v1/data-inventory", handler: application.authorized([.auditor], readDataInventory))
        router.get("/v1/compliance/report", handler: application.authorized([.auditor], readComplianceReport))
        router.get("/v1/accounts/{id}/data-export", handler: application.authorized([.service], exportAccountData))
    }

    // MARK: - Endpoints

    @Sendable func readDataInventory(_: Request, _: RequestContext, _: Call) async throws -> Response {
        struct Body: Encodable {
            var legalBases: [String: String]
            var tables: [String: [String: DataInventory.Entry]]
            var reasonCodesFromSeq: Int?
            var reasonCodes: [String: String]
            enum CodingKeys: String, CodingKey {
                case tables
                case legalBases = "legal_bases"
                case reasonCodesFromSeq = "reason_codes_from_seq"
                case reasonCodes = "reason_codes"
            }
        }
        return try ResponseBody.json(Body(
            legalBases: inventory.legalBases, tables: inventory.tables,
            reasonCodesFromSeq: try await store.chainRuleStart("reason_codes"),
            reasonCodes: application.reasonCodes.codes))
    }

    @Sendable func readComplianceReport(_ request: Request, _: RequestContext, _ call: Call) async throws -> Response {
        let query = request.queryParameters
        let (from, to) = try ReportWindow.resolve(from: query["from"], to: query["to"], now: call.now)
        // A tenant's auditor reads its tenant's report; an auditor for all tenants the installation's.
        let report = try await store.complianceReport(from: from, to: to, settings: application.scoring.complianceSettings(application.configuration),
                                                      scope: call.scope, now: call.now)
        return try ResponseBody.json(try application.signer.signReport(report))
    }

    @Sendable func exportAccountData(_: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let accountID = try context.parameter("id")
        guard let export = try await store.dataExport(accountID: accountID) else {
            throw DomainError.notFound("account")
        }
        var tables: [String: Any] = [:]
        for (table, rows) in export {
            tables[table] = rows.map { row in row.mapValues(Self.json) }
        }
        let document: [String: Any] = [
            "account_id": accountID, "exported_at": call.now.rfc3339, "tables": tables,
            "register": "GET /v1/data-inventory says what each column is, why it is held and until when",
        ]
        let body = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
        var response = Response(status: .ok, body: [UInt8](body))
        response.headerFields[.contentType] = "application/json"
        return response
    }
}
