import Foundation

/// Risk-based terms per tier (README "Activation, reviews and limits"): what the customer accepts at activation.
public struct Terms: Sendable, Equatable {
    public struct Plan: Sendable, Equatable, Codable {
        public var months: Int
        public var monthlyFeeBps: Int

        public init(months: Int, monthlyFeeBps: Int) { (self.months, self.monthlyFeeBps) = (months, monthlyFeeBps) }

        /// The plan's annual rate, shown beside its monthly fee wherever the fee is (`AnnualRate`).
        public var aprBps: Int { AnnualRate.nominalBps(monthlyFeeBps: monthlyFeeBps, months: months) }

        enum CodingKeys: String, CodingKey {
            case months
            case monthlyFeeBps = "monthly_fee_bps"
        }
    }

    public struct TierTerms: Sendable, Equatable, Codable {
        public var interestFreeDays: Int
        public var instalmentPlans: [Plan]
        enum CodingKeys: String, CodingKey {
            case interestFreeDays = "interest_free_days"
            case instalmentPlans = "instalment_plans"
        }

        public init(interestFreeDays: Int, instalmentPlans: [Plan]) {
            (self.interestFreeDays, self.instalmentPlans) = (interestFreeDays, instalmentPlans)
        }

        /// Whether these terms cost the customer no more than `current` in any way: no fewer
        /// interest-free days, and every plan `current` has still offered at no higher monthly fee.
        /// Anything else is dearer, and needs the customer's confirmation (README "Activation,
        /// reviews and limits").
        public func isNoDearer(than current: TierTerms) -> Bool {
            guard interestFreeDays >= current.interestFreeDays else { return false }
            return current.instalmentPlans.allSatisfy { plan in
                instalmentPlans.contains { $0.months == plan.months && $0.monthlyFeeBps <= plan.monthlyFeeBps }
            }
        }
    }

    struct File: Decodable {
        var version: String
        var tiers: [String: TierTerms]
    }

    public let version: String
    public let tiers: [Tier: TierTerms]
    public static let maxInterestFreeDays = 30

    public init(version: String, tiers: [Tier: TierTerms]) {
        self.version = version
        self.tiers = tiers
    }

    /// Parses and checks a terms file: every tier A–E, interest-free periods of at most 30 days,
    /// plans with positive months and non-negative fees.
    public init(json: Data) throws(ScorecardError) {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: json)
        } catch {
            throw ScorecardError("terms: not a valid terms file: \(error)")
        }
        if let unknown = file.tiers.keys.sorted().first(where: { Tier(rawValue: $0) == nil }) {
            throw ScorecardError("terms: \(unknown) is not a tier (A–E)")
        }
        var tiers: [Tier: TierTerms] = [:]
        for tier in Tier.allCases {
            guard let terms = file.tiers[tier.rawValue] else { throw ScorecardError("terms: tier \(tier.rawValue) is missing") }
            tiers[tier] = terms
            guard (0...Self.maxInterestFreeDays).contains(terms.interestFreeDays) else {
                throw ScorecardError("terms: tier \(tier.rawValue) interest_free_days must be 0–30")
            }
            for plan in terms.instalmentPlans where plan.months <= 0 || plan.monthlyFeeBps < 0 {
                throw ScorecardError("terms: tier \(tier.rawValue) has a plan with months \(plan.months), fee \(plan.monthlyFeeBps)")
            }
        }
        self.init(version: file.version, tiers: tiers)
    }
}
