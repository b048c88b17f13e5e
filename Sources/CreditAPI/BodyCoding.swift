import CreditLine
import Foundation
import HTTPServer
import HTTPTypes

/// The API's own problems (authentication, roles, bodies it cannot read). They, and the domain's
/// errors, become responses in the router's one catch.
enum Problems {
    static let unauthorized = Problem(
        status: .unauthorized, code: .unauthorized,
        detail: "Send a valid API key as 'Authorization: Bearer <key>'.",
        headerFields: [.wwwAuthenticate: "Bearer realm=\"creditline\""])

    static func forbidden(_ role: Role, allowed: [Role]) -> Problem {
        Problem(status: .forbidden, code: .forbidden,
                detail: "A \(role.rawValue) key may not do this; it needs \(allowed.map(\.rawValue).joined(separator: " or ")).")
    }

    /// An installation-wide act (a model review rules every tenant's decisions) by a key of one
    /// tenant (README "Periodic review").
    static func allTenantsRequired(_ role: Role) -> Problem {
        Problem(status: .forbidden, code: .allTenantsKeyRequired,
                detail: "This acts for every tenant; it needs a \(role.rawValue) key for all tenants (keys create --all-tenants).")
    }

    static func invalidJSON(_ detail: String) -> Problem {
        Problem(status: .unprocessableContent, code: .invalidJson, detail: detail)
    }

    static func invalidField(_ field: String, _ detail: String) -> Problem {
        Problem(status: .unprocessableContent, code: .invalidField, detail: detail, field: field)
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

    /// One parse (the decoder's) and one scan of the bytes for what a decoder cannot see.
    private static func decode<T: Decodable>(_ type: T.Type, from request: Request, allowedFields: Set<String>) throws -> T {
        guard !request.body.isEmpty else { throw Problems.invalidJSON("The request needs a JSON object body.") }
        let decoded: Result<T, DecodingError>
        do {
            decoded = .success(try SharedJSON.decoder.decode(T.self, from: request.bodyData))
        } catch let error as DecodingError {
            switch error {
            // Not JSON, or JSON but not an object: nothing after this is worth reading.
            case .dataCorrupted(let context) where context.codingPath.isEmpty,
                 .typeMismatch(_, let context) where context.codingPath.isEmpty:
                throw Problems.invalidJSON("The body is not a JSON object.")
            default:
                decoded = .failure(error)
            }
        }
        // The decoder parsed the whole text, so the scan follows well-formed JSON.
        let scan = ObjectNames.scan(request.body)
        // RFC 8259 §4: names within an object SHOULD be unique; parsers disagree on which of two
        // wins, so a body where it matters is refused rather than read one way here and another
        // way by a proxy or a log.
        if let duplicate = scan.duplicate {
            let name = Echo.bounded(duplicate)
            throw Problems.invalidField(name, "'\(name)' appears twice in one object.")
        }
        if let unknown = scan.topLevel.sorted().first(where: { !allowedFields.contains($0) }) {
            let name = Echo.bounded(unknown)
            throw Problems.invalidField(name, "'\(name)' is not a field of this request.")
        }
        return try decoded.mapError(problem(for:)).get()
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

/// Decoders keep no state between calls: one serves every request body and every piece of JSON
/// the service stored itself (audit details, review resolutions) that an answer reads back.
enum SharedJSON {
    static let decoder = JSONDecoder()
}

/// Encoding responses: snake_case keys come from each type's CodingKeys; sorted keys make the
/// same value the same bytes (idempotent replays are compared byte for byte).
enum ResponseBody {
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        Array(try encoder.encode(value))
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        .json(try encode(value), status: status)
    }
}

/// The names of a JSON object's members, read from the bytes: the first name that appears twice
/// in one object at any depth (compared after their escapes are decoded: "a" and "\u0061" are
/// one name), and the names of the outermost object. Run on text the JSON parser already
/// accepted, so it only has to follow well-formed JSON; on anything else it still ends, with
/// answers that mean nothing. Only names are decoded: values are skipped.
enum ObjectNames {
    struct Scan {
        var duplicate: String?
        var topLevel: [String]
    }

    static func scan(_ bytes: [UInt8]) -> Scan {
        var index = 0
        // One set of names per open object; nil for an open array.
        var open: [Set<String>?] = []
        var expectingName = false
        var topLevel: [String] = []
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"):
                open.append([])
                expectingName = true
                index += 1
            case UInt8(ascii: "["):
                open.append(nil)
                expectingName = false
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = open.popLast()
                expectingName = false
                index += 1
            case UInt8(ascii: ","):
                expectingName = open.last.map { $0 != nil } ?? false
                index += 1
            case UInt8(ascii: "\""):
                guard expectingName, let last = open.indices.last, open[last] != nil else {
                    guard let end = skipString(bytes, from: index) else { return Scan(duplicate: nil, topLevel: topLevel) }
                    index = end
                    continue
                }
                guard let (text, end) = string(bytes, from: index) else { return Scan(duplicate: nil, topLevel: topLevel) }
                // Inserted in place: a copy taken out and put back would copy the set per name.
                if !open[last]!.insert(text).inserted { return Scan(duplicate: text, topLevel: topLevel) }
                if open.count == 1 { topLevel.append(text) }
                expectingName = false
                index = end
            default:
                index += 1
            }
        }
        return Scan(duplicate: nil, topLevel: topLevel)
    }

