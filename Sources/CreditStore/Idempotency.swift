import CreditLine
import Foundation
import GRDB

/// The Idempotency-Key a write runs under: who sent it, the key, and the SHA-256 of the request.
/// The answer is stored with it in the write's own transaction (docs/architecture.md, "The write
/// path"), so the change, its audit entries and the answer a retry replays commit together.
public struct IdempotencyRecord: Sendable, Equatable {
    public var apiKeyID: String
    public var key: String
    public var requestSHA256: String

    public init(apiKeyID: String, key: String, requestSHA256: String) {
        (self.apiKeyID, self.key, self.requestSHA256) = (apiKeyID, key, requestSHA256)
    }
}

/// An answer as kept for replay: status, fields and body, nothing of HTTP's types.
public struct StoredAnswer: Sendable, Equatable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String], body: [UInt8]) {
        (self.status, self.headers, self.body) = (status, headers, body)
    }
}

/// What a stored key says about a new request that carries it.
public enum StoredIdempotency: Sendable, Equatable {
    /// The first request finished: replay its answer.
    case replay(StoredAnswer)
    /// The key was used for a different request.
    case reused
}

extension Store {
    /// The answer stored under `key` for this caller, if any. Whether a request with the key is
    /// still running is the process's knowledge, not the database's: after a crash nothing is.
    public func storedIdempotency(_ record: IdempotencyRecord) async throws -> StoredIdempotency? {
        try await readStatement { db in
            guard let row = try StoreRow.fetchOne(
                db, cached: """
                    SELECT idempotency_key, request_sha256, response_status, response_headers, response_body FROM idempotency_keys
                    WHERE api_key_id = ? AND idempotency_key = ? AND state = 'done'
                    """,
                arguments: [record.apiKeyID, record.key])
            else { return nil }
            var read = ColumnReader(row, table: "idempotency_keys")
            _ = try read("idempotency_key") as String
            guard (try read("request_sha256") as String) == record.requestSHA256 else { return .reused }
            // A kept answer is replayed byte for byte or not at all: one that does not read fails
            // the retry loudly rather than answering an empty body. A done key always holds one.
            let status: Int = try read("response_status")
            let headers = try read.optionalJSON("response_headers", as: [String: String].self) ?? [:]
            let body: Data = try read("response_body")
            return .replay(StoredAnswer(status: status, headers: headers, body: Array(body)))
        }
    }

    /// Inside a write transaction: keeps the answer under its key.
    static func store(_ answer: StoredAnswer, for record: IdempotencyRecord, at now: Timestamp, in db: SQLConnection) throws {
        let headers = JSONValue.object(answer.headers.mapValues(JSONValue.string)).canonicalJSON
        try db.enqueue(
            cached: """
                INSERT INTO idempotency_keys (api_key_id, idempotency_key, request_sha256, state, response_status,
                                              response_headers, response_body, created_at)
                VALUES (?, ?, ?, 'done', ?, ?, ?, ?)
                """,
            arguments: [record.apiKeyID, record.key, record.requestSHA256, answer.status, headers, Data(answer.body),
                        now.rfc3339])
    }

    /// Forgets keys older than `retention`; a pruned key is new again.
    public func purgeIdempotencyKeys(olderThan cutoff: Timestamp) async throws -> Int {
        try await write { db in
            try db.execute(cached: "DELETE FROM idempotency_keys WHERE created_at < ?", arguments: [cutoff.rfc3339])
            return db.changesCount
        }
    }
}
