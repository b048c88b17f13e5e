import CreditLine
import Foundation
import GRDB
import Testing
import TestSupport
@testable import CreditStore

/// Statements prepared once per connection on PostgreSQL (README "Running on PostgreSQL",
/// "Prepared statements"): the same answers as unprepared, changes counted right, a NULL and a
/// value in one place two statements, and a statement that fails leaves no connection behind
/// that would refuse it for good.
@Suite(.enabled(if: TestDatabase.postgres != nil, "prepares statements on PostgreSQL"))
struct PostgresPreparedStatementTests {
    func engine() throws -> PostgresEngine {
        let (store, _) = try temporaryStore()
        guard case .postgres(let engine) = store.database else { throw CancellationError() }
        try engine.write { db in try db.execute(sql: "CREATE TABLE probe (k TEXT PRIMARY KEY, n BIGINT, note TEXT)") }
        return engine
    }

    @Test func changesAreCountedAsTheCommandTagWouldCountThem() throws {
        let engine = try engine()
        for round in 0..<3 {
            // Three rounds: the first prepares, the others run what is prepared.
            let counts = try engine.write { db -> [Int] in
                var counts: [Int] = []
                try db.execute(cached: "INSERT INTO probe (k, n) VALUES (?, ?) ON CONFLICT DO NOTHING", arguments: ["a\(round)", 1])
                counts.append(db.changesCount)
                try db.execute(cached: "INSERT INTO probe (k, n) VALUES (?, ?) ON CONFLICT DO NOTHING", arguments: ["a\(round)", 1])
                counts.append(db.changesCount)
                try db.execute(cached: "INSERT INTO probe (k, n) VALUES (?, ?) ON CONFLICT DO NOTHING", arguments: ["b\(round)", 2])
                try db.execute(cached: "UPDATE probe SET n = n + 1 WHERE k IN (?, ?)", arguments: ["a\(round)", "b\(round)"])
                counts.append(db.changesCount)
                try db.execute(cached: "UPDATE probe SET n = n + 1 WHERE k = ?", arguments: ["absent"])
                counts.append(db.changesCount)
                try db.execute(cached: "DELETE FROM probe WHERE k = ?", arguments: ["b\(round)"])
                counts.append(db.changesCount)
                return counts
            }
            #expect(counts == [1, 0, 2, 0, 1], "round \(round)")
        }
        #expect(engine.writePreparations.load(ordering: .relaxed) > 0, "nothing was prepared")
    }

    @Test func aNullAndAValueInOnePlaceAreTwoStatements() throws {
        let engine = try engine()
        let rows = try engine.write { db -> [String?] in
            try db.execute(cached: "INSERT INTO probe (k, n, note) VALUES (?, ?, ?)", arguments: ["x", nil, nil])
            try db.execute(cached: "INSERT INTO probe (k, n, note) VALUES (?, ?, ?)", arguments: ["y", 7, "seven"])
            try db.execute(cached: "INSERT INTO probe (k, n, note) VALUES (?, ?, ?)", arguments: ["z", nil, "none"])
            return try String.fetchAll(db, cached: "SELECT coalesce(note, '-') || ':' || coalesce(n::text, '-') FROM probe ORDER BY k")
        }
        #expect(rows == ["-:-", "seven:7", "none:-"])
    }

    @Test func aFailedStatementLeavesNoConnectionThatRefusesItForGood() throws {
        let engine = try engine()
        try engine.write { db in try db.execute(cached: "INSERT INTO probe (k, n) VALUES (?, ?)", arguments: ["dup", 1]) }
        for _ in 0..<2 {
            // A unique violation each time, on the statement prepared by the first insert.
            do {
                try engine.write { db in try db.execute(cached: "INSERT INTO probe (k, n) VALUES (?, ?)", arguments: ["dup", 2]) }
                Issue.record("a duplicate key was inserted")
            } catch let error as PostgresServerError {
                #expect(error.state == "23505")
            }
        }
        // A statement whose preparation fails (its table not there yet) runs once the table is:
        // postgres-nio keeps a failed preparation for its connection's life, so that connection
        // must not be handed out again.
        for _ in 0..<2 {
            do {
                _ = try engine.read { db in try Int.fetchOne(db, cached: "SELECT count(*) FROM later") }
                Issue.record("a statement on a missing table ran")
            } catch let error as PostgresServerError {
                #expect(error.state == "42P01")
            }
        }
        try engine.write { db in try db.execute(sql: "CREATE TABLE later (k TEXT)") }
        for _ in 0..<3 {
            let count = try engine.read { db in try Int.fetchOne(db, cached: "SELECT count(*) FROM later") }
            #expect(count == 0)
        }
        let count = try engine.read { db in try Int.fetchOne(db, cached: "SELECT count(*) FROM probe") }
        #expect(count == 1)
    }
}
