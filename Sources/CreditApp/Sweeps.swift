import CreditLine
import CreditStore
import Logging
import ServiceLifecycle
import Synchronization

/// How often each sweep runs and what it keeps (README "Configuration").
public struct SweepSettings: Sendable {
    public var consentExpirySeconds: Int
    public var delinquencySeconds: Int
    public var retentionSeconds: Int
    public var retention: RetentionPolicy
    public var idempotencyRetentionHours: Int
    /// The weekly cap on payment reminders per account (README "Payment reminders").
    public var remindersPerSevenDays: Int
    /// Credit reporting (README "Credit reporting"): where the day's file goes, how long a
    /// warning must have reached the customer first, and how often the day's run is looked for.
    public var bureauDir = "data/bureau"
    public var bureauNoticeDays = BureauRules.defaultNoticeDays
    public var bureauSeconds = 3600
    /// How often every audit chain is walked again (README "Operations", "What to watch").
    public var auditVerifySeconds = 3600

    public init(consentExpirySeconds: Int = 60, delinquencySeconds: Int = 60, retentionSeconds: Int = 3600,
                retention: RetentionPolicy, idempotencyRetentionHours: Int = 24,
                remindersPerSevenDays: Int = ReminderRules.defaultPerSevenDays)
    {
        (self.consentExpirySeconds, self.delinquencySeconds, self.retentionSeconds) =
            (consentExpirySeconds, delinquencySeconds, retentionSeconds)
        (self.retention, self.idempotencyRetentionHours) = (retention, idempotencyRetentionHours)
        self.remindersPerSevenDays = remindersPerSevenDays
    }
}

/// The background sweeps, each on its own interval and each once at start-up: consents past
/// their date are recorded as expired (so the log shows when consent lapsed even if nobody
/// touched the account), delinquency bucket changes are recorded as the days pass, and what is
/// past its retention is erased. A service of the process's `ServiceGroup` (`BackgroundWork`):
/// the sweeps stop between passes when the group shuts down.
public final class Sweeps: Service {
    private let store: Store
    private let settings: SweepSettings
    private let composer: NoticeComposer
    private let logger: Logger
    private let passes = Mutex<[Int]>([0, 0, 0, 0, 0])
    /// The heads the last intact walk ended at (the next walk must pass through them) and whether
    /// the last walk found the log broken.
    private let verification = Mutex<(heads: [AuditChainHead], failed: Bool)>(([], false))

    public init(store: Store, settings: SweepSettings, composer: NoticeComposer, logger: Logger) {
        self.store = store
        self.settings = settings
        self.composer = composer
        self.logger = logger
    }

    /// Whether the last walk of the audit chains found one broken (`creditline_audit_verification_failed`).
    public var auditVerificationFailed: Bool { verification.withLock { $0.failed } }

    /// Passes completed by the sweep that has done the fewest.
    public var completed: Int { passes.withLock { $0.min() ?? 0 } }

    public func run() async throws {
        let jobs: [(name: String, seconds: Int, pass: @Sendable (Timestamp) async throws -> Void)] = [
            ("consent expiry", settings.consentExpirySeconds, { [self] in try await consents(at: $0) }),
            ("delinquency", settings.delinquencySeconds, { [self] in try await delinquency(at: $0) }),
            ("retention", settings.retentionSeconds, { [self] in try await retention(at: $0) }),
            ("credit reporting", settings.bureauSeconds, { [self] in try await bureau(at: $0) }),
            ("audit verification", settings.auditVerifySeconds, { [self] _ in try await verifyAudit() }),
        ]
        await cancelWhenGracefulShutdown { [self] in
            await withDiscardingTaskGroup { group in
                for (index, job) in jobs.enumerated() {
                    group.addTask { [self] in
                        while !Task.isCancelled {
                            do {
                                try await job.pass(store.time.now())
                            } catch {
                                logger.error("\(job.name) sweep failed", metadata: ["error": "\(error)"])
                            }
                            passes.withLock { $0[index] += 1 }
                            try? await Task.sleep(for: .seconds(job.seconds))
                        }
                    }
                }
            }
        }
    }

    /// Every chain walked from its first entry, through the heads the last intact walk ended at,
    /// so that a log rewritten or cut short since is found as surely as an edited entry. A broken
    /// log is logged by chain and seq, and stays failed until a walk finds it whole again.
    public func verifyAudit() async throws {
        let since = verification.withLock { $0.heads }
        switch try await store.verifyAuditChain(from: since) {
        case .intact(_, let heads):
            verification.withLock { $0 = (heads, false) }
        case .broken(let chain, let seq, let reason):
            verification.withLock { $0.failed = true }
            logger.critical("audit verification failed", metadata: [
                "chain": "\(chain)", "first_broken_seq": "\(seq)", "reason": "\(reason)",
            ])
        }
    }

    /// Every sweep at `now`, at once (the demo clock's jump uses this).
    public func all(at now: Timestamp) async throws {
        try await consents(at: now)
        try await delinquency(at: now)
        try await retention(at: now)
        try await bureau(at: now)
    }

    /// The day's credit reporting run, once per installation a day (claimed in the database),
    /// and its file (README "Credit reporting").
    private func bureau(at now: Timestamp) async throws {
        let run = try await store.reportToBureau(date: CivilDate(now), directory: settings.bureauDir,
                                                 noticeDays: settings.bureauNoticeDays, at: now)
        if run.ranNow {
            logger.info("credit reporting run", metadata: ["reports": .stringConvertible(run.reports.count),
                                                           "file": .string(run.file ?? "")])
        }
    }

    /// Free text and scoring inputs past their retention are erased, a batch a pass until none
    /// is left (README "Data governance").
    private func retention(at now: Timestamp) async throws {
        let sweep = SweepRetention(policy: settings.retention)
        while try await store.perform(sweep, by: Actor.system("retention"), at: now).values.contains(where: { $0 >= sweep.batch }) {}
    }

    /// Consents past their date are recorded as expired, those ending within 30 days are
    /// announced to the customer, and answers kept for Idempotency-Keys past their retention are
    /// dropped.
    private func consents(at now: Timestamp) async throws {
        let expired = try await store.perform(ExpireConsents(), by: Actor.system("consent-expiry"), at: now)
        if expired > 0 { logger.info("consents expired", metadata: ["count": .stringConvertible(expired)]) }
        while try await store.perform(AnnounceExpiringConsents(composer: composer), by: Actor.system("consent-expiry"),
                                      at: now) == AnnounceExpiringConsents.batch {}
        _ = try await store.purgeIdempotencyKeys(
            olderThan: now.adding(seconds: -Int64(settings.idempotencyRetentionHours) * 3600))
        _ = try await store.purgeConsoleSessions(at: now)
    }

    /// Delinquency bucket changes since the last pass, each with its audit entry; then the
    /// payment reminders the new days past due owe.
    private func delinquency(at now: Timestamp) async throws {
        let changed = try await store.recordDelinquency(at: now)
        if changed > 0 { logger.info("delinquency changed", metadata: ["accounts": .stringConvertible(changed)]) }
        let reminded = try await store.sendPaymentReminders(at: now, composer: composer, perSevenDays: settings.remindersPerSevenDays)
        if reminded > 0 { logger.info("payment reminders", metadata: ["accounts": .stringConvertible(reminded)]) }
    }
}
