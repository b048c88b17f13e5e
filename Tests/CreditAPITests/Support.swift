import CreditAPI
import CreditLine
import CreditStore
import Foundation
import HTTPServer
import HTTPTypes
import Logging
import Synchronization
import Testing
@_exported import TestSupport

/// Keeps every log line a service writes, as "level message key=value …", for tests that check
/// what is logged (and what is not).
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String,
                 file: String, function: String, line: UInt)
        {
            let merged = metadata.merging(extra ?? [:]) { $1 }
            capture.append("\(level) \(message) " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                .joined(separator: " "))
        }
    }

    var logger: Logger { Logger(label: "test") { _ in Handler(capture: self) } }
}


/// A running service with a fresh database and one key per role. `call` hands requests to its
/// router in-process; its HTTP server starts on an ephemeral port the first time `port` is asked
/// for, for what only a socket shows (framing, compression, connections, uploads).
final class TestService: Sendable {
    let application: Application
    /// The router the server would answer with, built once.
    let router: Router
    private let serving = Mutex<Bool>(false)
    /// What the service was started with (a second instance on the same database uses it too).
    let configuration: ServiceConfiguration
    let store: Store
    let databasePath: String
    let folder: String
    let keys: [Role: String]
    /// The test's own PostgreSQL database, dropped at `stop`.
    let postgresDatabase: String?
    /// What a command-line tool needs to reach this service's database on PostgreSQL (its `--db`
    /// names the SQLite file otherwise).
    let commandLineEnvironment: [String: String]

    /// `modelReviewed`: the champion has an approved review in force, as on a running
    /// installation; false leaves it unreviewed, so the model-review gate holds every approval.
    init(logs: LogCapture? = nil, clock: any TimeSource = SystemTimeSource(), modelReviewed: Bool = true,
         _ configure: (inout ServiceConfiguration) -> Void = { _ in }) throws
    {
        folder = NSTemporaryDirectory() + "creditline-api-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var configuration = ServiceConfiguration()
        configuration.port = 0
        configuration.db = folder + "/api.sqlite"
        configuration.migrationsDir = repositoryRoot + "/migrations"
        // CREDITLINE_TEST_DATABASE_URL runs every service on PostgreSQL, each in a database of its own.
        if let server = TestDatabase.postgres {
            let name = "creditline_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            try PostgresEngine.createDatabase(named: name, at: server)
            configuration.databaseURL = server.with(database: name).url
            postgresDatabase = name
        } else {
            postgresDatabase = nil
        }
        configuration.seedsDir = repositoryRoot + "/seeds"
        configuration.models = repositoryRoot + "/config/models.json"
        configuration.prohibitedFeatures = repositoryRoot + "/config/prohibited_features.json"
        configuration.terms = repositoryRoot + "/config/terms.json"
        configuration.notices = repositoryRoot + "/config/notices"
        configuration.openapi = repositoryRoot + "/config/openapi.json"
        configuration.eventLoopThreads = 2
        // New events and due retries are looked for every 20 ms rather than 200.
        configuration.webhookPollMs = 20
        configure(&configuration)
        if configuration.databaseURL == nil, configuration.migrationsDir == repositoryRoot + "/migrations",
            !FileManager.default.fileExists(atPath: configuration.db)
        {
            try TestDatabase.placeMigratedSQLite(at: configuration.db)
        }
        // The signing key beside where the SQLite file would be, as the tests read it.
        if postgresDatabase != nil, configuration.auditKey == nil { configuration.auditKey = configuration.db + ".audit-key" }
        store = try Store.open(url: configuration.effectiveDatabaseURL, options: try Application.storeOptions(configuration),
                               time: clock)
        databasePath = configuration.db
        commandLineEnvironment = configuration.databaseURL.map {
            ["CREDITLINE_DATABASE_URL": $0, "CREDITLINE_AUDIT_KEY": configuration.auditKey ?? ""]
        } ?? [:]
        var keys: [Role: String] = [:]
        for role in Role.allCases {
            // Operators and auditors for every tenant, as an installation's own staff; the service
            // key acts for the default tenant. Tenant tests make their own keys.
            keys[role] = try store.createKey(role: role, name: "test \(role.rawValue)",
                                             tenant: role == .service ? Tenant.defaultName : nil).token
        }
        self.keys = keys
        var logger = logs?.logger ?? Logger(label: "test")
        if logs == nil { logger.logLevel = .critical }
        self.configuration = configuration
        application = try Application(configuration: configuration, store: store, logger: logger)
        router = application.makeRouter()
        if modelReviewed { try store.ensureModelReviewed(application.scoring.scorecard, by: "test") }
        application.startBackgroundWork()
    }

