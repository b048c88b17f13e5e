import CreditApp
import CreditLine
import CreditStore
import Foundation
import HTTPServer
import Logging

/// Every setting of the service. Loaded from `config/creditline.json`, then `CREDITLINE_<FIELD>`
/// environment variables, then flags; each later source wins. A setting that belongs to the HTTP
/// server, the store or the limit policy takes its default, and the reason for it, from that
/// struct: each default is declared once.
public struct ServiceConfiguration: Sendable, Equatable {
    private static let server = ServerConfiguration()
    private static let store = StoreOptions()
    private static let policy = LimitPolicy()

    private static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds) * 1000 + Int(duration.components.attoseconds / 1_000_000_000_000_000)
    }

    /// Loopback unless told otherwise (the container image sets 0.0.0.0).
    public var host = server.host
    public var port = server.port
    /// Created with its folder on first start.
    public var db = "data/creditline.sqlite"
    /// `sqlite:PATH` or `postgres://user@host[:port][,host[:port]…]/database` (README "Running on
    /// PostgreSQL"); unset, the SQLite file `db` names.
    public var databaseURL: String? = nil
    public var migrationsDir = store.migrationsDirectory
    public var seedsDir = "seeds"
    public var synchronous = store.synchronous
    public var busyTimeoutMs = milliseconds(store.busyTimeout)
    public var writeQueueMax = store.writeQueueMax
    public var logLevel = Logger.Level.info
    /// 0 = one per core (see `ServerConfiguration.eventLoopThreads`).
    public var eventLoopThreads = 0
    public var maxConnections = server.maxConnections
    public var maxBodyBytes = server.maxBodyBytes
    public var headerReadTimeoutMs = milliseconds(server.headerReadTimeout)
    public var idleTimeoutMs = milliseconds(server.idleTimeout)
    public var shutdownGraceMs = milliseconds(server.shutdownGracePeriod)
    /// The longest a consent may last: one year by default, never more than this (README "Consent").
    public var consentMaxDays = 365
    /// The model registry: which scorecard decides (champion) and which is scored in shadow
    /// (challenger); each file's SHA-256 is part of its model_version (README "Periodic review").
    public var models = "config/models.json"
    /// The largest portfolio-review upload (NDJSON or a JSON array), held in memory while its
    /// rows are applied in chunks: 32 MiB is about 100,000 rows.
    public var portfolioReviewMaxBytes = 32 << 20
    /// The deny list of characteristics refused at the API (422 prohibited-feature).
    public var prohibitedFeatures = "config/prohibited_features.json"
    /// The OpenAPI 3.1 description served at GET /openapi.json.
    public var openapi = "config/openapi.json"
    /// The current terms, shown at GET /v1/terms and named by every activation.
    public var terms = "config/terms.json"
    /// The Ed25519 key that signs audit checkpoints; empty or absent: `<db>.audit-key`. Its own
    /// setting, so it can live on another volume than the data (or come from a secret mount).
    public var auditKey: String? = nil
    /// The consent notices' texts, `<purpose>/<version>.txt`; a grant names one and its SHA-256.
    public var notices = "config/notices"
    /// The limit policy's settings (`LimitPolicy` gives each one's reason).
    public var limitMax = policy.maxLimit
    public var limitIncreaseMaxPercent = policy.maxIncreasePercent
    public var limitIncreaseMinDays = policy.minDaysBetweenIncreases
    public var limitDecisionMaxAgeDays = policy.maxDecisionAgeDays
    public var declineCoolOffDays = policy.declineCoolOffDays
    /// Token-bucket rates per API key, requests per second, by role; 0 turns the limit off.
    public var rateLimitService = 200
    public var rateLimitOperator = 50
    public var rateLimitAuditor = 50
    public var rateLimitRisk = 50
    /// The bucket holds this many seconds' worth of requests (the burst).
    public var rateLimitBurstSeconds = 2
    /// How long idempotency keys and their answers are kept (≥ 24 h: a retry a day later still
    /// replays).
    public var idempotencyRetentionHours = 24
    /// How often consents past their date are recorded as expired (with their audit entries).
    /// Reads and writes treat them as expired from the moment they pass, whatever this is.
    public var consentExpirySweepSeconds = 60
    /// How often delinquency bucket changes are recorded (README "The line in use"). Rules read
    /// the days past due from the due dates at the moment they decide, whatever this is.
    public var delinquencySweepSeconds = 60
    /// Days after activation in which the customer may withdraw from the agreement (Consumer
    /// Credit Directive 2008/48/EC Art. 14: 14).
    public var coolingOffDays = 14
    /// The closed list of reasons for limit changes and operator actions (README "Data governance").
    public var reasonCodes = "config/reason-codes.json"
    /// The data-inventory register; start-up checks it against the schema.
    public var dataInventory = "config/data-inventory.json"
    /// Notes, review statements and notes, withdrawal reasons: erased this many days after they
    /// were written (README "Data governance").
    public var freeTextRetentionDays = 180
    /// Scoring inputs: erased this many days after their decision, even with consent in force.
    public var scoringInputRetentionDays = 365
    /// How often the retention sweep runs.
    public var retentionSweepSeconds = 3600
    /// The console's words (`<locale>.json`) and stylesheet (README "Console").
    public var console = "config/console"
    /// Ability to repay (README "Ability to repay"): the most of a monthly income that obligations
    /// and a full line's repayment may take, in basis points.
    public var maxDebtServiceRatioBps = 5_000
    /// One person's internet consumer credit, in fen (Interim Measures Art. 31: 200,000 yuan).
    public var regulatoryLimitCap = 20_000_000
    /// The most a line opens with before an affordability assessment, in fen.
    public var starterLimit = 50_000
    /// The cap on what a line may cost (README "The cost cap"): no plan's annual rate above it, in
    /// basis points; terms above it stop start-up.
    public var aprCapBps = CostCap.defaultBps
    /// The audit log's account chains wanted at least (docs/audit-chain.md, "Chains"): raised at
    /// start, never lowered; 0 keeps the database's (1 on a new one).
    public var auditChains = 0
    /// Payment reminders per account in any 7 days, at most (README "Payment reminders").
    public var remindersPerSevenDays = ReminderRules.defaultPerSevenDays
    /// Credit reporting (README "Credit reporting"): the folder of the daily files, the days a
    /// warning must have reached the customer before a report, how often the day's run is looked for.
    /// nil: `bureau/` beside the SQLite file (`data/bureau` by default), so a service on a
    /// database in a temporary folder writes there too.
    public var bureauDir: String? = nil
    public var bureauNoticeDays = BureauRules.defaultNoticeDays
    public var bureauSweepSeconds = 3600
    public var auditVerifySeconds = 3600
    /// An OTLP/HTTP collector's base URL (traces go to its `/v1/traces`); unset, no tracing.
    public var otelEndpoint: String?
    /// The customer's pages' words (`<locale>.json`) and stylesheet (README "The customer's own pages").
    public var customerPages = "config/customer"
    /// Mark the console's cookies `Secure` (on behind TLS; off for plain loopback HTTP).
    public var consoleSecureCookies = false
    /// Hosts webhook endpoints may name; empty: loopback only (README "Events and notices").
    public var webhookAllowedHosts: [String] = []
    /// Where customers reach the service's own pages (README "The customer's own pages"), e.g.
    /// `https://credit.example.com`; links are made on it. Unset: `http://127.0.0.1:PORT`, and
    /// then links are refused unless the service listens on loopback.
    public var publicBaseURL: String? = nil
    /// Hosts a customer link's `return_url` may name; empty: loopback only, as for webhooks.
    public var customerReturnHosts: [String] = []
    /// How long a failed push is retried before its delivery is marked failed.
    public var webhookRetryHours = 24
    /// The first retry's wait; each later one doubles it, up to an hour.
    public var webhookRetryBaseMs = 1000
    /// An endpoint that has not answered in this long has failed this attempt.
    public var webhookTimeoutMs = 10_000
    /// What a delivery claim lasts beyond twice `webhookTimeoutMs`: the margin for recording the
    /// outcome and for clock steps between instances (README "Events and notices").
    public var webhookClaimMarginMs = 5_000
    /// How long the deliverer, with nothing it could start, waits before it looks for due
    /// deliveries again: the most a new event or a due retry waits for its push to begin.
    public var webhookPollMs = 200
    /// How long before its arrival a notice's delivery report may date the delivery before the
    /// compliance report names it (check 8c, README "Data governance").
    public var noticeReportGraceHours = 24
    /// Pushes in flight at once, beside request handling.
    public var webhookConcurrency = 8
    /// Of those, at most this many to one endpoint, so that one receiver's slow answers cannot
    /// hold every slot (README "Events and notices").
    public var webhookConcurrencyPerEndpoint = 2
    /// Request bodies held in memory across all connections at once; over it a request is
    /// answered 503 with Retry-After and its connection closed, so that no crowd of bodies can
    /// take the process's memory (README "Hostile clients and faults"). Review uploads spool to disk instead.
    public var maxBufferedBodyBytes = 64 << 20
    /// Review uploads spooled to disk across all uploads at once; over it, 503 with Retry-After.
    public var maxSpooledBodyBytes = 256 << 20
    /// Where uploads too large for memory (portfolio reviews) are spooled while they arrive;
    /// empty: the system's temporary folder (TMPDIR, or /tmp).
    public var spoolDirectory = ""

    public init() {}

    public var serverConfiguration: ServerConfiguration {
        var server = ServerConfiguration()
        server.host = host
        server.port = port
        if eventLoopThreads > 0 { server.eventLoopThreads = eventLoopThreads }
        server.maxConnections = maxConnections
        server.maxBodyBytes = maxBodyBytes
        server.bulkBodyPaths = ["/v1/portfolio-reviews"]
        server.maxBulkBodyBytes = max(maxBodyBytes, portfolioReviewMaxBytes)
        server.headerReadTimeout = .milliseconds(headerReadTimeoutMs)
        server.idleTimeout = .milliseconds(idleTimeoutMs)
        server.shutdownGracePeriod = .milliseconds(shutdownGraceMs)
        server.requestIDField = "X-Request-Id"
        server.maxBufferedBodyBytes = maxBufferedBodyBytes
        server.maxSpooledBodyBytes = maxSpooledBodyBytes
        server.spoolDirectory = spoolDirectory.isEmpty ? NSTemporaryDirectory() : spoolDirectory
        return server
    }

    /// The deliverer's settings, from the `webhook_*` ones.
    public var webhookSettings: WebhookSettings {
        WebhookSettings(concurrency: webhookConcurrency, perEndpoint: webhookConcurrencyPerEndpoint,
                        retryHours: webhookRetryHours, retryBaseMs: webhookRetryBaseMs, timeoutMs: webhookTimeoutMs,
                        claimMarginMs: webhookClaimMarginMs, pollMs: webhookPollMs)
    }

    /// The sweeps' intervals and what they keep.
    public var sweepSettings: SweepSettings {
        var settings = SweepSettings(
            consentExpirySeconds: consentExpirySweepSeconds, delinquencySeconds: delinquencySweepSeconds,
            retentionSeconds: retentionSweepSeconds, retention: retentionPolicy,
            idempotencyRetentionHours: idempotencyRetentionHours, remindersPerSevenDays: remindersPerSevenDays)
        (settings.bureauDir, settings.bureauNoticeDays, settings.bureauSeconds) = (effectiveBureauDir, bureauNoticeDays, bureauSweepSeconds)
        settings.auditVerifySeconds = auditVerifySeconds
        return settings
    }

    public var effectiveBureauDir: String {
        if let bureauDir { return bureauDir }
        let folder = (db as NSString).deletingLastPathComponent
        return (folder.isEmpty ? "." : folder) + "/bureau"
    }

    public var retentionPolicy: RetentionPolicy {
        RetentionPolicy(freeTextDays: freeTextRetentionDays, scoringInputDays: scoringInputRetentionDays)
    }

    public var limitPolicy: LimitPolicy {
        var policy = LimitPolicy()
        policy.maxLimit = limitMax
        policy.maxIncreasePercent = limitIncreaseMaxPercent
        policy.minDaysBetweenIncreases = limitIncreaseMinDays
        policy.maxDecisionAgeDays = limitDecisionMaxAgeDays
        policy.declineCoolOffDays = declineCoolOffDays
        policy.affordability.maxDebtServiceRatioBps = maxDebtServiceRatioBps
        policy.affordability.regulatoryLimitCap = regulatoryLimitCap
        policy.affordability.starterLimit = starterLimit
        return policy
    }

    /// The database in force: `database_url`, or the SQLite file `db`.
    public var effectiveDatabaseURL: String { databaseURL ?? "sqlite:" + db }

    /// Where the audit signing key is: `audit_key`, or beside the SQLite file. On PostgreSQL
    /// there is no file to sit beside, and every instance must sign with the same key, so it is
    /// `audit_key` or `data/creditline.audit-key`.
    public var auditKeyPath: String? {
        if let auditKey { return auditKey }
        switch try? DatabaseURL(effectiveDatabaseURL) {
        case .postgres?: return "data/creditline.audit-key"
        case .sqlite(let path)?: return path + ".audit-key"
        case nil: return nil
        }
    }

    public var storeOptions: StoreOptions {
        var options = StoreOptions()
        options.synchronous = synchronous
        options.busyTimeout = .milliseconds(busyTimeoutMs)
        options.writeQueueMax = writeQueueMax
        options.migrationsDirectory = migrationsDir
        options.auditChains = auditChains
        return options
    }
}

