import CreditLine
import Foundation
import Testing
import TestSupport
@testable import CreditStore

/// Round trips a durable write costs on PostgreSQL's writer connection (README "Running on
/// PostgreSQL"): postgres-nio sends one statement at a time, so each statement is a wait on the
/// network. Counted on the engine (every statement of every write transaction, BEGIN and COMMIT
/// among them) for a score with an Idempotency-Key, alone and in a batch of 64, so that the
/// count cannot creep back up. A statement's preparation, once per connection, is a round trip
/// too: the counts are taken once the writer's statements are prepared (a score before), and
/// the preparations are held to a number that does not grow with the writes.
@Suite(.enabled(if: TestDatabase.postgres != nil, "counts PostgreSQL's round trips"))
struct PostgresRoundTripTests {
    /// What a write may cost at most: the figures as this suite last measured them (12 and 11.05
    /// before issue "PostgreSQL in fewer round trips", whose goals are 6 and 3; 6 and 1.08 since
    /// a batch's held inserts go together). A batch that splits in two adds 3/64 of a round trip
    /// a write, inside the margin; one more statement a write is not.
    static let alone = 6
    static let perWriteIn64 = 1.2

    static let card = Result {
        try Scorecard(json: Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/config/scorecards/v1.json")), sha256: "00")
    }

    func scoreable(_ store: Store, _ reference: String) async throws -> String {
        let now = store.time.now()
        let (account, _) = try await store.perform(CreateAccount(customerRef: reference), by: testActor)
        _ = try await store.perform(GrantConsent(accountID: account.id, grant: ConsentRules.Grant(
            purpose: .creditAssessment, noticeVersion: "2026-11", noticeSHA256: String(repeating: "0f", count: 32),
            channel: .app, method: .explicitOptIn, evidence: nil, expiresAt: now.adding(days: 30))), by: testActor)
        return account.id
    }

    func score(_ store: Store, _ accountID: String, key: String) async throws {
        let card = try Self.card.get()
        let result = card.score(try card.validate([
            "months_on_platform": .integer(30), "orders_12m": .integer(20), "spend_12m": .integer(500_000),
            "on_time_ratio_12m": .number(0.98), "overdue_events_12m": .integer(0), "max_days_overdue_12m": .integer(0),
            "return_ratio_12m": .number(0.05), "identity_verified": .boolean(true),
        ], denyList: ProhibitedFeatures(terms: [])))
        let write = try ScoreAccount(accountID: accountID, result: result, modelVersion: card.modelVersion, validityDays: 30)
        _ = try await store.perform(
            write, by: testActor, at: store.time.now(),
            idempotency: IdempotencyRecord(apiKeyID: "key_test", key: key, requestSHA256: String(repeating: "a", count: 64))
        ) { decision in
            (decision.id, StoredAnswer(status: 201, headers: ["Location": "/v1/decisions/\(decision.id)"], body: Array(decision.id.utf8)))
        }
    }

    func engine(_ store: Store) throws -> PostgresEngine {
        guard case .postgres(let engine) = store.database else { throw CancellationError() }
        return engine
    }

    @Test func aScoreAloneTakesAtMostItsRoundTrips() async throws {
        let (store, _) = try temporaryStore()
        let engine = try engine(store)
        try await score(store, try await scoreable(store, "round-trips-first"), key: "first")
        let account = try await scoreable(store, "round-trips-alone")
        let before = engine.writeRoundTrips.load(ordering: .relaxed) - engine.writePreparations.load(ordering: .relaxed)
        try await score(store, account, key: "alone")
        let used = engine.writeRoundTrips.load(ordering: .relaxed) - engine.writePreparations.load(ordering: .relaxed) - before
        #expect(used <= Self.alone, "a score alone took \(used) round trips")
        #expect(used >= 2, "BEGIN and COMMIT are round trips too")
    }

    @Test func sixtyFourScoresInOneBatchTakeAtMostTheirRoundTripsEach() async throws {
        let (store, _) = try temporaryStore()
        let engine = try engine(store)
        var accounts: [String] = []
        for index in 0..<64 { accounts.append(try await scoreable(store, "round-trips-\(index)")) }
        try await score(store, try await scoreable(store, "round-trips-first"), key: "first")
        // The writer held busy while the 64 queue up, so that they drain as one batch.
        let release = DispatchSemaphore(value: 0)
        let holding = Task { try await store.groupCommit.submit { _ in _ = release.wait(timeout: .now() + 10) } }
        try await Task.sleep(for: .milliseconds(100))
        let before = engine.writeRoundTrips.load(ordering: .relaxed)
        let preparedBefore = engine.writePreparations.load(ordering: .relaxed)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, account) in accounts.enumerated() {
                group.addTask { try await score(store, account, key: "batch-\(index)") }
            }
            try await Task.sleep(for: .milliseconds(300))
            release.signal()
            try await group.waitForAll()
        }
        try await holding.value
        // The holding job's own transaction (BEGIN, the chain's lock, COMMIT) is not the batch's.
        let prepared = engine.writePreparations.load(ordering: .relaxed) - preparedBefore
        let used = Double(engine.writeRoundTrips.load(ordering: .relaxed) - before - prepared) - 3
        #expect(used / 64 <= Self.perWriteIn64, "64 scores took \(used) round trips, \(used / 64) each")
        // A connection the writer had not used yet prepares each statement once, whatever the
        // batch's size: a score's statements are fewer than 20 (the batch of held inserts is one
        // more for each number of them it holds).
        #expect(prepared <= 24, "64 scores prepared \(prepared) statements")
    }
}
