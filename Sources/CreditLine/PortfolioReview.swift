import Foundation

/// The rows of a periodic review's upload (README "Periodic review"): NDJSON, one object a line,
/// or one JSON array of objects. Rows are found by their bytes first, without being decoded, so
/// a broken upload is refused whole before anything is applied, and each row is decoded only
/// when its chunk is applied.
public enum PortfolioUpload {
    public static let maxRows = 100_000

    /// One row as uploaded: the account, and the features the caller has (the behaviour
    /// characteristics may be left out for the ledger to supply).
    public struct Row: Sendable, Decodable {
        public var accountID: String
        public var features: [String: FeatureInput]

        enum CodingKeys: String, CodingKey {
            case features
            case accountID = "account_id"
        }

        public init(accountID: String, features: [String: FeatureInput]) {
            (self.accountID, self.features) = (accountID, features)
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            accountID = try container.decode(String.self, forKey: .accountID)
            features = try container.decodeIfPresent([String: FeatureInput].self, forKey: .features) ?? [:]
        }
    }

    /// The byte ranges of the rows, in order. The upload is scanned where it lies, not copied: a
    /// 100,000-row file is the largest thing a review holds.
    public static func rows(in data: Data) throws(DomainError) -> [Range<Int>] {
        do {
            return try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws -> [Range<Int>] in try rows(in: bytes) }
        } catch let error as DomainError {
            throw error
        } catch {
            throw invalid("The upload could not be read.")
        }
    }

    static func rows(in bytes: UnsafeRawBufferPointer) throws(DomainError) -> [Range<Int>] {
        var index = 0
        skipSpace(bytes, &index)
        guard index < bytes.count else { throw invalid("The upload holds no rows.") }
        let ranges = bytes[index] == UInt8(ascii: "[") ? try arrayRows(bytes, from: index) : lineRows(bytes)
        guard !ranges.isEmpty else { throw invalid("The upload holds no rows.") }
        guard ranges.count <= maxRows else { throw invalid("A review takes at most \(maxRows) rows; this one has \(ranges.count).") }
        // Every row is an object; one with the wrong fields is skipped, one that is not an
        // object at all means the file is not what it should be.
        if let bad = ranges.firstIndex(where: { bytes[$0.lowerBound] != UInt8(ascii: "{") || bytes[$0.upperBound - 1] != UInt8(ascii: "}") }) {
            throw invalid("Row \(bad + 1) is not a JSON object; every row is {account_id, features}.")
        }
        return ranges
    }

    /// Decodes one row; nil when it is not `{account_id, features}`.
    public static func decode(_ data: Data, _ range: Range<Int>, with decoder: JSONDecoder) -> Row? {
        guard let row = try? decoder.decode(Row.self, from: data[data.startIndex + range.lowerBound..<data.startIndex + range.upperBound]),
              (1...64).contains(row.accountID.utf8.count) else { return nil }
        return row
    }

    static func invalid(_ detail: String) -> DomainError { DomainError.invalidField("body", detail) }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    static func skipSpace(_ bytes: UnsafeRawBufferPointer, _ index: inout Int) {
        while index < bytes.count, isSpace(bytes[index]) { index += 1 }
    }

    /// NDJSON: every line that is not blank is a row.
    static func lineRows(_ bytes: UnsafeRawBufferPointer) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        for position in 0...bytes.count where position == bytes.count || bytes[position] == 0x0A {
            var low = start
            var high = position
            skipSpace(bytes, &low)
            while high > low, isSpace(bytes[high - 1]) { high -= 1 }
            if low < high { ranges.append(low..<high) }
            start = position + 1
        }
        return ranges
    }

    /// A JSON array: each element's bytes, found by depth outside strings.
    static func arrayRows(_ bytes: UnsafeRawBufferPointer, from open: Int) throws(DomainError) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var index = open + 1
        var depth = 0
        var inString = false
        var escaped = false
        var start: Int?
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                index += 1
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                if start == nil { start = index }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if start == nil { start = index }
                depth += 1
            case UInt8(ascii: "}"):
                depth -= 1
            case UInt8(ascii: "]") where depth > 0:
                depth -= 1
            case UInt8(ascii: ","), UInt8(ascii: "]"):
                if depth == 0 {
                    var end = index
                    while let low = start, end > low, isSpace(bytes[end - 1]) { end -= 1 }
                    if let low = start {
                        ranges.append(low..<end)
                    } else if byte == UInt8(ascii: ",") || !ranges.isEmpty {
                        throw invalid("The array has an empty element at byte \(index).")
                    }
                    start = nil
                    if byte == UInt8(ascii: "]") {
                        var rest = index + 1
                        skipSpace(bytes, &rest)
                        guard rest == bytes.count else { throw invalid("Nothing may follow the array.") }
                        return ranges
                    }
                }
            case 0x20, 0x09, 0x0A, 0x0D:
                break
            default:
                if start == nil { start = index }
            }
            guard depth >= 0 else { throw invalid("The array's brackets do not match.") }
            index += 1
        }
        throw invalid("The array is not closed.")
    }
}