    /// The index after the closing quote of the string starting at `start`.
    private static func skipString(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start + 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""): return index + 1
            case UInt8(ascii: "\\"): index += 2
            default: index += 1
            }
        }
        return nil
    }

    /// The decoded string starting at the quote at `start`, and the index after its closing quote.
    private static func string(_ bytes: [UInt8], from start: Int) -> (String, Int)? {
        var scalars = String.UnicodeScalarView()
        var raw: [UInt8] = []
        var index = start + 1
        var pendingHigh: UInt32? = nil
        func flushRaw() {
            scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
            raw.removeAll()
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                flushRaw()
                return (String(scalars), index + 1)
            }
            guard byte == UInt8(ascii: "\\") else {
                raw.append(byte)
                index += 1
                continue
            }
            flushRaw()
            guard index + 1 < bytes.count else { return nil }
            let escaped = bytes[index + 1]
            if escaped == UInt8(ascii: "u") {
                guard index + 6 <= bytes.count,
                    let value = UInt32(String(decoding: bytes[(index + 2)..<(index + 6)], as: UTF8.self), radix: 16)
                else { return nil }
                if (0xD800...0xDBFF).contains(value) {
                    pendingHigh = value
                } else if (0xDC00...0xDFFF).contains(value), let high = pendingHigh {
                    let combined = 0x10000 + ((high - 0xD800) << 10) + (value - 0xDC00)
                    if let scalar = Unicode.Scalar(combined) { scalars.append(scalar) }
                    pendingHigh = nil
                } else if let scalar = Unicode.Scalar(value) {
                    scalars.append(scalar)
                }
                index += 6
            } else {
                let map: [UInt8: Unicode.Scalar] = [
                    UInt8(ascii: "n"): "\n", UInt8(ascii: "t"): "\t", UInt8(ascii: "r"): "\r", UInt8(ascii: "b"): "\u{08}",
                    UInt8(ascii: "f"): "\u{0C}", UInt8(ascii: "/"): "/", UInt8(ascii: "\\"): "\\", UInt8(ascii: "\""): "\"",
                ]
                guard let scalar = map[escaped] else { return nil }
                scalars.append(scalar)
                index += 2
            }
        }
        return nil
    }
}

/// Query parameters read the same way on every route that pages.
enum QueryParameter {
    /// A whole number within `range`, or `value` when absent; anything else is 422 naming it.
    static func integer(_ query: [String: String], _ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = query[name] else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw DomainError.invalidField(name, "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound).")
        }
        return number
    }
}

/// `customer_confirmation {channel, method, notice_sha256}` as sent (README "Data governance").
struct ConfirmationRequest: Decodable, Sendable {
    var channel: String
    var method: String
    var noticeSHA256: String
    enum CodingKeys: String, CodingKey {
        case channel, method
        case noticeSHA256 = "notice_sha256"
    }

    static func parse(_ request: ConfirmationRequest?) throws -> CustomerConfirmation? {
        guard let request else { return nil }
        return try CustomerConfirmation.parse(channel: request.channel, method: request.method,
                                              noticeSHA256: request.noticeSHA256)
    }
}

extension ReasonCodes {
    /// A `reason_code` and its optional `note` as sent: the code from the list, the note at most
    /// 500 characters with no identifier in it.
    func parse(code: String, note: String?) throws -> (String, String?) {
        let code = try require(code)
        if let note { try FreeText.check(note, field: "note", max: Self.noteMaxLength) }
        return (code, note)
    }
}

extension Problem {
    /// A problem with one of the API's codes: the closed list config/openapi.json states.
    init(status: HTTPResponse.Status, code: ProblemCode, title: String? = nil, detail: String, field: String? = nil,
         headerFields: HTTPFields = [:])
    {
        self.init(status: status, code: code.rawValue, title: title, detail: detail, field: field, headerFields: headerFields)
    }
}

/// An instalment plan as every answer shows it: its monthly fee and, beside it, its annual rate
/// (`apr_bps`, README "The line in use").
struct PlanBody: Encodable {
    var months: Int
    var monthlyFeeBps: Int
    var aprBps: Int
    init(_ plan: Terms.Plan) { (months, monthlyFeeBps, aprBps) = (plan.months, plan.monthlyFeeBps, plan.aprBps) }
    enum CodingKeys: String, CodingKey {
        case months
        case monthlyFeeBps = "monthly_fee_bps"
        case aprBps = "apr_bps"
    }
}

/// A tier's terms as answers show them, `{version?, interest_free_days, instalment_plans}`: the
/// version where they were accepted (an account's), none within the current terms' tiers.
struct TierTermsBody: Encodable {
    var terms: Terms.TierTerms
    var version: String? = nil
    enum CodingKeys: String, CodingKey {
        case version
        case interestFreeDays = "interest_free_days"
        case instalmentPlans = "instalment_plans"
    }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(version, forKey: .version)
        try container.encode(terms.interestFreeDays, forKey: .interestFreeDays)
        try container.encode(terms.instalmentPlans.map(PlanBody.init), forKey: .instalmentPlans)
    }
}
