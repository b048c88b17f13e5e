import CreditLine
import CreditStore
import Foundation
import HTTPServer
import HTTPTypes

/// The auditor's view (README "Audit (for compliance officers)"): pages, checkpoints, verification, export.
struct AuditRoutes: RouteFamily {
    let application: Application

    struct EntryBody: Encodable {
        let entry: AuditEntry
        enum CodingKeys: String, CodingKey {
            case seq, at, actor, role, action, detail, hash
            case accountID = "account_id"
            case subjectID = "subject_id"
            case requestID = "request_id"
            case prevHash = "prev_hash"
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(entry.seq, forKey: .seq)
            try container.encode(entry.at, forKey: .at)
            try container.encode(entry.actor, forKey: .actor)
            try container.encode(entry.role, forKey: .role)
            try container.encode(entry.action, forKey: .action)
            try container.encode(entry.accountID, forKey: .accountID)
            try container.encode(entry.subjectID, forKey: .subjectID)
            // The detail as JSON, as it was hashed.
            let detail = (try? SharedJSON.decoder.decode(JSONValue.self, from: Data(entry.detail.utf8))) ?? .string(entry.detail)
            try container.encode(detail, forKey: .detail)
            try container.encode(entry.requestID, forKey: .requestID)
            try container.encode(entry.prevHash, forKey: .prevHash)
            try container.encode(entry.hash, forKey: .hash)
        }
    }

    struct PageBody: Encodable {
        var items: [EntryBody]
        var nextAfterSeq: Int?
        enum CodingKeys: String, CodingKey {
            case items
            case nextAfterSeq = "next_after_seq"
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(items, forKey: .items)
            try container.encode(nextAfterSeq, forKey: .nextAfterSeq)
        }
    }

    struct HeadBody: Encodable {
        var seq: Int
        var hash: String
        var at: String
        var signature: String
        var algorithm = "Ed25519"
    }

    struct VerifyBody: Encodable {
        var ok: Bool
        var checked: Int?
        var head: AuditHead?
        var firstBrokenSeq: Int?
        var reason: String?
        enum CodingKeys: String, CodingKey {
            case ok, checked, head, reason
            case firstBrokenSeq = "first_broken_seq"
        }
    }

    private var signer: AuditSigner { application.signer }

    func register(on router: inout Router) {
        router.get("/v1/audit", handler: application.authorized([.auditor], readAudit))
        router.get("/v1/audit/head", handler: application.authorized([.auditor], readAuditHead))
        router.get("/v1/audit/public-key", handler: application.authorized([.auditor], readPublicKey))
        router.get("/v1/audit/verify", handler: application.authorized([.auditor], verifyAudit))
    }

    // MARK: - Endpoints

    @Sendable func readAudit(_ request: Request, _: RequestContext, _ call: Call) async throws -> Response {
        let scope = call.scope
        let query = request.queryParameters
        let afterSeq = try QueryParameter.integer(query, "after_seq", default: 0, range: 0...Int.max)
        let limit = try QueryParameter.integer(query, "limit", default: 100, range: 1...Store.maxAuditPage)
        if let action = query["action"], AuditAction(rawValue: action) == nil {
            throw DomainError.invalidField("action", "action must be one of the audit actions, e.g. consent.withdrawn.")
        }
        if request.headerFields[.accept]?.contains("application/x-ndjson") == true {
            // NDJSON export of any length: a page of entries at a time, streamed, so memory
            // holds one page and whatever the client has not read yet.
            let accountID = query["account_id"]
            let action = query["action"]
            return .streaming(contentType: "application/x-ndjson") { writer in
                try await store.forEachAuditEntry(accountID: accountID, after: afterSeq, scope: scope) { page in
                    var lines: [UInt8] = []
                    for entry in page where action == nil || entry.action == action {
                        lines.append(contentsOf: try AuditExport.line(entry))
                    }
                    try await writer.write(lines)
                }
            }
        }
        let page = try await store.auditPage(accountID: query["account_id"], action: query["action"],
                                             afterSeq: afterSeq, limit: limit, scope: scope)
        return try ResponseBody.json(PageBody(items: page.entries.map(EntryBody.init), nextAfterSeq: page.nextAfterSeq))
    }

    @Sendable func readAuditHead(_: Request, _: RequestContext, _ call: Call) async throws -> Response {
        let head = try await store.auditHead()
        let signed = try signer.sign(seq: head.seq, hash: head.hash, at: call.now.rfc3339)
        return try ResponseBody.json(HeadBody(seq: signed.seq, hash: signed.hash, at: signed.at, signature: signed.signature))
    }

    @Sendable func readPublicKey(_: Request, _: RequestContext, _: Call) async throws -> Response {
        try ResponseBody.json(["algorithm": "Ed25519", "public_key": signer.publicKey.base64EncodedString()])
    }

    @Sendable func verifyAudit(_ request: Request, _: RequestContext, _: Call) async throws -> Response {
        let query = request.queryParameters
        var checkpoint: AuditHead? = nil
        if query["from_seq"] != nil || query["from_hash"] != nil {
            let seq = try QueryParameter.integer(query, "from_seq", default: 0, range: 0...Int.max)
            guard let hash = query["from_hash"], hash.utf8.count == 64 else {
                throw DomainError.invalidField("from_hash", "from_hash must be the 64 hex digits of the checkpoint's hash.")
            }
            checkpoint = AuditHead(seq: seq, hash: hash.lowercased())
        }
        switch try await store.verifyAuditChain(from: checkpoint) {
        case .intact(let checked, let head):
            return try ResponseBody.json(VerifyBody(ok: true, checked: checked, head: head))
        case .broken(let seq, let reason):
            return try ResponseBody.json(VerifyBody(ok: false, firstBrokenSeq: seq, reason: reason))
        }
    }
}

/// One audit entry as an NDJSON line, the same shape the API answers.
public enum AuditExport {
    public static func line(_ entry: AuditEntry) throws -> [UInt8] {
        try ResponseBody.encode(AuditRoutes.EntryBody(entry: entry)) + [10]
    }
}