/// What a periodic review did, in counts only (no caller text): per action, per skip reason,
/// per tier move, and the first rows that could not be used, by number and reason.
public struct PortfolioSummary: Sendable, Codable, Equatable {
    public struct Skip: Sendable, Codable, Equatable {
        public var row: Int
        public var reason: String
    }

    public var actions: [String: Int] = [:]
    public var skipped: [String: Int] = [:]
    public var tierMoves: [String: Int] = [:]
    public var firstSkips: [Skip] = []

    public static let keptSkips = 100

    public init() {}

    enum CodingKeys: String, CodingKey {
        case actions, skipped
        case tierMoves = "tier_moves"
        case firstSkips = "first_skips"
    }

    public mutating func skip(row: Int, reason: String) {
        actions["skipped", default: 0] += 1
        skipped[reason, default: 0] += 1
        if firstSkips.count < Self.keptSkips { firstSkips.append(Skip(row: row, reason: reason)) }
    }

    public mutating func record(_ action: PortfolioPolicy.Action, from: Tier?, to: Tier) {
        actions[action.name, default: 0] += 1
        tierMoves["\(from?.rawValue ?? "none")->\(to.rawValue)", default: 0] += 1
    }
}

extension PortfolioPolicy.Action {
    public var name: String {
        switch self {
        case .skipped: return "skipped"
        case .lowerLimit: return "lower_limit"
        case .freeze: return "freeze"
        case .offer: return "offer"
        case .none: return "none"
        }
    }
}

/// Limit offers: an increase held out to the customer, taken only by their acceptance.
public enum LimitOffers {
    /// An offer lapses after this many days.
    public static let validityDays = 30

    public enum Status: String, Sendable { case open, accepted, superseded, expired }

    public static func status(stored: Status, expiresAt: Timestamp, now: Timestamp) -> Status {
        stored == .open && now >= expiresAt ? .expired : stored
    }

    /// An operator's offer: to an open line (active or frozen lines only; a frozen one may not
    /// draw until unfrozen), above its limit and within the policy's maximum. Taking it is the
    /// customer's act, when the increase rules run again.
    public static func checkOperatorOffer(accountStatus: AccountStatus?, currentLimit: Int, offered: Int, maxLimit: Int)
        throws(DomainError)
    {
        let status = try Existence.require(accountStatus, "account")
        guard status == .active || status == .frozen else {
            throw DomainError(.conflict, code: .invalidTransition, "Only an opened line can be offered more; this one is \(status.rawValue).")
        }
        guard offered > currentLimit else {
            throw DomainError.invalidField("offered_limit", "offered_limit must be above the line's limit, \(currentLimit) fen.")
        }
        guard offered <= maxLimit else {
            throw DomainError(.invalid, code: .abovePolicyMax, "The policy maximum is \(maxLimit) fen.", field: "offered_limit")
        }
    }

    /// An offer can be taken only while it is open and before it lapses.
    public static func checkAcceptable(stored: Status?, expiresAt: Timestamp?, now: Timestamp) throws(DomainError) {
        guard let stored, let expiresAt else { throw DomainError.notFound("limit offer") }
        switch status(stored: stored, expiresAt: expiresAt, now: now) {
        case .open: return
        case .expired:
            throw DomainError(.conflict, code: .offerExpired, "The offer lapsed; a later review may make another.")
        case .accepted, .superseded:
            throw DomainError(.conflict, code: .offerNotOpen, "The offer is \(stored.rawValue) and can no longer be accepted.")
        }
    }
}
