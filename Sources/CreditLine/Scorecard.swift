import Foundation

/// A feature value as the caller sent it, before validation.
public enum FeatureInput: Sendable, Equatable, Decodable {
    case integer(Int)
    case number(Double)
    case boolean(Bool)
    case null
    case text(String)
    case other

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Most values are whole numbers, so Int is tried first: every failed try builds an error.
        // A JSON boolean is never an Int or a Double, so the order changes no answer.
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Int.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(Bool.self) {
            self = .boolean(value)
        } else if let value = try? container.decode(String.self) {
            self = .text(value)
        } else {
            self = .other
        }
    }
}

/// A validated characteristic value.
public enum FeatureValue: Sendable, Equatable {
    case integer(Int)
    case ratio(Double)
    case boolean(Bool)
    case missing

    /// Canonical JSON of the value (RFC 8785 number form for the values accepted here).
    var canonicalJSON: String {
        switch self {
        case .integer(let value): return String(value)
        case .boolean(let value): return value ? "true" : "false"
        case .missing: return "null"
        case .ratio(let value):
            if value == value.rounded() { return String(Int(value)) }
            // Ratios are within 0…1; print them positionally, shortest round-trip digits.
            var text = "\(value)"
            if text.contains("e") { text = String(format: "%.17f", value) }
            while text.contains("."), text.hasSuffix("0") { text.removeLast() }
            return text
        }
    }
}

/// The transparent scoring model (README "Scoring"): points per bin per characteristic, the
/// scaling that gives points their meaning in odds, and the tiers. Loaded from a versioned file
/// and validated before use; the file's SHA-256 is part of every decision's `model_version`.
public struct Scorecard: Sendable {
    public struct Scaling: Sendable, Decodable, Equatable {
        public var pointsAtOdds: Double
        public var odds: Double
        public var pointsToDoubleOdds: Double
        public var minScore: Int
        public var maxScore: Int

        enum CodingKeys: String, CodingKey {
            case odds
            case pointsAtOdds = "points_at_odds"
            case pointsToDoubleOdds = "points_to_double_odds"
            case minScore = "min_score"
            case maxScore = "max_score"
        }

        /// score = offset + factor · ln(odds), factor = PDO / ln 2 (Siddiqi, Credit Risk Scorecards, ch. 10: points to double the odds).
        public var factor: Double { pointsToDoubleOdds / log(2) }
        public var offset: Double { pointsAtOdds - factor * log(odds) }
        /// The good:bad odds a score stands for.
        public func odds(atScore score: Double) -> Double { exp((score - offset) / factor) }
    }

    public enum Kind: String, Sendable, Decodable { case integer, ratio, boolean }
    public enum Direction: String, Sendable, Decodable { case increasing, decreasing, trueBetter = "true_better" }

    public struct Bin: Sendable, Decodable, Equatable {
        public var min: Double
        /// Exclusive; nil for no upper bound.
        public var max: Double?
        public var points: Int

        public func contains(_ value: Double) -> Bool { value >= min && (max.map { value < $0 } ?? true) }

        public var label: String {
            func show(_ number: Double) -> String {
                number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : "\(number)"
            }
            return "[\(show(min)), \(max.map(show) ?? "∞"))"
        }
    }

    public struct Characteristic: Sendable, Decodable {
        public var name: String
        public var type: Kind
        public var min: Double?
        public var max: Double?
        public var nullable: Bool?
        public var direction: Direction
        public var reasonCode: String
        public var description: String
        public var bins: [Bin]?
        public var nullPoints: Int?
        public var truePoints: Int?
        public var falsePoints: Int?

        enum CodingKeys: String, CodingKey {
            case name, type, min, max, nullable, direction, description, bins
            case reasonCode = "reason_code"
            case nullPoints = "null_points"
            case truePoints = "true_points"
            case falsePoints = "false_points"
        }

        public var maxPoints: Int {
            switch type {
            case .boolean: return Swift.max(truePoints ?? 0, falsePoints ?? 0)
            default: return ((bins ?? []).map(\.points) + [nullPoints].compactMap { $0 }).max() ?? 0
            }
        }

