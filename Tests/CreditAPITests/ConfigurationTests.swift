import CreditLine
import CreditStore
import Foundation
import HTTPServer
import Logging
import Testing
@testable import CreditAPI

@Suite struct ConfigurationTests {
    func file(_ json: String) throws -> String {
        let path = NSTemporaryDirectory() + "creditline-config-" + UUID().uuidString + ".json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func defaultsWithoutAnyFile() throws {
        let configuration = try ServiceConfiguration.load(file: nil, environment: [:], flags: [:])
        // The default file is relative to the working directory; tests run from the repository.
        #expect(configuration.port == 8080)
        #expect(configuration.synchronous == .full)
    }

    /// Defaults are declared once, in code; the shipped file lists every setting for operators
    /// to edit and must say exactly what the code would do without it.
    @Test func theShippedFileStatesTheDefaults() throws {
        let shipped = try ServiceConfiguration.load(file: repositoryRoot + "/config/creditline.json", environment: [:],
                                                    flags: [:])
        #expect(shipped == ServiceConfiguration())
        let data = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/config/creditline.json"))
        let listed = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any]).keys.filter { !$0.hasPrefix("_") }
        #expect(Set(listed) == Set(ServiceConfiguration.fieldNames))
    }

    /// The service's settings that belong to another layer take that layer's default.
    @Test func layerDefaultsAreTheLayersOwn() {
        let configuration = ServiceConfiguration()
        #expect(configuration.limitPolicy == LimitPolicy())
        #expect(configuration.storeOptions.busyTimeout == StoreOptions().busyTimeout)
        #expect(configuration.storeOptions.synchronous == StoreOptions().synchronous)
        let server = configuration.serverConfiguration
        #expect(server.maxConnections == ServerConfiguration().maxConnections)
        #expect(server.maxBodyBytes == ServerConfiguration().maxBodyBytes)
        #expect(server.headerReadTimeout == ServerConfiguration().headerReadTimeout)
        #expect(server.idleTimeout == ServerConfiguration().idleTimeout)
        #expect(server.shutdownGracePeriod == ServerConfiguration().shutdownGracePeriod)
    }

    @Test func flagsBeatEnvironmentWhichBeatsTheFile() throws {
        let path = try file(#"{"port": 9001, "db": "from-file.sqlite", "log_level": "debug", "busy_timeout_ms": 7}"#)
        let configuration = try ServiceConfiguration.load(
            file: path,
            environment: ["CREDITLINE_PORT": "9002", "CREDITLINE_DB": "from-env.sqlite", "CREDITLINE_SYNCHRONOUS": "normal"],
            flags: ["port": "9003"])
        #expect(configuration.port == 9003)
        #expect(configuration.db == "from-env.sqlite")
        #expect(configuration.logLevel == .debug)
        #expect(configuration.busyTimeoutMs == 7)
        #expect(configuration.synchronous == .normal)
    }

    @Test func configFileCanComeFromTheEnvironment() throws {
        let path = try file(#"{"port": 9100}"#)
        let configuration = try ServiceConfiguration.load(file: nil, environment: ["CREDITLINE_CONFIG": path], flags: [:])
        #expect(configuration.port == 9100)
    }

    struct BadValue: Sendable, CustomTestStringConvertible {
        var file: String?
        var environment: [String: String]
        var flags: [String: String]
        var field: String
        var source: String
        var testDescription: String { "\(field) from \(source)" }
    }

    static let badValues: [BadValue] = [
        BadValue(file: #"{"port": "eighty"}"#, environment: [:], flags: [:], field: "port", source: ".json"),
        BadValue(file: #"{"port": 70000}"#, environment: [:], flags: [:], field: "port", source: ".json"),
        BadValue(file: #"{"prot": 80}"#, environment: [:], flags: [:], field: "prot", source: ".json"),
        BadValue(file: nil, environment: ["CREDITLINE_PORT": "abc"], flags: [:], field: "port",
                 source: "environment variable CREDITLINE_PORT"),
        BadValue(file: nil, environment: ["CREDITLINE_SYNCHRONOUS": "sometimes"], flags: [:], field: "synchronous",
                 source: "environment variable CREDITLINE_SYNCHRONOUS"),
        BadValue(file: nil, environment: ["CREDITLINE_LOG_LEVEL": "loud"], flags: [:], field: "log_level",
                 source: "environment variable CREDITLINE_LOG_LEVEL"),
        BadValue(file: nil, environment: [:], flags: ["port": "-1"], field: "port", source: "flag --port"),
        BadValue(file: nil, environment: [:], flags: ["db": ""], field: "db", source: "flag --db"),
        BadValue(file: "not json", environment: [:], flags: [:], field: "*", source: ".json"),
    ]

    @Test(arguments: badValues)
    func badValueStopsStartUpNamingFieldAndSource(_ bad: BadValue) throws {
        let path = try bad.file.map { try file($0) }
        #expect {
            try ServiceConfiguration.load(file: path, environment: bad.environment, flags: bad.flags)
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.field == bad.field && error.source.contains(bad.source)
                && "\(error)".contains("'\(bad.field)'")
        }
    }

    @Test func namedConfigFileMustExist() {
        #expect(throws: ConfigurationError.self) {
            try ServiceConfiguration.load(file: "/nonexistent/creditline.json", environment: [:], flags: [:])
        }
    }

    @Test func everyFieldHasAnEnvironmentVariable() throws {
        // audit_key takes any text (empty: beside the database); it is checked by its effect.
        let audit = try ServiceConfiguration.load(file: nil, environment: ["CREDITLINE_AUDIT_KEY": "/keys/a"], flags: [:])
        #expect(audit.auditKey == "/keys/a")
        // webhook_allowed_hosts takes a comma-separated list, empty for none.
        let hosts = try ServiceConfiguration.load(
            file: nil, environment: ["CREDITLINE_WEBHOOK_ALLOWED_HOSTS": "hooks.example.com, Backend.Example"], flags: [:])
        #expect(hosts.webhookAllowedHosts == ["hooks.example.com", "backend.example"])
        #expect(throws: ConfigurationError.self) {
            try ServiceConfiguration.load(file: nil, environment: ["CREDITLINE_WEBHOOK_ALLOWED_HOSTS": "a/b"], flags: [:])
        }
        // public_base_url: an http(s) origin (a trailing slash dropped), empty for none;
        // customer_return_hosts a list as webhook_allowed_hosts is.
        let pages = try ServiceConfiguration.load(file: nil, environment: [
            "CREDITLINE_PUBLIC_BASE_URL": "https://credit.example.com/", "CREDITLINE_CUSTOMER_RETURN_HOSTS": "App.Example",
        ], flags: [:])
        #expect(pages.publicBaseURL == "https://credit.example.com" && pages.customerReturnHosts == ["app.example"])
        #expect(try ServiceConfiguration.load(file: nil, environment: ["CREDITLINE_PUBLIC_BASE_URL": ""], flags: [:])
            .publicBaseURL == nil)
        for bad in ["ftp://credit.example.com", "https://user:pw@credit.example.com", "https://credit.example.com/?a=1",
                    "credit.example.com", "https://"] {
            #expect(throws: ConfigurationError.self, "\(bad)") {
                try ServiceConfiguration.load(file: nil, environment: ["CREDITLINE_PUBLIC_BASE_URL": bad], flags: [:])
            }
        }
        // otel_endpoint: a collector's base URL, or empty for no tracing (README "Operations", "Traces").
        #expect(try ServiceConfiguration.load(file: nil, environment: ["CREDITLINE_OTEL_ENDPOINT": "http://collector:4318/"],
                                              flags: [:]).otelEndpoint == "http://collector:4318")
        #expect(try ServiceConfiguration.load(file: nil, environment: ["CREDITLINE_OTEL_ENDPOINT": ""], flags: [:]).otelEndpoint == nil)
        for bad in ["collector:4318", "grpc://collector:4317", "http://user:pw@collector:4318"] {
            #expect(throws: ConfigurationError.self, "\(bad)") {
                try ServiceConfiguration.load(file: nil, environment: ["CREDITLINE_OTEL_ENDPOINT": bad], flags: [:])
            }
        }
        // database_url: empty is unset (the SQLite file `db`); a URL of another scheme is refused.
        let postgres = try ServiceConfiguration.load(
            file: nil, environment: ["CREDITLINE_DATABASE_URL": "postgres://creditline@db-a:5433,db-b/lines"], flags: [:])
        #expect(postgres.databaseURL == "postgres://creditline@db-a:5433,db-b/lines")
        #expect(try DatabaseURL(postgres.effectiveDatabaseURL) == .postgres(PostgresLocation(
            url: "postgres://creditline@db-a:5433,db-b:5432/lines")!))
        #expect(try ServiceConfiguration.load(file: nil, environment: [:], flags: [:]).effectiveDatabaseURL
            == "sqlite:data/creditline.sqlite")
        for bad in ["mysql://u@h/db", "postgres://u@h", "postgres://u@h:99999/db", "sqlite:"] {
            #expect(throws: ConfigurationError.self, "\(bad)") {
                try ServiceConfiguration.load(file: nil, environment: ["CREDITLINE_DATABASE_URL": bad], flags: [:])
            }
        }
        // spool_dir takes any path (empty: the system's temporary folder).
        let spool = try ServiceConfiguration.load(file: nil, environment: ["CREDITLINE_SPOOL_DIR": "/var/spool/cl"], flags: [:])
        #expect(spool.serverConfiguration.spoolDirectory == "/var/spool/cl")
        #expect(try ServiceConfiguration.load(file: nil, environment: ["CREDITLINE_SPOOL_DIR": ""], flags: [:])
            .serverConfiguration.spoolDirectory == NSTemporaryDirectory())
        // bureau_dir likewise (empty: bureau/ beside the SQLite file).
        #expect(try ServiceConfiguration.load(file: nil, environment: ["CREDITLINE_BUREAU_DIR": "/srv/bureau"], flags: [:])
            .effectiveBureauDir == "/srv/bureau")
        #expect(try ServiceConfiguration.load(file: nil, environment: ["CREDITLINE_BUREAU_DIR": ""], flags: [:])
            .effectiveBureauDir == "data/bureau")
        for name in ServiceConfiguration.fieldNames
        where !["audit_key", "webhook_allowed_hosts", "database_url", "spool_dir", "public_base_url", "customer_return_hosts",
                "bureau_dir", "otel_endpoint"]
            .contains(name) {
            #expect(throws: ConfigurationError.self, "CREDITLINE_\(name.uppercased()) should be read") {
                try ServiceConfiguration.load(file: nil, environment: ["CREDITLINE_\(name.uppercased())": ""], flags: [:])
            }
        }
    }

    /// `sslmode`, `sslrootcert`, `sslcert` and `sslkey` in `database_url` (README "TLS to the
    /// database"): what each spelling means, and every refusal naming the parameter at fault.
    @Test(arguments: [
        ("", PostgresLocation.TLSMode.disable, nil as String?),
        ("?sslmode=disable", .disable, nil),
        ("?sslmode=require", .require, nil),
        // libpq's rule: require with a root certificate checks the signature.
        ("?sslmode=require&sslrootcert=/etc/ca.pem", .verifyCA, "/etc/ca.pem"),
        ("?sslmode=verify-ca&sslrootcert=/etc/ca.pem", .verifyCA, "/etc/ca.pem"),
        ("?sslrootcert=%2Fsrv%2Fdb%20ca.pem&sslmode=verify-full", .verifyFull, "/srv/db ca.pem"),
        ("?sslmode=verify-full&sslrootcert=system", .verifyFull, "system"),
        // A client certificate beside any checking mode; a path with & and = in it round-trips.
        ("?sslmode=verify-full&sslrootcert=/etc/ca.pem&sslcert=/etc/client.crt&sslkey=/etc/a%26b%3Dc.key", .verifyFull,
         "/etc/ca.pem"),
        ("?sslmode=require&sslkey=/k.pem&sslcert=/c.pem", .require, nil),
    ])
    func databaseURLTLSParameters(query: String, mode: PostgresLocation.TLSMode, root: String?) throws {
        let location = try PostgresLocation(parsing: "postgres://creditline:s3cret@db-a,db-b:5433/lines" + query)
        #expect(location.tlsMode == mode && location.rootCertificate == root)
        #expect((location.clientCertificate != nil) == query.contains("sslcert")
            && (location.clientKey != nil) == query.contains("sslkey"))
        if query.contains("a%26b") { #expect(location.clientKey == "/etc/a&b=c.key") }
        // The description (for logs) says how the connection is made and never the password;
        // the URL round-trips.
        #expect(!location.description.contains("s3cret"))
        #expect(location.description.contains("sslmode=") == (mode != .disable))
        #expect(try PostgresLocation(parsing: location.url) == location)
    }

    @Test(arguments: [
        ("?sslmode=prefer", "sslmode=prefer falls back to plain text"),
        ("?sslmode=allow", "sslmode=allow falls back to plain text"),
        ("?sslmode=verify", "sslmode must be disable, require, verify-ca or verify-full"),
        ("?sslmode=verify-full", "sslmode=verify-full needs sslrootcert=PATH"),
        ("?sslmode=verify-ca", "sslmode=verify-ca needs sslrootcert=PATH"),
        ("?sslrootcert=/etc/ca.pem", "sslrootcert needs sslmode=require, verify-ca or verify-full"),
        ("?sslmode=disable&sslrootcert=/etc/ca.pem", "sslrootcert needs sslmode"),
        ("?sslmode=require&sslmode=disable", "sslmode given twice"),
        ("?sslmode=require&sslrootcert=", "sslrootcert is empty"),
        ("?password=hunter2", "unknown parameter password (known: sslmode, sslrootcert, sslcert, sslkey)"),
        ("?sslmode=require&sslcert=/c.pem", "sslcert needs sslkey"),
        ("?sslmode=require&sslkey=/k.pem", "sslkey needs sslcert"),
        ("?sslcert=/c.pem&sslkey=/k.pem", "sslcert and sslkey need sslmode=require, verify-ca or verify-full"),
        ("?sslmode=require&sslcert=&sslkey=/k.pem", "sslcert is empty"),
    ])
    func databaseURLTLSRefusals(query: String, words: String) throws {
        let error = #expect(throws: ConfigurationError.self) {
            try ServiceConfiguration.load(
                file: nil, environment: ["CREDITLINE_DATABASE_URL": "postgres://creditline@db-a/lines" + query], flags: [:])
        }
        #expect(error?.field == "database_url")
        #expect(error?.reason.contains(words) == true, "\(error?.reason ?? "")")
        #expect(error?.reason.contains("hunter2") == false)
    }

}