/// A setting that could not be used, naming the field, where its value came from, and why.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable, Sendable {
    public var field: String
    public var source: String
    public var reason: String
    public var description: String { "configuration field '\(field)' (\(source)): \(reason)" }
}

extension ServiceConfiguration {
    public static let defaultFile = "config/creditline.json"
    public static let environmentPrefix = "CREDITLINE_"

    /// One entry per field: its JSON name and how to read it from JSON or text.
    struct Field: Sendable {
        let name: String
        let apply: @Sendable (inout ServiceConfiguration, Raw) throws(Problem) -> Void
        struct Problem: Error { let reason: String }
    }

    enum Raw {
        case json(JSONValue)
        case text(String)
    }

    public static var fieldNames: [String] { fields.map(\.name) }

    static let fields: [Field] = [
        string("host") { $0.host = $1 },
        integer("port", 0...65_535) { $0.port = $1 },
        string("db") { $0.db = $1 },
        databaseURL("database_url") { $0.databaseURL = $1 },
        string("migrations_dir") { $0.migrationsDir = $1 },
        string("seeds_dir") { $0.seedsDir = $1 },
        choice("synchronous", StoreOptions.Synchronous.allCases.map(\.rawValue)) {
            $0.synchronous = StoreOptions.Synchronous(rawValue: $1)!
        },
        integer("busy_timeout_ms", 0...600_000) { $0.busyTimeoutMs = $1 },
        integer("write_queue_max", 1...1_000_000) { $0.writeQueueMax = $1 },
        choice("log_level", Logger.Level.allCases.map(\.rawValue)) { $0.logLevel = Logger.Level(rawValue: $1)! },
        integer("event_loop_threads", 0...256) { $0.eventLoopThreads = $1 },
        integer("max_connections", 1...1_000_000) { $0.maxConnections = $1 },
        integer("max_body_bytes", 1...(64 << 20)) { $0.maxBodyBytes = $1 },
        integer("portfolio_review_max_bytes", 1...(256 << 20)) { $0.portfolioReviewMaxBytes = $1 },
        integer("max_buffered_body_bytes", 1...(1 << 34)) { $0.maxBufferedBodyBytes = $1 },
        integer("max_spooled_body_bytes", 1...(1 << 40)) { $0.maxSpooledBodyBytes = $1 },
        optionalString("spool_dir") { $0.spoolDirectory = $1 ?? "" },
        integer("header_read_timeout_ms", 1...600_000) { $0.headerReadTimeoutMs = $1 },
        integer("idle_timeout_ms", 1...3_600_000) { $0.idleTimeoutMs = $1 },
        integer("shutdown_grace_ms", 0...600_000) { $0.shutdownGraceMs = $1 },
        integer("consent_max_days", 1...3650) { $0.consentMaxDays = $1 },
        string("models") { $0.models = $1 },
        string("prohibited_features") { $0.prohibitedFeatures = $1 },
        string("terms") { $0.terms = $1 },
        string("notices") { $0.notices = $1 },
        optionalString("audit_key") { $0.auditKey = $1 },
        string("openapi") { $0.openapi = $1 },
        integer("limit_max", 0...1_000_000_000) { $0.limitMax = $1 },
        integer("limit_increase_max_percent", 0...1000) { $0.limitIncreaseMaxPercent = $1 },
        integer("limit_increase_min_days", 0...3650) { $0.limitIncreaseMinDays = $1 },
        integer("limit_decision_max_age_days", 1...3650) { $0.limitDecisionMaxAgeDays = $1 },
        integer("decline_cool_off_days", 0...3650) { $0.declineCoolOffDays = $1 },
        integer("rate_limit_service", 0...1_000_000) { $0.rateLimitService = $1 },
        integer("rate_limit_operator", 0...1_000_000) { $0.rateLimitOperator = $1 },
        integer("rate_limit_auditor", 0...1_000_000) { $0.rateLimitAuditor = $1 },
        integer("rate_limit_risk", 0...1_000_000) { $0.rateLimitRisk = $1 },
        integer("rate_limit_burst_seconds", 1...3600) { $0.rateLimitBurstSeconds = $1 },
        integer("idempotency_retention_hours", 24...8760) { $0.idempotencyRetentionHours = $1 },
        integer("consent_expiry_sweep_seconds", 1...86_400) { $0.consentExpirySweepSeconds = $1 },
        integer("delinquency_sweep_seconds", 1...86_400) { $0.delinquencySweepSeconds = $1 },
        integer("cooling_off_days", 14...365) { $0.coolingOffDays = $1 },
        string("reason_codes") { $0.reasonCodes = $1 },
        string("data_inventory") { $0.dataInventory = $1 },
        integer("free_text_retention_days", 1...3650) { $0.freeTextRetentionDays = $1 },
        integer("scoring_input_retention_days", 1...3650) { $0.scoringInputRetentionDays = $1 },
        integer("retention_sweep_seconds", 1...86_400) { $0.retentionSweepSeconds = $1 },
        string("console") { $0.console = $1 },
        string("customer_pages") { $0.customerPages = $1 },
        integer("max_debt_service_ratio_bps", 1...10_000) { $0.maxDebtServiceRatioBps = $1 },
        integer("regulatory_limit_cap", 0...1_000_000_000_000) { $0.regulatoryLimitCap = $1 },
        integer("starter_limit", 0...1_000_000_000_000) { $0.starterLimit = $1 },
        integer("apr_cap_bps", 0...100_000) { $0.aprCapBps = $1 },
        integer("audit_chains", 0...AuditChain.maxAccountChains) { $0.auditChains = $1 },
        integer("reminders_per_7_days", 0...7) { $0.remindersPerSevenDays = $1 },
        optionalString("bureau_dir") { $0.bureauDir = $1 },
        integer("bureau_notice_days", 7...365) { $0.bureauNoticeDays = $1 },
        integer("bureau_sweep_seconds", 1...86_400) { $0.bureauSweepSeconds = $1 },
        integer("audit_verify_seconds", 60...86_400) { $0.auditVerifySeconds = $1 },
        boolean("console_secure_cookies") { $0.consoleSecureCookies = $1 },
        hosts("webhook_allowed_hosts") { $0.webhookAllowedHosts = $1 },
        baseURL("public_base_url") { $0.publicBaseURL = $1 },
        baseURL("otel_endpoint") { $0.otelEndpoint = $1 },
        hosts("customer_return_hosts") { $0.customerReturnHosts = $1 },
        integer("webhook_retry_hours", 1...168) { $0.webhookRetryHours = $1 },
        integer("webhook_retry_base_ms", 1...60_000) { $0.webhookRetryBaseMs = $1 },
        integer("webhook_timeout_ms", 100...60_000) { $0.webhookTimeoutMs = $1 },
        integer("webhook_claim_margin_ms", 100...600_000) { $0.webhookClaimMarginMs = $1 },
        integer("webhook_poll_ms", 10...60_000) { $0.webhookPollMs = $1 },
        integer("webhook_concurrency", 1...64) { $0.webhookConcurrency = $1 },
        integer("notice_report_grace_hours", 1...720) { $0.noticeReportGraceHours = $1 },
        integer("webhook_concurrency_per_endpoint", 1...64) { $0.webhookConcurrencyPerEndpoint = $1 },
    ]