    /// The HTTP server's port, the server started on first use.
    var port: Int {
        serving.withLock { started in
            guard !started else { return }
            do {
                try application.startServing()
                started = true
            } catch {
                Issue.record(error, "the test service's HTTP server did not start")
            }
        }
        return application.port
    }

    /// One request through the router in-process, as the server hands it over: every middleware,
    /// the route and its handler run, and a streamed body is collected. What belongs to the HTTP
    /// server (framing, size limits, compression, methods it does not implement, spooled uploads)
    /// goes over a socket instead (`socketCall`).
    func call(_ method: String, _ path: String, role: Role? = .service, token: String? = nil, body: String? = nil,
              headers: [String: String] = [:]) async throws -> RawClient.Reply
    {
        guard let method = HTTPRequest.Method(method), ServerConfiguration.implementedMethods.contains(method) else {
            return try socketCall(method, path, role: role, token: token, body: body, headers: headers)
        }
        var fields: HTTPFields = [.init("Host")!: "test"]
        if let token = token ?? role.flatMap({ keys[$0] }) { fields[.authorization] = "Bearer \(token)" }
        for (name, value) in headers { fields.append(HTTPField(name: try #require(HTTPField.Name(name)), value: value)) }
        if let body {
            // Appended after the caller's, as the socket client sends them.
            fields.append(HTTPField(name: .contentType, value: "application/json"))
            fields[.contentLength] = String(body.utf8.count)
        }
        let head = HTTPRequest(method: method, scheme: nil, authority: "test", path: path, headerFields: fields)
        var request = Request(head: head, target: path, body: Array((body ?? "").utf8))
        request.remoteAddress = "127.0.0.1"
        let context = RequestContext(logger: application.logger)
        let response: Response
        switch await router.admit(request, context: context) {
        case .spool: return try socketCall(method.rawValue, path, role: role, token: token, body: body, headers: headers)
        case .answer(let answer): response = answer
        case .buffer: response = await router.respond(to: request, context: context)
        }
        var bytes = response.body
        if let stream = response.stream {
            let collected = CollectedBody()
            try await stream.produce(collected)
            bytes = collected.bytes
        }
        return RawClient.Reply(status: response.status.code,
                               headers: response.headerFields.map { ($0.name.rawName, $0.value) },
                               body: method == .head ? [] : bytes)
    }

    /// Sends one request on a new connection to the HTTP server and reads the answer, blocking:
    /// a test of a limit that refills by the second sends its burst this way, since awaiting
    /// in-process calls lets a loaded run spread them over seconds.
    func socketCall(_ method: String, _ path: String, role: Role? = .service, token: String? = nil,
                    body: String? = nil, headers: [String: String] = [:]) throws -> RawClient.Reply
    {
        let client = try RawClient(port: port)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: test\r\n"
        if let token = token ?? role.flatMap({ keys[$0] }) { head += "Authorization: Bearer \(token)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body {
            head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        } else {
            head += "\r\n"
        }
        client.send(head)
        guard let reply = client.read(head: method == "HEAD") else { throw RawClient.ClientError.timedOut }
        return reply
    }

    func stop() async {
        await application.shutdown()
        try? store.close()
        if let postgresDatabase, let server = TestDatabase.postgres {
            PostgresEngine.dropDatabase(named: postgresDatabase, at: server)
        }
        try? FileManager.default.removeItem(atPath: folder)
    }
}

/// A streamed body, gathered whole.
private final class CollectedBody: BodyWriter {
    private let parts = Mutex<[UInt8]>([])
    var bytes: [UInt8] { parts.withLock { $0 } }
    func write(_ bytes: [UInt8]) async throws { parts.withLock { $0.append(contentsOf: bytes) } }
}
