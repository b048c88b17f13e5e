import ArgumentParser
import Foundation
import HTTPServer
import Logging

@main
struct Creditline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Consumer credit lines with explicit consent, explainable scoring and a verifiable audit log.",
        subcommands: [Serve.self])
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP service.")

    @Option(help: "TCP port (0 picks a free one).") var port: Int = 8080
    @Option(help: "Address to bind.") var host: String = "127.0.0.1"
    @Option(help: "Event-loop threads (default: one per core).") var threads: Int?

    func run() async throws {
        var configuration = ServerConfiguration()
        configuration.port = port
        configuration.host = host
        if let threads { configuration.eventLoopThreads = threads }
        var router = Router()
        router.get("/healthz") { _, _ in .json(Array(#"{"status":"ok"}"#.utf8)) }
        let server = HTTPServer(configuration: configuration, responder: router, logger: Logger(label: "creditline"))
        try server.start()
        print("listening on \(host):\(server.port)")
        await server.waitUntilStopped()
    }
}
