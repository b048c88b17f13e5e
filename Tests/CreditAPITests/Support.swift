import CreditAPI
import CreditLine
import CreditStore
import Foundation
import Logging
@_exported import TestSupport


/// A running service on an ephemeral port with a fresh database and one key per role.
final class TestService: Sendable {
    let application: Application
    let store: Store
    let databasePath: String
    let folder: String
    let keys: [Role: String]

    init(_ configure: (inout ServiceConfiguration) -> Void = { _ in }) throws {
        folder = NSTemporaryDirectory() + "creditline-api-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var configuration = ServiceConfiguration()
        configuration.port = 0
        configuration.db = folder + "/api.sqlite"
        configuration.migrationsDir = repositoryRoot + "/migrations"
        configuration.seedsDir = repositoryRoot + "/seeds"
        configuration.scorecard = repositoryRoot + "/config/scorecards/v1.json"
        configuration.prohibitedFeatures = repositoryRoot + "/config/prohibited_features.json"
        configuration.terms = repositoryRoot + "/config/terms.json"
        configuration.openapi = repositoryRoot + "/config/openapi.json"
        configuration.eventLoopThreads = 2
        configure(&configuration)
        store = try Store.open(path: configuration.db, options: configuration.storeOptions)
        databasePath = configuration.db
        var keys: [Role: String] = [:]
        for role in Role.allCases {
            keys[role] = try store.createKey(role: role, name: "test \(role.rawValue)").token
        }
        self.keys = keys
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        application = try Application(configuration: configuration, store: store, logger: logger)
        try application.start()
    }

    var port: Int { application.port }

    /// Sends one request on a new connection and reads the answer.
    func call(_ method: String, _ path: String, role: Role? = .service, token: String? = nil, body: String? = nil,
              headers: [String: String] = [:]) throws -> RawClient.Reply
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
        try? FileManager.default.removeItem(atPath: folder)
    }
}
