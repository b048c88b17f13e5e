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
            case chain, seq, at, actor, role, action, detail, hash
            case accountID = "account_id"
            case subjectID = "subject_id"
            case requestID = "request_id"
            case prevHash = "prev_hash"
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(entry.chain, forKey: .chain)
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
        var nextAfter: String
        var hasMore: Bool
        enum CodingKeys: String, CodingKey {
            case items
            case nextAfter = "next_after"
            case hasMore = "has_more"
        }
    }

    /// A signed root checkpoint: every chain's head, the root's hash and its signature.
    struct RootBody: Codable, RequestFields {
        var algorithm = "Ed25519"
        var at: String
        var root: String?
        var heads: [AuditChainHead]
        var signature: String
        enum CodingKeys: String, CodingKey, CaseIterable {
            case algorithm, at, root, heads, signature
        }

        init(algorithm: String = "Ed25519", at: String, root: String?, heads: [AuditChainHead], signature: String) {
            (self.algorithm, self.at, self.root, self.heads, self.signature) = (algorithm, at, root, heads, signature)
        }

        /// `algorithm` may be left out of a saved root (OpenAPI: optional, Ed25519 by default).
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            algorithm = try container.decodeIfPresent(String.self, forKey: .algorithm) ?? "Ed25519"
            at = try container.decode(String.self, forKey: .at)
            root = try container.decodeIfPresent(String.self, forKey: .root)
            heads = try container.decode([AuditChainHead].self, forKey: .heads)
            signature = try container.decode(String.self, forKey: .signature)
        }
    }

    struct VerifyBody: Encodable {
        var ok: Bool
        var checked: Int?
        var heads: [AuditChainHead]?
        var chain: Int?
        var firstBrokenSeq: Int?
        var reason: String?
        enum CodingKeys: String, CodingKey {
            case ok, checked, heads, chain, reason
            case firstBrokenSeq = "first_broken_seq"
        }
    }

    private var signer: AuditSigner { application.signer }

    func register(on router: inout Router) {
        router.get("/v1/audit", handler: application.authorized([.auditor], readAudit))
        router.get("/v1/audit/head", handler: application.authorized([.auditor], readAuditHead))
        router.get("/v1/audit/public-key", handler: application.authorized([.auditor], readPublicKey))
        router.get("/v1/audit/verify", handler: application.authorized([.auditor], verifyAudit))
        router.post("/v1/audit/verify", handler: application.authorized([.auditor], verifyAuditFromRoot))
    }

    // MARK: - Endpoints

    @Sendable func readAudit(_ request: Request, _: RequestContext, _ call: Call) async throws -> Response {
        let scope = call.scope
        let query = request.queryParameters
        if query["after_seq"] != nil {
            throw DomainError.invalidField("after_seq", "after_seq was replaced by after: the log has chains, and a position names each chain's last seq, as next_after gives it (README \"Audit (for compliance officers)\").")
        }
        guard let position = AuditPosition(text: query["after"] ?? "") else {
            throw DomainError.invalidField("after", "after must be chain:seq pairs joined by commas, e.g. 0:12,1:40, as next_after gives them.")
        }
        let limit = try QueryParameter.integer(query, "limit", default: 100, range: 1...Store.maxAuditPage)
        if let action = query["action"], AuditAction(rawValue: action) == nil {
            throw DomainError.invalidField("action", "action must be one of the audit actions, e.g. consent.withdrawn.")
        }
        // The server's id of one request (X-Request-Id), to list what that request wrote.
        let requestID = query["request_id"]
        if let requestID, RequestObserver.acceptable(requestID) == nil {
            throw DomainError.invalidField("request_id", "request_id must be a request's id as X-Request-Id gave it, e.g. req_k3j9x0a1bc-4f: up to 128 letters, digits and - _ . :")
        }
        if request.headerFields[.accept]?.contains("application/x-ndjson") == true {
            // NDJSON export of any length: a page of entries at a time, streamed, so memory
            // holds one page and whatever the client has not read yet.
            let accountID = query["account_id"]
            let action = query["action"]
            return .streaming(contentType: "application/x-ndjson") { writer in
                try await store.forEachAuditEntry(accountID: accountID, requestID: requestID, after: position,
                                                  scope: scope) { page in
                    var lines: [UInt8] = []
                    for entry in page where action == nil || entry.action == action {
                        lines.append(contentsOf: try AuditExport.line(entry))
                    }
                    try await writer.write(lines)
                }
            }
        }
        let page = try await store.auditPage(accountID: query["account_id"], action: query["action"], requestID: requestID,
                                             after: position, limit: limit, scope: scope)
        return try ResponseBody.json(PageBody(items: page.entries.map(EntryBody.init), nextAfter: page.next.text,
                                              hasMore: page.hasMore))
    }

    @Sendable func readAuditHead(_: Request, _: RequestContext, _ call: Call) async throws -> Response {
        let signed = try signer.sign(heads: try await store.auditHeads(), at: call.now.rfc3339)
        return try ResponseBody.json(RootBody(at: signed.at, root: SignedRoot.root(at: signed.at, heads: signed.heads),
                                              heads: signed.heads, signature: signed.signature))
    }

    @Sendable func readPublicKey(_: Request, _: RequestContext, _: Call) async throws -> Response {
        try ResponseBody.json(["algorithm": "Ed25519", "public_key": signer.publicKey.base64EncodedString()])
    }

    @Sendable func verifyAudit(_ request: Request, _: RequestContext, _: Call) async throws -> Response {
        let query = request.queryParameters
        var root: [AuditChainHead] = []
        if query["from_seq"] != nil || query["from_hash"] != nil || query["from_chain"] != nil {
            // One chain's checkpoint (chain 0's, as before there were chains, unless named).
            let chain = try QueryParameter.integer(query, "from_chain", default: 0, range: 0...AuditPosition.maxChains)
            let seq = try QueryParameter.integer(query, "from_seq", default: 0, range: 0...Int.max)
            guard let hash = query["from_hash"], hash.utf8.count == 64 else {
                throw DomainError.invalidField("from_hash", "from_hash must be the 64 hex digits of the checkpoint's hash.")
            }
            root = [AuditChainHead(chain: chain, seq: seq, hash: hash.lowercased())]
        }
        return try await verified(from: root)
    }

    /// Verification from a signed root (the body `GET /v1/audit/head` answered): its signature
    /// checked against the service's key, then every chain through its head there.
    @Sendable func verifyAuditFromRoot(_ request: Request, _: RequestContext, _: Call) async throws -> Response {
        let body = try RequestBody.decode(RootBody.self, from: request)
        guard body.algorithm == "Ed25519" else {
            throw DomainError.invalidField("algorithm", "algorithm must be Ed25519, the only one the service signs with.")
        }
        guard body.heads.count <= AuditPosition.maxChains,
              Set(body.heads.map(\.chain)).count == body.heads.count,
              body.heads.allSatisfy({ $0.chain >= 0 && $0.seq >= 0 && $0.hash.utf8.count == 64 })
        else {
            throw DomainError.invalidField("heads", "heads must name each chain once, with its seq and the 64 hex digits of its hash.")
        }
        guard SignedRoot.isValid(at: body.at, heads: body.heads, signature: body.signature, publicKey: signer.publicKey) else {
            throw DomainError.invalidField("signature", "The signature is not the service's over this root: the root was altered, or signed by another key.")
        }
        return try await verified(from: body.heads.map { AuditChainHead(chain: $0.chain, seq: $0.seq, hash: $0.hash.lowercased()) })
    }

    private func verified(from root: [AuditChainHead]) async throws -> Response {
        switch try await store.verifyAuditChain(from: root) {
        case .intact(let checked, let heads):
            return try ResponseBody.json(VerifyBody(ok: true, checked: checked, heads: heads))
        case .broken(let chain, let seq, let reason):
            return try ResponseBody.json(VerifyBody(ok: false, chain: chain, firstBrokenSeq: seq, reason: reason))
        }
    }
}

/// One audit entry as an NDJSON line, the same shape the API answers.
public enum AuditExport {
    public static func line(_ entry: AuditEntry) throws -> [UInt8] {
        try ResponseBody.encode(AuditRoutes.EntryBody(entry: entry)) + [10]
    }
}
