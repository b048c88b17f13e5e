import Foundation
import Synchronization

/// Where a PostgreSQL store lives:
/// `postgres://user[:password]@host[:port][,host[:port]…]/database[?sslmode=…&sslrootcert=…&sslcert=…&sslkey=…]`.
/// Several hosts are a primary and its standbys in any order: the store writes to the one that is
/// not in recovery, and looks again when a connection fails (README "Running on PostgreSQL").
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public struct Host: Sendable, Equatable {
        public var name: String
        public var port: Int
    }

    /// `sslmode`, in libpq's words (README "TLS to the database"). `prefer` and `allow` are
    /// refused: they fall back to plain text without saying so.
    public enum TLSMode: String, Sendable, CaseIterable {
        /// Plain text (the default, as before the setting existed).
        case disable
        /// Encrypted; the certificate is not checked unless `sslrootcert` is given, which makes
        /// it `verify-ca` (as libpq does).
        case require
        /// Encrypted, the certificate signed by `sslrootcert`; any host name.
        case verifyCA = "verify-ca"
        /// Encrypted, the certificate signed by `sslrootcert` and naming the host connected to.
        case verifyFull = "verify-full"
    }

    public var hosts: [Host]
    public var user: String
    public var password: String?
    public var database: String
    public var tlsMode: TLSMode = .disable
    /// `sslrootcert`: a PEM file of the certificate authorities to trust, or `system` for the
    /// system's trust store.
    public var rootCertificate: String?
    /// `sslcert` and `sslkey`: the PEM files of a client certificate (its chain) and its private
    /// key, for a server that asks for one (pg_hba's `cert`, or `clientcert=verify-full`). Both or
    /// neither.
    public var clientCertificate: String?
    public var clientKey: String?

    /// Why a URL is refused, naming the part at fault.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    public init?(url: String) {
        guard let location = try? PostgresLocation(parsing: url) else { return nil }
        self = location
    }

    public init(parsing url: String) throws(Invalid) {
        guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
            throw Invalid(reason: "not a postgres:// URL")
        }
        var rest = Substring(url.drop(while: { $0 != "/" }).dropFirst(2))
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard let slash = rest.firstIndex(of: "/") else { throw Invalid(reason: "no /database after the hosts") }
        let database = String(rest[rest.index(after: slash)...])
        var authority = rest[..<slash]
        var user = "postgres"
        var password: String?
        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            authority = authority[authority.index(after: at)...]
            let parts = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            user = parts[0].removingPercentEncoding ?? String(parts[0])
            if parts.count == 2 { password = parts[1].removingPercentEncoding ?? String(parts[1]) }
        }
        var hosts: [Host] = []
        for part in authority.split(separator: ",") {
            let pieces = part.split(separator: ":", maxSplits: 1)
            guard let name = pieces.first, !name.isEmpty else { throw Invalid(reason: "a host without a name") }
            let port = pieces.count == 2 ? Int(pieces[1]) : 5432
            guard let port, (1...65535).contains(port) else { throw Invalid(reason: "a port outside 1-65535") }
            hosts.append(Host(name: String(name), port: port))
        }
        guard !hosts.isEmpty else { throw Invalid(reason: "no host") }
        guard !database.isEmpty else { throw Invalid(reason: "no database name") }
        guard !user.isEmpty else { throw Invalid(reason: "no user name") }
        self.hosts = hosts
        self.user = user
        self.password = password
        self.database = database
        try readParameters(query)
    }

    /// `sslmode` and `sslrootcert`; any other parameter is refused rather than ignored, so that a
    /// setting the operator meant is never silently not in force.
    private mutating func readParameters(_ query: Substring) throws(Invalid) {
        var seen: Set<String> = []
        var mode: TLSMode?
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            let value = parts.count == 2 ? (parts[1].removingPercentEncoding ?? String(parts[1])) : ""
            guard seen.insert(key).inserted else { throw Invalid(reason: "\(key) given twice") }
            switch key {
            case "sslmode":
                if value == "prefer" || value == "allow" {
                    throw Invalid(reason: "sslmode=\(value) falls back to plain text without saying so; "
                        + "use require, verify-ca or verify-full (or disable)")
                }
                guard let known = TLSMode(rawValue: value) else {
                    throw Invalid(reason: "sslmode must be disable, require, verify-ca or verify-full")
                }
                mode = known
            case "sslrootcert":
                rootCertificate = try Self.path(value, key)
            case "sslcert":
                clientCertificate = try Self.path(value, key)
            case "sslkey":
                clientKey = try Self.path(value, key)
            default:
                // The key alone: a parameter's value may be a secret.
                throw Invalid(reason: "unknown parameter \(key.prefix(40)) (known: sslmode, sslrootcert, sslcert, sslkey)")
            }
        }
        switch (clientCertificate, clientKey) {
        case (.some, nil): throw Invalid(reason: "sslcert needs sslkey (the certificate's private key)")
        case (nil, .some): throw Invalid(reason: "sslkey needs sslcert (the certificate it is the key of)")
        case (.some, .some) where (mode ?? .disable) == .disable:
            throw Invalid(reason: "sslcert and sslkey need sslmode=require, verify-ca or verify-full")
        default: break
        }
        switch (mode ?? .disable, rootCertificate) {
        case (.verifyCA, nil), (.verifyFull, nil):
            throw Invalid(reason: "sslmode=\(mode!.rawValue) needs sslrootcert=PATH (a PEM file of the "
                + "certificate authorities to trust, or sslrootcert=system)")
        case (.disable, .some):
            throw Invalid(reason: "sslrootcert needs sslmode=require, verify-ca or verify-full")
        case (.require, .some):
            tlsMode = .verifyCA
        default:
            tlsMode = mode ?? .disable
        }
    }

    /// What a parameter's value keeps unencoded: a path may hold `&` or `=`, which would end the
    /// value early.
    private static let valueCharacters = CharacterSet.urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+#"))

    /// A parameter that names a file: never empty.
    private static func path(_ value: String, _ key: String) throws(Invalid) -> String {
        guard !value.isEmpty else { throw Invalid(reason: "\(key) is empty") }
        return value
    }

    private var parameters: String {
        guard tlsMode != .disable else { return "" }
        func parameter(_ key: String, _ value: String?) -> String {
            value.map { "&\(key)=" + ($0.addingPercentEncoding(withAllowedCharacters: Self.valueCharacters) ?? $0) } ?? ""
        }
        return "?sslmode=\(tlsMode.rawValue)" + parameter("sslrootcert", rootCertificate)
            + parameter("sslcert", clientCertificate) + parameter("sslkey", clientKey)
    }

    /// The URL, password included: for configuration, never for logs.
    public var url: String {
        let secret = password.map { ":" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) } ?? ""
        return "postgres://\(user)\(secret)@" + hosts.map { "\($0.name):\($0.port)" }.joined(separator: ",")
            + "/\(database)" + parameters
    }

    /// The URL without its password, for logs.
    public var description: String {
        "postgres://\(user)@" + hosts.map { "\($0.name):\($0.port)" }.joined(separator: ",") + "/\(database)" + parameters
    }

    /// The same server, another database (tests make one per service).
    public func with(database: String) -> PostgresLocation {
        var copy = self
        copy.database = database
        return copy
    }
}

