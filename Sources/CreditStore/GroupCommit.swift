import CreditLine
import Foundation
import GRDB
import Synchronization
import Tracing

/// Group commit (docs/architecture.md, "The write path"): the pending business writes run in one
/// transaction, each in its own savepoint, and one commit, one fsync, makes the batch durable.
/// A write whose rule refuses it rolls back alone and gets its own answer. Nobody is answered
/// before the commit: a refusal may rest on a write earlier in the batch, so if the commit fails,
/// every write in the batch gets that failure. A batch starts as soon as the writer is free, so a
/// lone request never waits for company; the queue is bounded, and a full one refuses at once.
final class GroupCommit: Sendable {
    private struct Job: Sendable {
        /// What its transaction must lock on PostgreSQL.
        let scope: WriteScope
        /// Runs inside the batch's transaction, in the job's own savepoint.
        let run: @Sendable (SQLConnection) throws -> Void
        /// Called once the batch has committed (nil) or failed (the error), or with the job's own
        /// refusal.
        let finish: @Sendable ((any Error)?) -> Void
        /// With tracing on: the request's context and the span of its wait in the queue.
        var trace: JobTrace? = nil
    }

    /// A job's place in its request's trace (README "Operations", "Traces"); a reference, so
    /// that a job without one is no larger than before.
    private final class JobTrace: Sendable {
        let context: ServiceContext
        let wait: any Span
        let name: String

        init(context: ServiceContext, wait: any Span, name: String) {
            (self.context, self.wait, self.name) = (context, wait, name)
        }
    }

    private struct State {
        var pending: [Job] = []
        var writing = false
    }

    /// A lone write's own failure, carried out of the transaction it rolls back.
    private struct Refusal: Error {
        let error: any Error
    }

    /// A batch run without savepoints met a refusal it cannot undo alone.
    private struct SavepointsNeeded: Error {}

    private typealias ChainsNeeded = WriteScope.ChainsNeeded

