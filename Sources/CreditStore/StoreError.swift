import CreditLine

/// Failures of the store itself (not business rules): each names what an operator must fix.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case migrationsDirectoryMissing(String)
    case badMigrationName(String)
    case migrationGap(expected: Int, found: String)
    case migrationChanged(file: String, recorded: String, current: String)
    case migrationFileMissing(version: Int, name: String)
    case migrationFailed(file: String, message: String)
    case durabilityNotApplied(String)
    case databaseMissing(String)
    case signingKeyUnwritable(String)
    /// `audit_chains` set below the database's account chains: they may be raised, never lowered.
    case auditChainsLowered(configured: Int, stored: Int)
    /// A row whose column holds a value the code does not know: read loudly, never as a default
    /// (an unknown status read as `active` would be the most permissive guess).
    case unreadableRow(table: String, column: String, id: String)
    /// The disk is full, the file read-only, the lock held elsewhere: the client may retry.
    case storageUnavailable(StorageFault)
    /// More writes are waiting than `write_queue_max` allows: the client may retry shortly.
    case overloaded
    /// A write owes the customer a notice, and this store was opened without notice templates:
    /// the write fails rather than change something for a customer without telling them.
    case noNoticeTemplates(AuditAction)
    /// A file the service writes beside the database (the bureau's) could not be written.
    case fileUnwritable(String)
    /// PostgreSQL refused for TLS reasons (a certificate not signed by `sslrootcert`, a host name
    /// it does not hold, a server without TLS): the words name the setting.
    case databaseTLS(String)

    public var description: String {
        switch self {
        case .databaseTLS(let words):
            return words
        case .fileUnwritable(let path):
            return "\(path) could not be written (its folder missing or not writable, or the disk full)"
        case .migrationsDirectoryMissing(let path):
            return "migrations directory \(path) does not exist"
        case .badMigrationName(let file):
            return "migration file \(file) is not named NNNN_name.sql"
        case .migrationGap(let expected, let found):
            return "migration numbering has a gap: expected \(String(format: "%04d", expected))_…, found \(found)"
        case .migrationChanged(let file, let recorded, let current):
            return "migration \(file) changed after it was applied (recorded sha256 \(recorded), file now \(current)); "
                + "add a new migration instead of editing an applied one"
        case .migrationFileMissing(let version, let name):
            return "migration \(String(format: "%04d", version))_\(name).sql was applied but its file is missing"
        case .migrationFailed(let file, let message):
            return "migration \(file) failed: \(message)"
        case .durabilityNotApplied(let detail):
            return "SQLite durability settings not applied: \(detail)"
        case .databaseMissing(let path):
            return "no database at \(path)"
        case .signingKeyUnwritable(let path):
            return "cannot write the audit signing key at \(path); give a writable path with audit_key (CREDITLINE_AUDIT_KEY)"
        case .auditChainsLowered(let configured, let stored):
            return "audit_chains is \(configured) but the database has \(stored) account chains: they may be raised, never lowered (an account's chain is fixed); set audit_chains (CREDITLINE_AUDIT_CHAINS) to \(stored) or more, or to 0 to keep the database's"
        case .unreadableRow(let table, let column, let id):
            return "row \(id) of \(table) has an unreadable \(column)"
        case .storageUnavailable(let fault):
            return "storage unavailable: \(fault.rawValue)"
        case .overloaded:
            return "the write queue is full"
        case .noNoticeTemplates(let action):
            return "a \(action.rawValue) entry owes the customer a notice, and this store was opened without notice templates"
        }
    }
}