        /// The cells a stability count uses: the bins, then `null` when the value may be
        /// missing; `true` and `false` for a boolean.
        public var cellLabels: [String] {
            switch type {
            case .boolean: return ["true", "false"]
            default: return (bins ?? []).map(\.label) + (nullable == true ? ["null"] : [])
            }
        }

        /// The cell of a stored value (the inputs keep numbers, booleans and null as given).
        public func cell(of value: FeatureInput) -> Int? {
            let bins = self.bins ?? []
            switch (type, value) {
            case (.boolean, .boolean(let flag)): return flag ? 0 : 1
            case (.integer, .integer(let number)), (.ratio, .integer(let number)): return bin(of: Double(number))
            case (.ratio, .number(let number)): return bin(of: number)
            case (.ratio, .null) where nullable == true: return bins.count
            default: return nil
            }
        }

        /// The bin label and points for a value.
        public func place(_ value: FeatureValue) -> (bin: String, points: Int) {
            switch value {
            case .boolean(let flag): return (flag ? "true" : "false", (flag ? truePoints : falsePoints) ?? 0)
            case .missing: return ("null", nullPoints ?? 0)
            case .integer(let number): return place(Double(number))
            case .ratio(let number): return place(number)
            }
        }

        private func place(_ number: Double) -> (bin: String, points: Int) {
            guard let bins, let at = bin(of: number) else { return ("none", 0) }
            return (bins[at].label, bins[at].points)
        }

        /// The index of the bin `number` falls in; nil when none holds it.
        func bin(of number: Double) -> Int? { bins?.firstIndex { $0.contains(number) } }
    }

    /// A score band: the tier it gives and that tier's outcome and recommended limit.
    public struct Band: Sendable, Decodable, Equatable {
        public var tier: Tier
        public var minScore: Int
        public var outcome: Decision.Outcome
        public var recommendedLimit: Int

        enum CodingKeys: String, CodingKey {
            case tier, outcome
            case minScore = "min_score"
            case recommendedLimit = "recommended_limit"
        }
    }

    /// The population the model was built on, as shares: of each score band, and of each
    /// characteristic's cells (its bins in order, then `null` when it may be missing; `true`
    /// then `false` for a boolean). Stability is measured against these (README "Periodic review").
    public struct Development: Sendable, Equatable {
        /// Each band's lowest score, ascending; a band runs to the next one's lowest score.
        public var bandMinScores: [Int]
        public var bandShares: [Double]
        public var cellShares: [String: [Double]]
    }

    struct DevelopmentFile: Decodable {
        struct BandShare: Decodable {
            var minScore: Int
            var share: Double
            enum CodingKeys: String, CodingKey {
                case share
                case minScore = "min_score"
            }
        }

        var scoreBands: [BandShare]
        var characteristics: [String: [Double]]

        enum CodingKeys: String, CodingKey {
            case characteristics
            case scoreBands = "score_bands"
        }
    }

    struct File: Decodable {
        var version: String
        var scaling: Scaling
        var basePoints: Int
        var characteristics: [Characteristic]
        var tiers: [Band]
        var decisionValidityDays: Int
        var development: DevelopmentFile?

        enum CodingKeys: String, CodingKey {
            case version, scaling, characteristics, tiers, development
            case basePoints = "base_points"
            case decisionValidityDays = "decision_validity_days"
        }
    }

    public let version: String
    /// `v1+sha256:<first 16 hex digits of the file's SHA-256>`.
    public let modelVersion: String
    public let scaling: Scaling
    public let basePoints: Int
    public let characteristics: [Characteristic]
    let characteristicNames: Set<String>
    /// Worked out once from the file, not per score: each characteristic's most points and the
    /// label of each of its bins.
    private let maxPoints: [Int]
    private let binLabels: [[String]]
    public let tiers: [Band]
    public let decisionValidityDays: Int
    /// The development distribution; nil when the file carries none (no stability report then).
    public let development: Development?
    /// The file's SHA-256, hex.
    public let sha256: String