    /// The batch's jobs inside its transaction, each job's outcome. A batch of one needs no
    /// savepoint: its refusal rolls the whole transaction back (a storage fault goes out as it
    /// is, to be met as the batch's). With `savepoints`, each job runs in its own. Without them
    /// (PostgreSQL, where each is a round trip), a job is refused alone only when it sent
    /// nothing (its held inserts are dropped and the chain's head put back); otherwise, or when
    /// the database itself refused (the transaction is then aborted), the batch is given up for a
    /// run with savepoints.
    /// A job that reaches a chain the batch did not lock, and finds it taken (`ChainsNeeded`),
    /// is no job's refusal: the batch is given up and run again with that chain locked first.
    private static func run(_ batch: [Job], _ db: SQLConnection, savepoints: Bool) throws -> [(any Error)?] {
        if batch.count == 1 {
            do { try batch[0].run(db) } catch where StorageFault.of(error) == nil && !(error is ChainsNeeded) {
                throw Refusal(error: error)
            }
            return [nil]
        }
        if savepoints {
            return try batch.map { job in
                do {
                    try db.inSavepoint { try job.run(db) }
                    return nil
                } catch let needed as ChainsNeeded {
                    throw needed
                } catch {
                    return error
                }
            }
        }
        let outcomes: [(any Error)?] = try batch.map { job in
            let (sent, heads, mark) = (db.writesSent, db.auditHeads, db.heldCount)
            do {
                try job.run(db)
                return nil
            } catch let needed as ChainsNeeded {
                throw needed
            } catch let error where StorageFault.of(error) == nil && !(error is PostgresServerError) && db.writesSent == sent {
                db.dropHeld(from: mark)
                db.auditHeads = heads
                return error
            } catch where StorageFault.of(error) == nil {
                throw SavepointsNeeded()
            }
        }
        // The jobs' held inserts go together, as one statement where no read needed them sent
        // before; one the database refuses cannot be told apart from the others, so the batch
        // runs again with savepoints, where each job's inserts are sent in its own.
        do { try db.flush() } catch where StorageFault.of(error) == nil { throw SavepointsNeeded() }
        return outcomes
    }

    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "creditline.group-commit")
    private let writer: StoreEngine
    private let health: StorageHealth
    let limit: Int

    init(writer: StoreEngine, health: StorageHealth, limit: Int) {
        self.writer = writer
        self.health = health
        self.limit = limit
    }

    /// Writes waiting for a batch now (`creditline_write_queue_depth`).
    var depth: Int { state.withLock { $0.pending.count } }

    /// Runs `body` in the next batch and answers with its value once the batch has committed.
    /// `name` is the write's kind (`MakeDraw`), the name of its decision's span.
    func submit<T: Sendable>(scope: WriteScope = .installation, name: @autoclosure () -> String = "write",
                             _ body: @escaping @Sendable (SQLConnection) throws -> T) async throws -> T
    {
        let slot = Mutex<T?>(nil)
        // With tracing on, the write's rules and changes run in a span of the request's trace,
        // and its wait for a batch is a span of its own.
        // Off, the job is what it was before traces: its closure captures the body alone.
        let trace = Traces.enabled ? ServiceContext.current.map {
            JobTrace(context: $0, wait: startSpan("store.queue_wait", context: $0), name: "decide " + name())
        } : nil
        let work: @Sendable (SQLConnection) throws -> T = if let trace {
            { db in try Self.decide(trace, db, body) }
        } else {
            body
        }
        return try await withCheckedThrowingContinuation { continuation in
            var job = Job(scope: scope, run: { db in
                let value = try work(db)
                slot.withLock { $0 = value }
            }, finish: { error in
                if let error {
                    continuation.resume(throwing: error)
                } else if let value = slot.withLock({ $0 }) {
                    continuation.resume(returning: value)
                } else {
                    continuation.resume(throwing: StoreError.overloaded)
                }
            })
            job.trace = trace
            let start = state.withLock { state -> Bool? in
                guard state.pending.count < limit else { return nil }
                state.pending.append(job)
                if state.writing { return false }
                state.writing = true
                return true
            }
            switch start {
            case nil: job.finish(StoreError.overloaded)
            // Batches run on a queue of their own, not on Swift's cooperative threads: those may all
            // be waiting (on a blocking client, in tests) and the writer must never wait for them.
            case true?: queue.async { self.drain() }
            case false?: break
            }
        }
    }

    /// The batch in one transaction. Without savepoints first where they cost round trips; again
    /// with them when a job was refused after part of it reached the database; again with more
    /// chains locked when a job reached a chain that another transaction held (a few times, then
    /// with every lock, which no transaction can be short of).
    private func commit(_ batch: [Job]) throws -> [(any Error)?] {
        var scope = WriteScope.union(batch.map(\.scope))
        var savepoints = !writer.savepointsCostRoundTrips
        var shortOfChains = 0
        while true {
            do {
                return try writer.write(scope: scope) { db in try Self.run(batch, db, savepoints: savepoints) }
            } catch is SavepointsNeeded {
                savepoints = true
            } catch let needed as ChainsNeeded {
                shortOfChains += 1
                scope = shortOfChains <= 3 ? WriteScope.union([scope, WriteScope(chains: needed.chains, exclusive: false)]) : .installation
            }
        }
    }

    /// The write's rules and changes as a span under its request. A refusal marks it failed by
    /// its kind alone: `withSpan` would record the error's words, and a problem may quote what
    /// the caller sent.
    private static func decide<T>(_ trace: JobTrace, _ db: SQLConnection, _ body: (SQLConnection) throws -> T) throws -> T {
        let span = startSpan(trace.name, context: trace.context)
        defer { span.end() }
        do {
            return try ServiceContext.withValue(span.context) { try body(db) }
        } catch {
            span.setStatus(SpanStatus(code: .error, message: "\(type(of: error))"))
            throw error
        }
    }

    /// The batch's transaction and commit as one span, a trace of its own linked to the trace of
    /// every request it carried; each request's wait for it ends here.
    private static func batchSpan(_ batch: [Job]) -> (any Span)? {
        let traced = batch.compactMap(\.trace)
        guard !traced.isEmpty else { return nil }
        for trace in traced { trace.wait.end() }
        let span = startSpan("store.transaction", context: .topLevel)
        span.attributes["creditline.batch.writes"] = batch.count
        for trace in traced { span.addLink(SpanLink(context: trace.context, attributes: [:])) }
        return span
    }

    private func drain() {
        while true {
            let batch = state.withLock { state -> [Job] in
                let batch = state.pending
                state.pending.removeAll(keepingCapacity: true)
                if batch.isEmpty { state.writing = false }
                return batch
            }
            if batch.isEmpty { return }
            let span = Self.batchSpan(batch)
            defer { span?.end() }
            do {
                let outcomes = try commit(batch)
                // A write that met a full disk inside its savepoint leaves the fault standing even
                // though the (emptier) batch committed.
                if let fault = outcomes.compactMap({ $0 }).first(where: { StorageFault.of($0) != nil }) {
                    health.record(fault)
                } else {
                    health.cleared()
                }
                for (job, outcome) in zip(batch, outcomes) { job.finish(outcome.map(StorageFault.named)) }
            } catch let refusal as Refusal {
                // The lone write's own answer, as its savepoint's would have been.
                batch[0].finish(refusal.error)
            } catch {
                health.record(error)
                let named = StorageFault.named(error)
                for job in batch { job.finish(named) }
            }
        }
    }
}
