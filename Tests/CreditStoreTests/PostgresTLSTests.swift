import CreditLine
import Foundation
import Testing
import TestSupport
@testable import CreditStore

/// TLS to the database (README "TLS to the database"): a throwaway cluster of its own whose
/// certificate is made here with openssl, signed by a certificate authority made here, naming
/// `localhost` only, and whose pg_hba refuses every connection without TLS (so that a store that
/// opens with `sslmode=require` is shown to be encrypted, not merely let in). Its database
/// `certified` also asks for a client certificate signed by the same authority and naming the user.
@Suite(.enabled(if: TestDatabase.postgres != nil, "starts a PostgreSQL cluster of its own, in the PostgreSQL run"))
final class PostgresTLSTests {
    let folder: String
    let port: Int
    let authority: String
    let strangerAuthority: String

    init() throws {
        folder = NSTemporaryDirectory() + "creditline-tls-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        authority = folder + "/ca.pem"
        strangerAuthority = folder + "/stranger-ca.pem"
        port = try Self.freePort()
        try Self.makeCertificates(in: folder)
        let cluster = folder + "/cluster"
        try Self.run(repositoryRoot + "/scripts/postgres-cluster", ["start", cluster, String(port)])
        // The server's key must be the postgres user's own and private to it.
        for (file, copy) in [("server.crt", "server.crt"), ("server.key", "server.key"), ("ca.pem", "root.crt")] {
            try FileManager.default.copyItem(atPath: folder + "/" + file, toPath: cluster + "/data/" + copy)
            if getuid() == 0 { try Self.run("/bin/chown", ["postgres", cluster + "/data/" + copy]) }
        }
        try Self.run("/bin/chmod", ["600", cluster + "/data/server.key"])
        let settings = "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\nssl_ca_file = 'root.crt'\n"
        try Self.append(settings, to: cluster + "/data/postgresql.conf")
        // Every earlier line of pg_hba is replaced: TLS or nothing, and for `certified` a client
        // certificate too, naming the user (verify-full).
        try """
            hostssl certified all 127.0.0.1/32 trust clientcert=verify-full
            hostssl all all 127.0.0.1/32 trust
            hostnossl all all 127.0.0.1/32 reject
            local all all trust

            """.write(toFile: cluster + "/data/pg_hba.conf", atomically: false, encoding: .utf8)
        try Self.run("/bin/sh", ["-c", (getuid() == 0 ? "runuser -u postgres -- " : "")
                + "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pg_ctl -D '\(cluster)/data' -w -m fast restart -l '\(cluster)/log'"])
        try Self.run("/usr/bin/psql", ["-h", cluster, "-p", String(port), "-U", "creditline", "-d", "postgres", "-q",
                                       "-c", "CREATE DATABASE certified"])
    }

    deinit {
        _ = try? ChildProcess.run(repositoryRoot + "/scripts/postgres-cluster", ["stop", folder + "/cluster"])
        try? FileManager.default.removeItem(atPath: folder)
    }

    func url(host: String, database: String = "postgres", _ parameters: String) -> String {
        "postgres://creditline@\(host):\(port)/\(database)?\(parameters)"
    }

    func open(_ url: String) throws -> Store {
        var options = StoreOptions()
        options.migrationsDirectory = repositoryRoot + "/migrations"
        return try Store.open(postgres: try PostgresLocation(parsing: url), options: options)
    }

    /// The words of the StoreError an open with these parameters must fail with ("" when it opens).
    func refusal(host: String, database: String = "postgres", _ parameters: String) -> String {
        let error = #expect(throws: StoreError.self) { try self.open(self.url(host: host, database: database, parameters)) }
        return error.map { "\($0)" } ?? ""
    }

    /// Whether the store's own connection is encrypted, as the server sees it.
    func encrypted(_ store: Store) throws -> Bool {
        try store.database.read { db in
            try Bool.fetchOne(db, sql: "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        } == true
    }

    /// One cluster for every case: each is a few connections, the cluster the slow part.
    @Test func sslmodeAndSslrootcertAgainstACertificateMadeHere() throws {
        try theRightAuthorityAndHostOpenEncrypted()
        try plainTextIsRefusedByThisServer()
        try aCertificateOfAnotherAuthorityIsRefusedNamingSslrootcert()
        try aHostNameTheCertificateDoesNotHoldIsRefusedNamingSslmode()
        try anUnreadableAuthorityFileStopsTheOpenNamingIt()
        try aClientCertificateIsPresentedWhenTheServerAsksForOne()
    }

    func theRightAuthorityAndHostOpenEncrypted() throws {
        for parameters in ["sslmode=require", "sslmode=verify-ca&sslrootcert=\(authority)",
                           "sslmode=verify-full&sslrootcert=\(authority)"] {
            let store = try open(url(host: "localhost", parameters))
            #expect(try encrypted(store), "\(parameters)")
            try store.close()
        }
        // verify-ca checks the signature, not the name: 127.0.0.1 is not in the certificate.
        let byAddress = try open(url(host: "127.0.0.1", "sslmode=verify-ca&sslrootcert=\(authority)"))
        #expect(try encrypted(byAddress))
        try byAddress.close()
    }

    func plainTextIsRefusedByThisServer() throws {
        // What makes the test above mean something: without TLS this cluster lets nobody in.
        #expect(throws: (any Error).self) { try self.open(self.url(host: "localhost", "sslmode=disable")) }
    }

    func aCertificateOfAnotherAuthorityIsRefusedNamingSslrootcert() throws {
        for mode in ["verify-ca", "verify-full"] {
            let words = refusal(host: "localhost", "sslmode=\(mode)&sslrootcert=\(strangerAuthority)")
            #expect(words.contains("sslmode=\(mode)") && words.contains("sslrootcert=\(strangerAuthority)")
                && words.contains("not signed"), "\(words)")
        }
    }

    func aHostNameTheCertificateDoesNotHoldIsRefusedNamingSslmode() throws {
        let words = refusal(host: "127.0.0.1", "sslmode=verify-full&sslrootcert=\(authority)")
        #expect(words.contains("sslmode=verify-full") && words.contains("does not name 127.0.0.1")
            && words.contains("verify-ca"), "\(words)")
    }