    /// Parses and validates a scorecard file. `sha256` is the hex digest of its bytes (computed
    /// by the caller, which has the crypto library). A bad file is refused with the problem named.
    public init(json: Data, sha256: String) throws(ScorecardError) {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: json)
        } catch {
            throw ScorecardError("the file is not a valid scorecard: \(error)")
        }
        version = file.version
        modelVersion = "\(file.version)+sha256:\(sha256.prefix(16))"
        scaling = file.scaling
        basePoints = file.basePoints
        characteristics = file.characteristics
        characteristicNames = Set(file.characteristics.map(\.name))
        maxPoints = file.characteristics.map(\.maxPoints)
        binLabels = file.characteristics.map { ($0.bins ?? []).map(\.label) }
        tiers = file.tiers.sorted { $0.minScore > $1.minScore }
        decisionValidityDays = file.decisionValidityDays
        self.sha256 = sha256
        development = file.development.map {
            Development(bandMinScores: $0.scoreBands.map(\.minScore), bandShares: $0.scoreBands.map(\.share),
                        cellShares: $0.characteristics)
        }
        try validate()
        try validateDevelopment()
    }

    /// The score band a score falls in (an index into the development bands).
    public func band(ofScore score: Int) -> Int? {
        guard let bands = development?.bandMinScores else { return nil }
        return bands.lastIndex { score >= $0 }
    }

    /// The label of each development score band, `[min, next min)`.
    public var bandLabels: [String] {
        guard let bands = development?.bandMinScores else { return [] }
        return bands.enumerated().map { index, low in
            index + 1 < bands.count ? "[\(low), \(bands[index + 1]))" : "[\(low), \(scaling.maxScore)]"
        }
    }

    // MARK: - Scoring

    /// One characteristic's contribution, for the explanation.
    public struct Contribution: Sendable, Equatable {
        public var characteristic: String
        public var value: FeatureValue
        public var bin: String
        public var points: Int
        public var maxPoints: Int
    }

    public struct Reason: Sendable, Equatable, Codable {
        public var code: String
        public var description: String
        public var pointsLost: Int

        /// The reasons as an array, as `JSONEncoder` with `.sortedKeys` writes them: in a score's
        /// answer and in the stored decision.
        public static func write(_ reasons: [Reason], into out: inout JSONBytes) {
            out.beginArray()
            for reason in reasons {
                out.beginObject()
                out.key("code"); out.string(reason.code)
                out.key("description"); out.string(reason.description)
                out.key("points_lost"); out.int(reason.pointsLost)
                out.endObject()
            }
            out.endArray()
        }

        enum CodingKeys: String, CodingKey {
            case code, description
            case pointsLost = "points_lost"
        }
    }

    /// What the model says about one set of features: a pure function, so the same inputs and
    /// model give the same score, always.
    public struct Result: Sendable, Equatable {
        public var score: Int
        public var tier: Tier
        public var outcome: Decision.Outcome
        public var recommendedLimit: Int
        public var reasons: [Reason]
        public var contributions: [Contribution]
        /// Canonical JSON of the inputs (hashed for `inputs_sha256`).
        public var canonicalInputs: String
    }

    public static let maxReasons = 4

    /// Tier D's recommended limit: the most one operator may grant alone (above it, four eyes),
    /// and where a periodic review lowers a tier-D line to.
    public var tierDLimit: Int { tiers.first { $0.tier == .d }?.recommendedLimit ?? 0 }

    /// README "Scoring": A ≥ 720, B 680–719, C 640–679 approve; D 600–639 review; E < 600 decline.
    public func tier(for score: Int) -> Band {
        tiers.first { score >= $0.minScore } ?? tiers[tiers.count - 1]
    }

    public func score(_ values: [String: FeatureValue]) -> Result {
        var total = basePoints
        var contributions: [Contribution] = []
        contributions.reserveCapacity(characteristics.count)
        for (index, characteristic) in characteristics.enumerated() {
            let value = values[characteristic.name] ?? .missing
            let (bin, points) = place(value, characteristic: index)
            total += points
            contributions.append(Contribution(characteristic: characteristic.name, value: value, bin: bin, points: points,
                                              maxPoints: maxPoints[index]))
        }
        let score = Swift.min(scaling.maxScore, Swift.max(scaling.minScore, total))
        let tier = tier(for: score)
        // Reg B §1002.9 practice: the specific characteristics that cost the most points, most
        // important first; none that cost nothing. Ties keep the scorecard's order.
        let reasons = zip(characteristics, contributions)
            .map { Reason(code: $0.reasonCode, description: $0.description, pointsLost: $1.maxPoints - $1.points) }
            .enumerated()
            .filter { $0.element.pointsLost > 0 }
            .sorted { $0.element.pointsLost != $1.element.pointsLost ? $0.element.pointsLost > $1.element.pointsLost : $0.offset < $1.offset }
            .prefix(Self.maxReasons)
            .map(\.element)
        var canonical = "{"
        canonical.reserveCapacity(32 * values.count)
        for (index, name) in values.keys.sorted().enumerated() {
            if index > 0 { canonical += "," }
            canonical += "\""
            canonical += name
            canonical += "\":"
            canonical += values[name]!.canonicalJSON
        }
        canonical += "}"
        return Result(score: score, tier: tier.tier, outcome: tier.outcome, recommendedLimit: tier.recommendedLimit,
                      reasons: Array(reasons), contributions: contributions, canonicalInputs: canonical)
    }

    /// `Characteristic.place`, with the bin's label looked up rather than written.
    private func place(_ value: FeatureValue, characteristic index: Int) -> (bin: String, points: Int) {
        let number: Double
        switch value {
        case .integer(let whole): number = Double(whole)
        case .ratio(let ratio): number = ratio
        case .boolean, .missing: return characteristics[index].place(value)
        }
        let characteristic = characteristics[index]
        guard let bins = characteristic.bins, let at = characteristic.bin(of: number) else { return ("none", 0) }
        return (binLabels[index][at], bins[at].points)
    }
}

