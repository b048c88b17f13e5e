import CreditLine
import Foundation
import GRDB

/// What the store knows of an idempotency key when a request arrives.
public enum IdempotencyClaim: Sendable, Equatable {
    /// New: this request now holds the key and runs.
    case claimed
    /// The first request finished: replay its answer.
    case replay(status: Int, headers: [String: String], body: [UInt8])
    /// The first request with this key is still running.
    case inProgress
    /// The key was used for a different request.
    case reused
}

extension Store {
    /// Claims `key` for this caller and request, or says why not. Claims are their own small
    /// transactions: two racing requests with one key cannot both run.
    public func claimIdempotencyKey(apiKeyID: String, key: String, requestSHA256: String, at now: Timestamp) async throws
        -> IdempotencyClaim
    {
        try await write { db in
            if let row = try Row.fetchOne(
                db, sql: "SELECT * FROM idempotency_keys WHERE api_key_id = ? AND idempotency_key = ?",
                arguments: [apiKeyID, key])
            {
                guard (row["request_sha256"] as String) == requestSHA256 else { return .reused }
                guard (row["state"] as String) == "done" else { return .inProgress }
                let typed = TypedRow(row, table: "idempotency_keys")
                let headers = try typed.optionalJSON("response_headers", as: [String: String].self) ?? [:]
                let body: Data = row["response_body"] ?? Data()
                return .replay(status: row["response_status"], headers: headers, body: Array(body))
            }
            try db.execute(
                sql: """
                    INSERT INTO idempotency_keys (api_key_id, idempotency_key, request_sha256, state, created_at)
                    VALUES (?, ?, ?, 'in_progress', ?)
                    """,
                arguments: [apiKeyID, key, requestSHA256, now.rfc3339])
            return .claimed
        }
    }

    /// Saves the answer of a claimed key.
    public func completeIdempotencyKey(apiKeyID: String, key: String, status: Int, headers: [String: String],
                                       body: [UInt8]) async throws
    {
        let headerText = String(decoding: try JSONEncoder().encode(headers), as: UTF8.self)
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE idempotency_keys SET state = 'done', response_status = ?, response_headers = ?, response_body = ?
                    WHERE api_key_id = ? AND idempotency_key = ?
                    """,
                arguments: [status, headerText, Data(body), apiKeyID, key])
        }
    }

    /// Lets a key be used again: its request failed validation, lost a conflict or failed.
    public func releaseIdempotencyKey(apiKeyID: String, key: String) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE api_key_id = ? AND idempotency_key = ?",
                           arguments: [apiKeyID, key])
        }
    }

    /// Forgets keys older than `retention`; a pruned key is new again.
    public func purgeIdempotencyKeys(olderThan cutoff: Timestamp) async throws -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE created_at < ?", arguments: [cutoff.rfc3339])
            return db.changesCount
        }
    }
}