    func anUnreadableAuthorityFileStopsTheOpenNamingIt() throws {
        let missing = folder + "/no-such.pem"
        #expect(refusal(host: "localhost", "sslmode=verify-full&sslrootcert=\(missing)").contains("sslrootcert=\(missing)"))
    }

    func aClientCertificateIsPresentedWhenTheServerAsksForOne() throws {
        let checked = "sslmode=verify-full&sslrootcert=\(authority)"
        let store = try open(url(host: "localhost", database: "certified",
                                 checked + "&sslcert=\(folder)/client.crt&sslkey=\(folder)/client.key"))
        #expect(try encrypted(store))
        let presented = try store.database.read { db in
            try String.fetchOne(db, sql: "SELECT client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        }
        #expect(presented == "/CN=creditline", "\(presented ?? "none")")
        try store.close()
        // Without one, the server's refusal in words naming the setting.
        let without = refusal(host: "localhost", database: "certified", checked)
        #expect(without.contains("no sslcert") && without.contains("refused the client certificate"), "\(without)")
        // One of another authority: refused by the server in the handshake.
        _ = refusal(host: "localhost", database: "certified",
                    checked + "&sslcert=\(folder)/stranger-client.crt&sslkey=\(folder)/stranger-client.key")
        // A key others may read is not used, as libpq refuses it.
        let loose = refusal(host: "localhost", database: "certified",
                            checked + "&sslcert=\(folder)/client.crt&sslkey=\(folder)/loose-client.key")
        #expect(loose.contains("sslkey=\(folder)/loose-client.key") && loose.contains("chmod 600"), "\(loose)")
        #expect(refusal(host: "localhost", database: "certified", checked + "&sslcert=\(folder)/no-such.crt&sslkey=\(folder)/client.key")
            .contains("sslcert=\(folder)/no-such.crt"))
    }

    // MARK: - Set-up

    static func makeCertificates(in folder: String) throws {
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for name in ["ca", "stranger-ca"] {
            try run("/usr/bin/openssl", ["req", "-x509"] + ec + ["-keyout", "\(folder)/\(name).key", "-out",
                    "\(folder)/\(name).pem", "-days", "2", "-subj", "/CN=creditline test \(name)"])
        }
        try run("/usr/bin/openssl", ["req"] + ec + ["-keyout", "\(folder)/server.key", "-out", "\(folder)/server.csr",
                "-subj", "/CN=localhost"])
        try "subjectAltName = DNS:localhost\n".write(toFile: "\(folder)/server.ext", atomically: false, encoding: .utf8)
        try run("/usr/bin/openssl", ["x509", "-req", "-in", "\(folder)/server.csr", "-CA", "\(folder)/ca.pem", "-CAkey",
                "\(folder)/ca.key", "-CAcreateserial", "-out", "\(folder)/server.crt", "-days", "2", "-extfile",
                "\(folder)/server.ext"])
        // Client certificates naming the user, one of each authority; the keys private to their owner.
        for (name, signer) in [("client", "ca"), ("stranger-client", "stranger-ca")] {
            try run("/usr/bin/openssl", ["req"] + ec + ["-keyout", "\(folder)/\(name).key", "-out", "\(folder)/\(name).csr",
                    "-subj", "/CN=creditline"])
            try run("/usr/bin/openssl", ["x509", "-req", "-in", "\(folder)/\(name).csr", "-CA", "\(folder)/\(signer).pem",
                    "-CAkey", "\(folder)/\(signer).key", "-CAcreateserial", "-out", "\(folder)/\(name).crt", "-days", "2"])
            try run("/bin/chmod", ["600", "\(folder)/\(name).key"])
        }
        try FileManager.default.copyItem(atPath: "\(folder)/client.key", toPath: "\(folder)/loose-client.key")
        try run("/bin/chmod", ["644", "\(folder)/loose-client.key"])
    }

    static func run(_ executable: String, _ arguments: [String]) throws {
        let result = try ChildProcess.run(executable, arguments)
        guard result.status == 0 else {
            throw SetupFailed(words: "\(executable) \(arguments.joined(separator: " ")): \(result.stderr)")
        }
    }

    static func append(_ text: String, to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    /// A port no one listens on now: the kernel's choice for a socket bound to port 0.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw SetupFailed(words: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    struct SetupFailed: Error, CustomStringConvertible {
        var words: String
        var description: String { words }
    }
}
