import CreditStore
import Foundation

/// The settings whose values are more than a number or a word: host lists, an origin, a
/// database URL (README "Configuration"), each checked for its form at start-up.
extension ServiceConfiguration {
    /// Host names: a JSON array of strings, or (environment, flag) a comma-separated list.
    static func hosts(_ name: String, _ set: @escaping @Sendable (inout ServiceConfiguration, [String]) -> Void)
        -> Field
    {
        Field(name: name) { (config, raw) throws(Field.Problem) in
            var names: [String] = []
            switch raw {
            case .text(let text):
                names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            case .json(let json):
                guard case .array(let values) = json else { throw Field.Problem(reason: "must be an array of host names") }
                for value in values {
                    guard case .string(let text) = value, !text.isEmpty else {
                        throw Field.Problem(reason: "must be an array of host names")
                    }
                    names.append(text)
                }
            }
            if let bad = names.first(where: { $0.contains("/") || $0.contains(" ") || $0.contains("@") }) {
                throw Field.Problem(reason: "'\(bad)' is not a host name")
            }
            set(&config, names.map { $0.lowercased() })
        }
    }

    /// An origin customers can reach: http or https, a host, no credentials, query or fragment;
    /// kept without a trailing slash. Empty: none.
    static func baseURL(_ name: String, _ set: @escaping @Sendable (inout ServiceConfiguration, String?) -> Void)
        -> Field
    {
        Field(name: name) { (config, raw) throws(Field.Problem) in
            var text = try Self.text(raw)
            if text.isEmpty { return set(&config, nil) }
            guard let url = URLComponents(string: text), url.scheme == "https" || url.scheme == "http",
                  url.host?.isEmpty == false, url.user == nil, url.password == nil, url.query == nil, url.fragment == nil
            else {
                throw Field.Problem(reason: "must be an http(s) URL with a host and no credentials, query or fragment")
            }
            while text.hasSuffix("/") { text.removeLast() }
            set(&config, text)
        }
    }

    /// A database URL, checked for its form here so that a typo stops the start with the field named.
    static func databaseURL(_ name: String,
                                    _ set: @escaping @Sendable (inout ServiceConfiguration, String?) -> Void) -> Field
    {
        Field(name: name) { (config, raw) throws(Field.Problem) in
            let text = try Self.text(raw)
            if text.isEmpty { return set(&config, nil) }
            do {
                _ = try DatabaseURL(text)
            } catch {
                throw Field.Problem(reason: "\(error)")
            }
            set(&config, text)
        }
    }
}
