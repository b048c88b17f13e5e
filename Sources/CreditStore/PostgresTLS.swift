import Foundation
import NIOSSL
import PostgresNIO

/// TLS to the database (README "TLS to the database"): `sslmode`, `sslrootcert`, `sslcert` and
/// `sslkey` of `database_url` made into one NIOSSL context when the store opens, and a connection refused for
/// TLS reasons put in words that name the setting to look at.
enum PostgresTLS {
    static func configuration(for location: PostgresLocation) throws -> PostgresConnection.Configuration.TLS {
        guard location.tlsMode != .disable else { return .disable }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        switch location.tlsMode {
        case .disable, .require: tls.certificateVerification = .none
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .verifyFull: tls.certificateVerification = .fullVerification
        }
        if let path = location.rootCertificate, path != "system" {
            tls.trustRoots = .certificates(try certificates(at: path, named: "sslrootcert"))
        }
        if let chain = location.clientCertificate, let key = location.clientKey {
            try presentClientCertificate(chain: chain, key: key, in: &tls)
        }
        do {
            return .require(try NIOSSLContext(configuration: tls))
        } catch {
            throw StoreError.databaseTLS("database_url sslmode=\(location.tlsMode.rawValue): no TLS context (\(error))")
        }
    }

    /// The client certificate a server may ask for (`sslcert`, `sslkey`). As libpq does, a key
    /// that others may read is refused: its owner's alone (0600), or root's and a group's (0640).
    static func presentClientCertificate(chain: String, key: String, in tls: inout TLSConfiguration) throws {
        let certificates = try certificates(at: chain, named: "sslcert")
        var info = stat()
        guard stat(key, &info) == 0 else {
            throw StoreError.databaseTLS("database_url sslkey=\(key) could not be read (\(String(cString: strerror(errno))))")
        }
        let others = info.st_uid == 0 ? mode_t(0o037) : mode_t(0o077)
        guard info.st_mode & others == 0 else {
            throw StoreError.databaseTLS("database_url sslkey=\(key) may be read by others; make it private (chmod 600)")
        }
        do {
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
        } catch {
            throw StoreError.databaseTLS("database_url sslkey=\(key) could not be read as a PEM private key (\(error))")
        }
        tls.certificateChain = certificates.map { .certificate($0) }
    }

    /// The PEM certificates of the file a URL parameter names, at least one; else why not, naming
    /// the parameter.
    static func certificates(at path: String, named parameter: String) throws -> [NIOSSLCertificate] {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw StoreError.databaseTLS("database_url \(parameter)=\(path) could not be read as PEM certificates (\(error))")
        }
        guard !certificates.isEmpty else { throw StoreError.databaseTLS("database_url \(parameter)=\(path) holds no certificate") }
        return certificates
    }

    /// Words for a connection that failed because of TLS, naming the setting; nil for any other
    /// failure (a host down, a standby), which the failover logic handles as before.
    static func refusal(_ error: any Error, host: PostgresLocation.Host, location: PostgresLocation) -> String? {
        let underlying = (error as? PSQLError)?.underlying ?? error
        let server = "\(host.name):\(host.port)"
        let mode = "database_url sslmode=\(location.tlsMode.rawValue)"
        let roots = location.rootCertificate.map { "sslrootcert=\($0)" } ?? "no sslrootcert"
        if let error = error as? PSQLError, error.code == .sslUnsupported {
            return "\(mode): \(server) does not offer TLS (ssl = off on the server)"
        }
        // The server's own refusal of the client certificate, or of its absence (28000,
        // invalid_authorization_specification, about a certificate).
        if let info = (error as? PSQLError)?.serverInfo, info[.sqlState] == "28000",
           let message = info[.message], message.contains("certificate")
        {
            let given = location.clientCertificate.map { "sslcert=\($0)" } ?? "no sslcert"
            return "database_url \(given): \(server) refused the client certificate (\(message.prefix(200)))"
        }
        if let extra = underlying as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return "\(mode): the certificate of \(server) does not name \(host.name); connect by a name it holds, "
                + "or use sslmode=verify-ca"
        }
        guard underlying is NIOSSLError || underlying is BoringSSLError || underlying is NIOSSLExtraError else {
            return nil
        }
        let detail = String(describing: underlying)
        if detail.contains("CERTIFICATE_VERIFY_FAILED") {
            return "\(mode): the certificate of \(server) is not signed by a certificate authority in \(roots)"
        }
        return "\(mode): the TLS handshake with \(server) failed (\(detail.prefix(200)))"
    }
}