    private static func string(_ name: String, _ set: @escaping @Sendable (inout ServiceConfiguration, String) -> Void)
        -> Field
    {
        Field(name: name) { (config, raw) throws(Field.Problem) in
            let value = try Self.text(raw)
            guard !value.isEmpty else { throw Field.Problem(reason: "must not be empty") }
            set(&config, value)
        }
    }

    /// A setting's text: a JSON string in the file, the text itself from the environment or a flag.
    static func text(_ raw: Raw) throws(Field.Problem) -> String {
        switch raw {
        case .text(let text): return text
        case .json(let json):
            guard case .string(let text) = json else { throw Field.Problem(reason: "must be a string") }
            return text
        }
    }

    /// A path that may be left empty for its derived default.
    private static func optionalString(_ name: String,
                                       _ set: @escaping @Sendable (inout ServiceConfiguration, String?) -> Void) -> Field
    {
        Field(name: name) { (config, raw) throws(Field.Problem) in
            let text = try Self.text(raw)
            set(&config, text.isEmpty ? nil : text)
        }
    }

    private static func integer(_ name: String, _ range: ClosedRange<Int>,
                                _ set: @escaping @Sendable (inout ServiceConfiguration, Int) -> Void) -> Field
    {
        Field(name: name) { (config, raw) throws(Field.Problem) in
            let value: Int?
            switch raw {
            case .text(let text): value = Int(text.trimmingCharacters(in: .whitespaces))
            case .json(let json):
                if case .int(let number) = json { value = number } else { value = nil }
            }
            guard let value else { throw Field.Problem(reason: "\(Self.show(raw)) is not an integer") }
            guard range.contains(value) else {
                throw Field.Problem(reason: "\(value) is outside \(range.lowerBound)…\(range.upperBound)")
            }
            set(&config, value)
        }
    }

