import CreditLine
import Foundation
import GRDB
import Synchronization

/// Why the database cannot take a write or answer a read right now: a closed set, so it can be
/// a log field, a readiness answer and a metric label without any caller's text in it.
public enum StorageFault: String, Sendable, Equatable {
    /// SQLITE_FULL: the disk (or the database's page limit) is full.
    case diskFull = "disk-full"
    /// SQLITE_READONLY: the file or its file system cannot be written.
    case readOnly = "read-only"
    /// SQLITE_BUSY or SQLITE_LOCKED past the busy timeout: another process holds the lock.
    case locked
    /// SQLITE_IOERR or SQLITE_CANTOPEN: the operating system failed a read or write.
    case ioError = "io-error"
    /// PostgreSQL: no host of `database_url` answers as a primary (a failover under way, a
    /// network fault).
    case unreachable

    init?(_ error: DatabaseError) {
        switch error.resultCode {
        case .SQLITE_FULL: self = .diskFull
        case .SQLITE_READONLY: self = .readOnly
        case .SQLITE_BUSY, .SQLITE_LOCKED: self = .locked
        case .SQLITE_IOERR, .SQLITE_CANTOPEN: self = .ioError
        default: return nil
        }
    }

    /// A database error that is a storage fault, as `StoreError.storageUnavailable`; any other
    /// error as it is.
    static func named(_ error: any Error) -> any Error {
        of(error).map { StoreError.storageUnavailable($0) } ?? error
    }

    /// The fault an error is, from either engine.
    static func of(_ error: any Error) -> StorageFault? {
        if case StoreError.storageUnavailable(let fault) = error { return fault }
        return (error as? DatabaseError).flatMap(StorageFault.init)
    }

    /// How long a client should wait before trying again.
    public var retryAfterSeconds: Int {
        switch self {
        case .locked: return 1
        case .diskFull, .readOnly, .ioError: return 5
        case .unreachable: return 1
        }
    }
}

/// The last storage fault a write met, shared by every copy of a `Store`. A fault stays until
/// a write succeeds: a business write, or the probe that readiness makes while a fault is set,
/// so the service notices by itself when the disk has room again.
final class StorageHealth: Sendable {
    private let fault = Mutex<StorageFault?>(nil)

    var current: StorageFault? { fault.withLock { $0 } }

    func record(_ error: any Error) {
        guard let found = StorageFault.of(error) else { return }
        fault.withLock { $0 = found }
    }

    func cleared() { fault.withLock { $0 = nil } }
}

extension Store {
    /// A read, with storage faults named (`StoreError.storageUnavailable`) instead of raw SQLite
    /// errors. Reads do not set or clear the fault: they do not need free space.
    ///
    /// On SQLite the read runs on the calling thread: in WAL mode a reader never waits for the
    /// writer, and a read of a few rows costs less than the two thread hops of GRDB's asynchronous
    /// read (docs/architecture.md, "Reads"). With every reader busy the caller waits for one;
    /// reads are a few indexed rows, so the wait is short. On PostgreSQL it waits on a round trip,
    /// so it runs on the engine's own threads (`StoreEngine.blocking`).
    func read<T: Sendable>(_ body: @escaping @Sendable (SQLConnection) throws -> T) async throws -> T {
        do {
            if let readers { return try readers.withReader { reader in try reader.transaction { try body(SQLConnection(reader)) } } }
            let database = database
            return try await database.blocking { try database.read(body) }
        } catch {
            throw StorageFault.named(error)
        }
    }

    /// A read transaction on the engine's own connections (GRDB's readers on SQLite), for what
    /// needs SQLite's connection itself: the audit chain's column-level verifier.
    func engineRead<T: Sendable>(_ body: @escaping @Sendable (SQLConnection) throws -> T) async throws -> T {
        do {
            let database = database
            return try await database.blocking { try database.read(body) }
        } catch {
            throw StorageFault.named(error)
        }
    }

    /// A read of one statement: it needs no transaction around it (SQLite gives every statement
    /// its own consistent snapshot), so it skips the BEGIN and COMMIT of `read`.
    func readStatement<T: Sendable>(_ body: @escaping @Sendable (SQLConnection) throws -> T) async throws -> T {
        do {
            if let readers { return try readers.withReader { try body(SQLConnection($0)) } }
            let database = database
            return try await database.blocking { try database.readStatement(body) }
        } catch {
            throw StorageFault.named(error)
        }
    }

    /// A write transaction; a storage fault is recorded for readiness and thrown as
    /// `StoreError.storageUnavailable`, and a success clears any recorded fault.
    func write<T: Sendable>(_ body: @escaping @Sendable (SQLConnection) throws -> T) async throws -> T {
        do {
            let value = try await database.writeAsync(body)
            health.cleared()
            return value
        } catch {
            health.record(error)
            throw StorageFault.named(error)
        }
    }

    /// The fault that makes the service unready, if any. While one is recorded, each call tries
    /// a one-row write, so that a disk with room again (or a lock released) is noticed without a
    /// restart and without waiting for traffic that a load balancer no longer sends.
    public func storageFault(at now: Timestamp) async -> StorageFault? {
        guard health.current != nil else { return nil }
        do {
            try await write { db in
                // PostgreSQL reports a full disk on the write that meets it; a probe there only
                // needs the primary to take a write again (after a failover, for instance).
                guard db.dialect == .sqlite else {
                    try db.execute(cached: "SELECT 1")
                    return
                }
                // 64 KiB that must land on new pages: a probe that fits in a page's free space
                // would pass while a business write still fails.
                try db.execute(cached: "INSERT OR REPLACE INTO storage_probe (id, at, room) VALUES (1, ?, zeroblob(65536))",
                               arguments: [now.rfc3339])
                try db.execute(cached: "UPDATE storage_probe SET room = NULL WHERE id = 1")
            }
        } catch {}
        return health.current
    }
}
