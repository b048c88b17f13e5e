import Foundation
import Synchronization

/// Where a PostgreSQL store lives: `postgres://user[:password]@host[:port][,host[:port]…]/database`.
/// Several hosts are a primary and its standbys in any order: the store writes to the one that is
/// not in recovery, and looks again when a connection fails (README "Running on PostgreSQL").
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public struct Host: Sendable, Equatable {
        public var name: String
        public var port: Int
    }

    public var hosts: [Host]
    public var user: String
    public var password: String?
    public var database: String

    public init?(url: String) {
        guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else { return nil }
        var rest = Substring(url.drop(while: { $0 != "/" }).dropFirst(2))
        if let query = rest.firstIndex(of: "?") { rest = rest[..<query] }
        guard let slash = rest.firstIndex(of: "/") else { return nil }
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
            guard let name = pieces.first, !name.isEmpty else { return nil }
            let port = pieces.count == 2 ? Int(pieces[1]) : 5432
            guard let port, (1...65535).contains(port) else { return nil }
            hosts.append(Host(name: String(name), port: port))
        }
        guard !hosts.isEmpty, !database.isEmpty, !user.isEmpty else { return nil }
        self.hosts = hosts
        self.user = user
        self.password = password
        self.database = database
    }

    /// The URL, password included: for configuration, never for logs.
    public var url: String {
        let secret = password.map { ":" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) } ?? ""
        return "postgres://\(user)\(secret)@" + hosts.map { "\($0.name):\($0.port)" }.joined(separator: ",") + "/\(database)"
    }

    /// The URL without its password, for logs.
    public var description: String {
        "postgres://\(user)@" + hosts.map { "\($0.name):\($0.port)" }.joined(separator: ",") + "/\(database)"
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