public struct ScorecardError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
    public init(_ description: String) { self.description = "scorecard: " + description }
}

/// The deny list of characteristics that must never drive a credit decision (PIPL Art. 28
/// sensitive personal information; Credit Reporting Industry Regulation Art. 14).
public struct ProhibitedFeatures: Sendable {
    public let terms: [String]

    public init(terms: [String]) { self.terms = terms.map { $0.lowercased() } }

    struct File: Decodable { var terms: [String] }

    public init(json: Data) throws(ScorecardError) {
        do {
            self.init(terms: try JSONDecoder().decode(File.self, from: json).terms)
        } catch {
            throw ScorecardError("prohibited features file is not {\"terms\": [...]}: \(error)")
        }
    }

    /// A name is normalised to lower-case letters and digits; a term of 6 or more letters
    /// matches anywhere in it ("ethnic_group", "religiousBelief"); a shorter one must be a whole
    /// word ("race", but not "trace_id").
    /// The first of a scorecard's characteristics this list prohibits: a model that uses one
    /// must not be loaded at all.
    public func firstUsed(by scorecard: Scorecard) -> String? {
        scorecard.characteristics.map(\.name).first(where: isProhibited)
    }

    public func isProhibited(_ name: String) -> Bool {
        let normalized = String(name.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) })
        let words = Self.words(name)
        return terms.contains { term in
            term.count >= 6 ? normalized.contains(term) : (words.contains(term) || normalized == term)
        }
    }

    static func words(_ name: String) -> Set<String> {
        var words: Set<String> = []
        var current = ""
        var previousLower = false
        for character in name {
            if !(character.isLetter || character.isNumber) {
                if !current.isEmpty { words.insert(current.lowercased()) }
                current = ""
                previousLower = false
                continue
            }
            if character.isUppercase, previousLower {
                words.insert(current.lowercased())
                current = ""
            }
            current.append(character)
            previousLower = character.isLowercase
        }
        if !current.isEmpty { words.insert(current.lowercased()) }
        return words
    }
}
