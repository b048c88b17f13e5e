import CreditLine
import CreditStore
import Foundation

/// Runs a periodic review over an upload, for the route and for `creditline review`: the rows
/// are found first (a broken upload is refused before anything changes), then applied in chunks,
/// each chunk one transaction with the review's progress (README "Periodic review").
public enum PortfolioReviewRunner {
    /// Rows per transaction: large enough that the commit is not the cost, small enough that
    /// other writes wait at most a few milliseconds between chunks.
    public static let chunkRows = 500

    /// The review of this upload: a new one (`isNew`), or the one this same content already
    /// made, finished first if it was cut short.
    public static func run(_ data: Data, store: Store, settings: PortfolioReviewSettings, scope: TenantScope,
                           actor: Actor, createdBy: String, chunkRows: Int = chunkRows,
                           progress: (@Sendable (PortfolioReviewRecord) -> Void)? = nil) async throws
        -> (PortfolioReviewRecord, isNew: Bool)
    {
        let ranges = try PortfolioUpload.rows(in: data)
        var (review, isNew) = try await store.perform(OpenPortfolioReview(
            scope: scope, contentSHA256: Hashing.sha256Hex(data), rowsTotal: ranges.count,
            modelVersion: settings.champion.modelVersion, createdBy: createdBy), by: actor)
        // Two stages overlap: while the writer applies one chunk, the next is decoded and scored
        // on a reader (the machine's second core), so the writer only writes.
        func prepare(_ start: Int) async throws -> [PreparedReviewRow]? {
            guard start < ranges.count else { return nil }
            let decoder = JSONDecoder()
            let rows = ranges[start..<min(start + chunkRows, ranges.count)].map {
                PortfolioUpload.decode(data, $0, with: decoder)
            }
            return try await store.prepareReviewRows(rows, settings: settings)
        }
        // Heard once before any row (a review cut short shows where it resumes) and after each chunk.
        progress?(review)
        var next = review.status == .running ? try await prepare(review.rowsDone) : nil
        while review.status == .running, let rows = next {
            let start = review.rowsDone
            async let ahead = prepare(start + rows.count)
            let after = try await store.perform(
                ApplyPortfolioRows(reviewID: review.id, start: start, rows: rows, scope: scope, settings: settings),
                by: actor)
            next = try await ahead
            // Another upload of the same file is applying it: wait for it rather than race it.
            if after.rowsDone == start, after.status == .running {
                try await Task.sleep(for: .milliseconds(50))
                review = try await store.portfolioReview(id: review.id) ?? after
                next = try await prepare(review.rowsDone)
                continue
            }
            review = after
            progress?(review)
        }
        return (review, isNew)
    }
}
