import CreditLine
import CreditStore
import Foundation
import HTTPServer
import HTTPTypes
import Synchronization

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
}

/// Per-key token buckets (OWASP API4: a looping client must not starve the others).
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant

        /// The tokens it holds at `now`, refilled at `rate` a second up to `capacity`.
        func tokens(at now: ContinuousClock.Instant, rate: Double, capacity: Double) -> Double {
            let elapsed = now - updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return min(capacity, tokens + seconds * rate)
        }

        /// Seconds until a bucket holding `tokens` has one.
        static func wait(_ tokens: Double, rate: Double) -> Int { max(1, Int(((1 - tokens) / rate).rounded(.up))) }
    }

    private let rates: [Role: Double]
    private let burstSeconds: Double
    private let buckets = Mutex<[String: Bucket]>([:])

    init(rates: [Role: Int], burstSeconds: Int) {
        self.rates = rates.mapValues(Double.init)
        self.burstSeconds = Double(burstSeconds)
    }

    /// nil when the request may go on; otherwise the seconds until a token is back.
    func take(keyID: String, role: Role) -> Int? {
        guard let rate = rates[role], rate > 0 else { return nil }
        return take(bucket: keyID, rate: rate, capacity: max(1, rate * burstSeconds))
    }

    /// The seconds until `bucket` has a token again, without taking one; nil when it has one.
    func wait(bucket keyID: String, rate: Double, capacity: Double) -> Int? {
        let now = ContinuousClock.now
        return buckets.withLock { buckets in
            guard let tokens = buckets[keyID]?.tokens(at: now, rate: rate, capacity: capacity), tokens < 1 else { return nil }
            return Bucket.wait(tokens, rate: rate)
        }
    }

    /// A bucket of its own (`name`), `rate` tokens a second up to `capacity`.
    func take(bucket keyID: String, rate: Double, capacity: Double) -> Int? {
        let now = ContinuousClock.now
        return buckets.withLock { buckets in
            // Buckets of many clients (addresses) are dropped once full again: a full bucket and
            // no bucket are the same.
            if buckets.count > 10_000 {
                buckets = buckets.filter { now - $0.value.updated < .seconds(Int64(capacity / rate) + 1) }
            }
            var bucket = buckets[keyID] ?? Bucket(tokens: capacity, updated: now)
            bucket.tokens = bucket.tokens(at: now, rate: rate, capacity: capacity)
            bucket.updated = now
            defer { buckets[keyID] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return Bucket.wait(bucket.tokens, rate: rate)
        }
    }
}