    /// `true` or `false`, in the file as JSON or from the environment as text.
    private static func boolean(_ name: String, _ set: @escaping @Sendable (inout ServiceConfiguration, Bool) -> Void)
        -> Field
    {
        Field(name: name) { (config, raw) throws(Field.Problem) in
            let value: Bool?
            switch raw {
            case .text(let text): value = ["true": true, "false": false][text.trimmingCharacters(in: .whitespaces)]
            case .json(let json):
                if case .bool(let flag) = json { value = flag } else { value = nil }
            }
            guard let value else { throw Field.Problem(reason: "\(Self.show(raw)) is not true or false") }
            set(&config, value)
        }
    }

    private static func choice(_ name: String, _ choices: [String],
                               _ set: @escaping @Sendable (inout ServiceConfiguration, String) -> Void) -> Field
    {
        Field(name: name) { (config, raw) throws(Field.Problem) in
            var text: String? = nil
            switch raw {
            case .text(let value): text = value.lowercased()
            case .json(let json): if case .string(let value) = json { text = value.lowercased() }
            }
            guard let text, choices.contains(text) else {
                throw Field.Problem(reason: "\(Self.show(raw)) is not one of \(choices.joined(separator: ", "))")
            }
            set(&config, text)
        }
    }

    private static func show(_ raw: Raw) -> String {
        switch raw {
        case .text(let text): return "'\(text)'"
        case .json(let json): return json.canonicalJSON
        }
    }

