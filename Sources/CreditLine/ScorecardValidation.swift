import Foundation

/// A scorecard file checked before use, and a request's features checked against it (README
/// "Scoring").
extension Scorecard {
    // MARK: - Validating the file

    func validate() throws(ScorecardError) {
        guard scaling.odds > 0, scaling.pointsToDoubleOdds > 0, scaling.minScore < scaling.maxScore else {
            throw ScorecardError("scaling: odds and points_to_double_odds must be positive, min_score below max_score")
        }
        var names = Set<String>()
        var codes = Set<String>()
        for characteristic in characteristics {
            let name = characteristic.name
            guard names.insert(name).inserted else { throw ScorecardError("\(name): listed twice") }
            guard !characteristic.reasonCode.isEmpty, !characteristic.description.isEmpty else {
                throw ScorecardError("\(name): reason_code and description are required")
            }
            guard codes.insert(characteristic.reasonCode).inserted else {
                throw ScorecardError("\(name): reason code \(characteristic.reasonCode) is used twice")
            }
            switch characteristic.type {
            case .boolean:
                guard characteristic.truePoints != nil, characteristic.falsePoints != nil else {
                    throw ScorecardError("\(name): a boolean needs true_points and false_points")
                }
            case .integer, .ratio:
                try validateBins(characteristic)
            }
            try validateDirection(characteristic)
        }
        guard let lowest = tiers.last, lowest.minScore <= scaling.minScore else {
            throw ScorecardError("tiers: the lowest tier must start at or below min_score \(scaling.minScore)")
        }
        guard Set(tiers.map(\.tier)).count == tiers.count else { throw ScorecardError("tiers: a tier is listed twice") }
        guard decisionValidityDays > 0 else { throw ScorecardError("decision_validity_days must be positive") }
    }

    /// Bins must cover the whole range from `min` up, in order, without gap or overlap.
    func validateBins(_ characteristic: Characteristic) throws(ScorecardError) {
        let name = characteristic.name
        guard let bins = characteristic.bins, !bins.isEmpty, let lower = characteristic.min else {
            throw ScorecardError("\(name): numeric characteristics need min and bins")
        }
        guard bins[0].min == lower else { throw ScorecardError("\(name): the first bin must start at \(lower)") }
        for (index, bin) in bins.enumerated() {
            if let max = bin.max, max <= bin.min { throw ScorecardError("\(name): bin \(bin.label) is empty") }
            if index + 1 < bins.count {
                guard let max = bin.max, bins[index + 1].min == max else {
                    throw ScorecardError("\(name): bins \(bin.label) and \(bins[index + 1].label) leave a gap or overlap")
                }
            } else if bin.max != nil {
                throw ScorecardError("\(name): the last bin must be open-ended (max null)")
            }
        }
        if characteristic.nullable == true, characteristic.nullPoints == nil {
            throw ScorecardError("\(name): a nullable characteristic needs null_points")
        }
    }

    /// Points must move one way only: more overdue events never score higher; a longer history
    /// never scores lower.
    func validateDirection(_ characteristic: Characteristic) throws(ScorecardError) {
        let points = characteristic.bins?.map(\.points) ?? []
        let ordered: Bool
        switch characteristic.direction {
        case .increasing: ordered = zip(points, points.dropFirst()).allSatisfy { $0 <= $1 }
        case .decreasing: ordered = zip(points, points.dropFirst()).allSatisfy { $0 >= $1 }
        case .trueBetter: ordered = (characteristic.truePoints ?? 0) >= (characteristic.falsePoints ?? 0)
        }
        guard ordered else {
            throw ScorecardError("\(characteristic.name): points are not \(characteristic.direction.rawValue) over the bins")
        }
    }

