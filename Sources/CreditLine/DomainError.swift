/// A broken business rule, with the short code the API shows (docs/architecture.md, "Errors"). The API maps
/// `kind` to an HTTP status in one place; the domain knows nothing of HTTP.
public struct DomainError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The request itself is wrong (422).
        case invalid
        /// The request is fine but the current state refuses it (409).
        case conflict
        /// The thing named does not exist (404).
        case notFound
        /// The caller acted on a version of the thing that is no longer current (412 at the API).
        case staleVersion
        /// The thing named existed and is no longer usable: a customer link used or expired (410).
        case gone
    }

    public var kind: Kind
    public var code: ProblemCode
    public var message: String
    /// The request field at fault, if any.
    public var field: String?

    public init(_ kind: Kind, code: ProblemCode, _ message: String, field: String? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { "\(code): \(message)" }

    public static func invalidField(_ field: String, _ message: String) -> DomainError {
        DomainError(.invalid, code: .invalidField, message, field: field)
    }

    public static func notFound(_ what: String) -> DomainError {
        DomainError(.notFound, code: .notFound, "No \(what) with that id.")
    }
}

/// The first rule of every write: the thing it names must exist. The store looks it up; the
/// domain decides that its absence is a refusal.
public enum Existence {
    public static func require<Value>(_ value: Value?, _ what: String) throws(DomainError) -> Value {
        guard let value else { throw DomainError.notFound(what) }
        return value
    }
}

/// Caller text quoted back in a problem (a field name, a method): at most `limit` characters,
/// control characters replaced, so a 100 KB value is not echoed back, nor a forged log line.
public enum Echo {
    public static func bounded(_ text: String, limit: Int = 64) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars.prefix(limit) {
            out.append(scalar.properties.generalCategory == .control ? "?" : scalar)
        }
        return String(out) + (text.unicodeScalars.count > limit ? "…" : "")
    }
}
