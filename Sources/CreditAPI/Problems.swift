import CreditLine
import Foundation
import HTTPServer
import HTTPTypes

/// The API's own problems (authentication, roles, bodies it cannot read). They, and the domain's
/// errors, become responses in the router's one catch.
enum Problems {
    static let unauthorized = Problem(
        status: .unauthorized, code: "unauthorized",
        detail: "Send a valid API key as 'Authorization: Bearer <key>'.",
        headerFields: [.wwwAuthenticate: "Bearer realm=\"creditline\""])

    static func forbidden(_ role: Role, allowed: [Role]) -> Problem {
        Problem(status: .forbidden, code: "forbidden",
                detail: "A \(role.rawValue) key may not do this; it needs \(allowed.map(\.rawValue).joined(separator: " or ")).")
    }

    static func invalidJSON(_ detail: String) -> Problem {
        Problem(status: .unprocessableContent, code: "invalid-json", detail: detail)
    }

    static func invalidField(_ field: String, _ detail: String) -> Problem {
        Problem(status: .unprocessableContent, code: "invalid-field", detail: detail, field: field)
    }
}

/// A request body whose `CodingKeys` list every field it accepts.
protocol RequestFields: Decodable {
    associatedtype CodingKeys: CodingKey & CaseIterable
}

/// Decoding request bodies with answers that name the field at fault.
enum RequestBody {
    /// Decodes `T`, refusing fields it does not know: a stray `status` or `credit_limit` must not
    /// be silently ignored by one version and honoured by the next (OWASP API3, mass assignment).
    /// The fields a body may have are its `CodingKeys`, declared once.
    static func decode<T: RequestFields>(_ type: T.Type, from request: Request) throws -> T {
        try decode(type, from: request, allowedFields: Set(T.CodingKeys.allCases.map(\.stringValue)))
    }

    private static func decode<T: Decodable>(_ type: T.Type, from request: Request, allowedFields: Set<String>) throws -> T {
        guard !request.body.isEmpty else { throw Problems.invalidJSON("The request needs a JSON object body.") }
        let data = request.bodyData
        let object: [String: JSONValue]
        do {
            object = try JSONDecoder().decode([String: JSONValue].self, from: data)
        } catch {
            if (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) is [String: Any] {
                // Valid JSON, but with a value our JSONValue cannot hold (a fraction): let the
                // typed decode below name the field.
                object = [:]
            } else {
                throw Problems.invalidJSON("The body is not a JSON object.")
            }
        }
        if let unknown = object.keys.sorted().first(where: { !allowedFields.contains($0) }) {
            let name = Echo.bounded(unknown)
            throw Problems.invalidField(name, "'\(name)' is not a field of this request.")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw problem(for: error)
        }
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        Echo.bounded(codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: "."), limit: 128)
    }

    private static func problem(for error: DecodingError) -> Problem {
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return Problems.invalidField(field, "'\(field)' is required.")
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let field = path(context.codingPath)
            return Problems.invalidField(field, "'\(field)' must be \(describe(type)).")
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            if field.isEmpty { return Problems.invalidJSON("The body is not valid JSON.") }
            return Problems.invalidField(field, "'\(field)' is not valid: \(Echo.bounded(context.debugDescription, limit: 200))")
        @unknown default:
            return Problems.invalidJSON("The body could not be read.")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type: return "an integer"
        case is Bool.Type: return "true or false"
        case is Double.Type: return "a number"
        default: return "of another type"
        }
    }
}

/// Encoding responses: snake_case keys come from each type's CodingKeys; sorted keys make the
/// same value the same bytes (idempotent replays are compared byte for byte).
enum ResponseBody {
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try Response.json(encoding: value, status: status, encoder: encoder)
    }
}

/// Free text that is kept (reasons, notes, statements): bounded, and never personal data.
enum FreeText {
    /// An optional text: at most `max` characters, no identifier-shaped values.
    static func check(_ value: String, field: String, max: Int) throws {
        // Code points, as the database's length() counts them (see ConsentRules).
        guard value.unicodeScalars.count <= max else {
            throw DomainError.invalidField(field, "\(field) must be at most \(max) characters.")
        }
        try PersonalData.refuse(in: value, field: field)
    }

    /// A required text: trimmed, 1–`max` characters, no identifier-shaped values.
    static func required(_ value: String, field: String, max: Int = 256) throws -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.unicodeScalars.count <= max else {
            throw DomainError.invalidField(field, "\(field) must be 1–\(max) characters.")
        }
        try PersonalData.refuse(in: trimmed, field: field)
        return trimmed
    }
}