/// The store's SQL in PostgreSQL's spelling: `?` and `?N` placeholders become `$N`. Everything
/// else is written once for both engines, or chosen by `SQLConnection.dialect` where they differ.
enum PostgresSQL {
    private static let cache = Mutex<[String: String]>([:])

    static func text(_ sql: String) -> String {
        if let known = cache.withLock({ $0[sql] }) { return known }
        let translated = translate(sql)
        cache.withLock { if $0.count < 4096 { $0[sql] = translated } }
        return translated
    }

    /// A script's statements: split at semicolons outside quotes, comments and dollar-quoted
    /// bodies (a trigger function's `$$ … $$`).
    static func statements(_ script: String) -> [String] {
        var statements: [String] = []
        var current = ""
        let characters = Array(script)
        var index = 0
        var dollar = false
        var quoted = false
        while index < characters.count {
            let character = characters[index]
            let next = index + 1 < characters.count ? characters[index + 1] : nil
            if !quoted, !dollar, character == "-", next == "-" {
                while index < characters.count, characters[index] != "\n" { index += 1 }
                continue
            }
            if !quoted, character == "$", next == "$" {
                dollar.toggle()
                current += "$$"
                index += 2
                continue
            }
            if !dollar, character == "'" { quoted.toggle() }
            if !quoted, !dollar, character == ";" {
                let statement = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !statement.isEmpty { statements.append(statement) }
                current = ""
            } else {
                current.append(character)
            }
            index += 1
        }
        let last = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !last.isEmpty { statements.append(last) }
        return statements
    }

    static func translate(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var next = 1
        var quoted = false
        var characters = sql.makeIterator()
        var pending: Character? = nil
        while let character = pending ?? characters.next() {
            pending = nil
            if character == "'" { quoted.toggle() }
            guard character == "?", !quoted else {
                out.append(character)
                continue
            }
            var digits = ""
            while let following = characters.next() {
                if following.isASCII, following.isNumber {
                    digits.append(following)
                } else {
                    pending = following
                    break
                }
            }
            if digits.isEmpty {
                out += "$\(next)"
                next += 1
            } else {
                out += "$" + digits
            }
        }
        return out
    }
}