    /// Shares must be shares (0…1, summing to 1 within rounding), the bands ascending from
    /// `min_score`, and every characteristic given one share per cell.
    func validateDevelopment() throws(ScorecardError) {
        guard let development else { return }
        func isWhole(_ shares: [Double]) -> Bool {
            shares.allSatisfy { $0 >= 0 && $0 <= 1 } && abs(shares.reduce(0, +) - 1) <= 0.001
        }
        let bands = development.bandMinScores
        guard bands.first == scaling.minScore, zip(bands, bands.dropFirst()).allSatisfy({ $0 < $1 }),
              bands.last.map({ $0 <= scaling.maxScore }) == true
        else {
            throw ScorecardError("development.score_bands must ascend from min_score \(scaling.minScore)")
        }
        guard isWhole(development.bandShares) else {
            throw ScorecardError("development.score_bands: the shares must be from 0 to 1 and add up to 1")
        }
        for characteristic in characteristics {
            guard let shares = development.cellShares[characteristic.name] else {
                throw ScorecardError("development.characteristics: \(characteristic.name) is missing")
            }
            guard shares.count == characteristic.cellLabels.count, isWhole(shares) else {
                throw ScorecardError("development.characteristics.\(characteristic.name): one share per cell "
                    + "(\(characteristic.cellLabels.joined(separator: ", "))), adding up to 1")
            }
        }
        if let stray = development.cellShares.keys.sorted().first(where: { !characteristicNames.contains($0) }) {
            throw ScorecardError("development.characteristics: \(stray) is not a characteristic of this scorecard")
        }
    }

    // MARK: - Validating features

    /// Checks a request's features: prohibited names first (they are refused whatever else is
    /// wrong), then unknown names, then each characteristic's presence, type and range.
    public func validate(_ features: [String: FeatureInput], denyList: ProhibitedFeatures) throws(DomainError)
        -> [String: FeatureValue]
    {
        // The scorecard's own characteristics were checked against the deny list when it was
        // loaded (`ProhibitedFeatures.firstUsed`): only names outside it need the check.
        // The names are sorted (so that the same body always names the same one) only when one
        // is foreign, which a valid body never has.
        if features.keys.contains(where: { !characteristicNames.contains($0) }) {
            let names = features.keys.sorted()
            for name in names where !characteristicNames.contains(name) && denyList.isProhibited(name) {
                throw DomainError(.invalid, code: .prohibitedFeature,
                                  "'\(Echo.bounded(name))' is a prohibited characteristic and may not be used for credit decisions.",
                                  field: "features.\(name)")
            }
            for name in names where !characteristicNames.contains(name) {
                throw DomainError(.invalid, code: .unknownFeature,
                                  "'\(Echo.bounded(name))' is not a characteristic of scorecard \(version).",
                                  field: "features.\(Echo.bounded(name))")
            }
        }
        var values: [String: FeatureValue] = Dictionary(minimumCapacity: characteristics.count)
        for characteristic in characteristics {
            values[characteristic.name] = try value(of: characteristic, in: features)
        }
        return values
    }

    func value(of characteristic: Characteristic, in features: [String: FeatureInput]) throws(DomainError)
        -> FeatureValue
    {
        let name = characteristic.name
        func invalid(_ what: String) -> DomainError {
            DomainError(.invalid, code: .invalidFeature, "'\(Echo.bounded(name))' \(what).",
                        field: "features.\(Echo.bounded(name))")
        }
        guard let input = features[name] else { throw invalid("is required") }
        switch (characteristic.type, input) {
        case (.boolean, .boolean(let flag)):
            return .boolean(flag)
        case (.integer, .integer(let number)):
            if let min = characteristic.min, Double(number) < min { throw invalid("must be at least \(Int(min))") }
            return .integer(number)
        case (.ratio, .null) where characteristic.nullable == true:
            return .missing
        case (.ratio, .integer(let number)):
            return try ratio(Double(number), characteristic, invalid)
        case (.ratio, .number(let number)):
            return try ratio(number, characteristic, invalid)
        case (.boolean, _):
            throw invalid("must be true or false")
        case (.integer, _):
            throw invalid("must be a whole number")
        case (.ratio, _):
            throw invalid(characteristic.nullable == true ? "must be a number from 0 to 1, or null" : "must be a number from 0 to 1")
        }
    }

    func ratio(_ number: Double, _ characteristic: Characteristic, _ invalid: (String) -> DomainError)
        throws(DomainError) -> FeatureValue
    {
        guard number.isFinite, number >= (characteristic.min ?? 0), number <= (characteristic.max ?? 1) else {
            throw invalid("must be from \(characteristic.min ?? 0) to \(characteristic.max ?? 1)")
        }
        return .ratio(number)
    }
}