    /// Loads the layers. `file` nil means the default file, which may be absent; a file named
    /// explicitly (flag or CREDITLINE_CONFIG) must exist.
    public static func load(file explicitFile: String?, environment: [String: String],
                            flags: [String: String]) throws -> ServiceConfiguration
    {
        var configuration = ServiceConfiguration()
        let fileFromEnvironment = environment[environmentPrefix + "CONFIG"]
        let file = explicitFile ?? fileFromEnvironment ?? defaultFile
        let mustExist = explicitFile != nil || fileFromEnvironment != nil
        if FileManager.default.fileExists(atPath: file) {
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            guard let object = try? JSONDecoder().decode([String: JSONValue].self, from: data) else {
                throw ConfigurationError(field: "*", source: file,
                                         reason: "not a JSON object of strings, integers and booleans")
            }
            for (key, value) in object.sorted(by: { $0.key < $1.key }) {
                if key.hasPrefix("_") { continue }  // "_comment" and the like
                guard let field = fields.first(where: { $0.name == key }) else {
                    throw ConfigurationError(field: key, source: file, reason: "unknown field")
                }
                try apply(field, .json(value), source: file, to: &configuration)
            }
        } else if mustExist {
            throw ConfigurationError(field: "config", source: "file \(file)", reason: "file not found")
        }
        for field in fields {
            let variable = environmentPrefix + field.name.uppercased()
            if let value = environment[variable] {
                try apply(field, .text(value), source: "environment variable \(variable)", to: &configuration)
            }
        }
        for (name, value) in flags.sorted(by: { $0.key < $1.key }) {
            guard let field = fields.first(where: { $0.name == name }) else {
                throw ConfigurationError(field: name, source: "flag", reason: "unknown field")
            }
            try apply(field, .text(value), source: "flag --\(name.replacingOccurrences(of: "_", with: "-"))",
                      to: &configuration)
        }
        return configuration
    }

    private static func apply(_ field: Field, _ raw: Raw, source: String, to configuration: inout ServiceConfiguration)
        throws
    {
        do {
            try field.apply(&configuration, raw)
        } catch {
            throw ConfigurationError(field: field.name, source: source, reason: error.reason)
        }
    }
}
