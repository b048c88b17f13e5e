/// Ability to repay (README "Ability to repay"): what the customer earns and already owes, and
/// the largest limit whose full use they could repay. China's Interim Measures on Internet Loans
/// of Commercial Banks (2020) Art. 20 and 31; EU Directive 2023/2225 Art. 18; UK CONC 5.2A;
/// US Reg Z §1026.51.
public struct AffordabilityAssessment: Sendable, Equatable {
    public enum Source: String, Sendable, CaseIterable, Codable {
        /// The customer's own word.
        case selfDeclared = "self_declared"
        /// Checked against a document or a third party (`evidence_ref` names it).
        case verified
    }

    public var id: String
    public var accountID: String
    /// Fen a month; nil once erased (the `credit_assessment` consent withdrawn: README "Consent").
    public var monthlyIncome: Int?
    public var monthlyObligations: Int?
    public var source: Source
    public var evidenceRef: String?
    public var assessedAt: Timestamp
    public var validUntil: Timestamp

    public init(id: String, accountID: String, monthlyIncome: Int?, monthlyObligations: Int?, source: Source,
                evidenceRef: String?, assessedAt: Timestamp, validUntil: Timestamp)
    {
        (self.id, self.accountID, self.monthlyIncome, self.monthlyObligations) = (id, accountID, monthlyIncome, monthlyObligations)
        (self.source, self.evidenceRef, self.assessedAt, self.validUntil) = (source, evidenceRef, assessedAt, validUntil)
    }

    /// In force: not past its 12 months, and not erased.
    public func isCurrent(at now: Timestamp) -> Bool {
        now < validUntil && monthlyIncome != nil && monthlyObligations != nil
    }
}

/// Why a line has the limit it has: the least of its bounds, and which one binds.
public struct LimitBasis: Sendable, Equatable, Codable {
    public enum Binding: String, Sendable, CaseIterable, Codable {
        case tierRecommendation = "tier-recommendation"
        case requestedLimit = "requested-limit"
        case affordabilityCap = "affordability-cap"
        case regulatoryCap = "regulatory-cap"
        /// No current assessment: the starter limit binds.
        case assessmentMissing = "assessment-missing"
    }

    public var limit: Int
    public var binding: Binding
    public var tierRecommendation: Int
    public var requestedLimit: Int?
    /// nil without a current assessment.
    public var affordableLimit: Int?
    public var regulatoryCap: Int
    public var starterLimit: Int

    enum CodingKeys: String, CodingKey {
        case limit, binding
        case tierRecommendation = "tier_recommendation"
        case requestedLimit = "requested_limit"
        case affordableLimit = "affordable_limit"
        case regulatoryCap = "regulatory_cap"
        case starterLimit = "starter_limit"
    }

    /// Every member, null where there is no figure: an answer shows all it weighed.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(limit, forKey: .limit)
        try container.encode(binding, forKey: .binding)
        try container.encode(tierRecommendation, forKey: .tierRecommendation)
        try container.encode(requestedLimit, forKey: .requestedLimit)
        try container.encode(affordableLimit, forKey: .affordableLimit)
        try container.encode(regulatoryCap, forKey: .regulatoryCap)
        try container.encode(starterLimit, forKey: .starterLimit)
    }

    public init(limit: Int, binding: Binding, tierRecommendation: Int, requestedLimit: Int?, affordableLimit: Int?,
                regulatoryCap: Int, starterLimit: Int)
    {
        (self.limit, self.binding, self.tierRecommendation, self.requestedLimit) = (limit, binding, tierRecommendation, requestedLimit)
        (self.affordableLimit, self.regulatoryCap, self.starterLimit) = (affordableLimit, regulatoryCap, starterLimit)
    }

    /// The bound the limit may not exceed whatever else is asked: the affordable limit, or the
    /// starter limit without an assessment, and the regulatory cap.
    public var cap: Int { min(affordableLimit ?? starterLimit, regulatoryCap) }

    /// As the audit entry and the answers carry it.
    public var auditDetail: [String: JSONValue] {
        ["limit": .int(limit), "binding": .string(binding.rawValue), "tier_recommendation": .int(tierRecommendation),
         "requested_limit": requestedLimit.map(JSONValue.int) ?? .null,
         "affordable_limit": affordableLimit.map(JSONValue.int) ?? .null, "regulatory_cap": .int(regulatoryCap),
         "starter_limit": .int(starterLimit)]
    }
}

extension LimitBasis {
    /// The basis an entry's detail holds under `key`, read back; nil when the entry has none
    /// (written before the rule existed). A basis that is there but does not read fails.
    init?(_ read: DetailReader, key: String) throws(NoticeRules.MissingFact) {
        guard let value = read.detail[key], value != .null else { return nil }
        guard case .object(let members) = value else { throw read.missing(key) }
        let inner = DetailReader(action: read.action, detail: members)
        func optional(_ name: String) throws(NoticeRules.MissingFact) -> Int? {
            members[name] == nil || members[name] == .null ? nil : try inner.int(name)
        }
        self.init(limit: try inner.int("limit"), binding: try inner.named("binding"),
                  tierRecommendation: try inner.int("tier_recommendation"), requestedLimit: try optional("requested_limit"),
                  affordableLimit: try optional("affordable_limit"), regulatoryCap: try inner.int("regulatory_cap"),
                  starterLimit: try inner.int("starter_limit"))
    }
}

public enum Affordability {
    /// An assessment is valid this many days (12 months).
    public static let validityDays = 365

    public struct Settings: Sendable, Equatable {
        /// The most of the monthly income that obligations and the line's repayment together may
        /// take, in basis points (5,000: half).
        public var maxDebtServiceRatioBps = 5_000
        /// One person's internet consumer credit (Interim Measures Art. 31: 200,000 yuan).
        public var regulatoryLimitCap = 20_000_000
        /// The most a line may open with before the customer's income and obligations are known.
        public var starterLimit = 50_000

        public init() {}
    }

    /// The monthly repayment of a whole limit drawn on `plan`: the principal in equal parts
    /// (rounded up to the fen) plus the plan's monthly fee on the original principal; without a
    /// plan, the whole amount at once.
    public static func monthlyRepayment(of limit: Int, on plan: Terms.Plan?) -> Int {
        guard let plan, plan.months > 0 else { return limit }
        return (limit + plan.months - 1) / plan.months + Schedule.fee(amount: limit, bps: plan.monthlyFeeBps)
    }

    /// What the customer can put towards the line each month: the ratio's share of the income,
    /// less what they already owe; never below zero.
    public static func allowance(monthlyIncome: Int, monthlyObligations: Int, settings: Settings) -> Int {
        let share = monthlyIncome / 10_000 * settings.maxDebtServiceRatioBps
            + monthlyIncome % 10_000 * settings.maxDebtServiceRatioBps / 10_000
        return max(0, share - monthlyObligations)
    }

    /// The line's longest plan: its full use is repaid over the most months, so it is the one a
    /// customer could best afford; the rule asks whether even that fits.
    public static func longestPlan(_ plans: [Terms.Plan]) -> Terms.Plan? {
        plans.max { $0.months < $1.months }
    }

    /// Affordable limits are searched up to this (11 billion yuan): beyond any cap, so that the
    /// affordable limit reported is the customer's own and a cap that binds is named as the cap.
    public static let searchCeiling = 1 << 40

    /// The largest limit whose full use on `plan` keeps (obligations + repayment) / income within
    /// the ratio. The repayment grows with the limit, so the answer is found by halving, bounded
    /// by `ceiling`.
    public static func affordableLimit(monthlyIncome: Int, monthlyObligations: Int, plan: Terms.Plan?,
                                       settings: Settings, ceiling: Int = searchCeiling) -> Int
    {
        let allowance = allowance(monthlyIncome: monthlyIncome, monthlyObligations: monthlyObligations, settings: settings)
        var (low, high) = (0, max(0, ceiling))
        guard monthlyRepayment(of: high, on: plan) > allowance else { return high }
        // Invariant: repayment(low) <= allowance < repayment(high).
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if monthlyRepayment(of: middle, on: plan) <= allowance { low = middle } else { high = middle }
        }
        return low
    }

    /// A line's limit: the least of the tier's recommendation, the customer's requested limit,
    /// the affordable limit (or, with no current assessment, the starter limit) and the
    /// regulatory cap (the lower of `regulatory_limit_cap` and `limit_max`). On a tie the
    /// customer's protections are named first: affordability (or the missing assessment), then the
    /// regulatory cap, then the request, then the tier.
    public static func limit(tierRecommendation: Int, requestedLimit: Int?, assessment: AffordabilityAssessment?,
                             plans: [Terms.Plan], settings: Settings, policyMax: Int, now: Timestamp) -> LimitBasis
    {
        let cap = min(settings.regulatoryLimitCap, policyMax)
        let current = assessment.flatMap { $0.isCurrent(at: now) ? $0 : nil }
        let affordable = current.map {
            affordableLimit(monthlyIncome: $0.monthlyIncome ?? 0, monthlyObligations: $0.monthlyObligations ?? 0,
                            plan: longestPlan(plans), settings: settings)
        }
        let bounds: [(LimitBasis.Binding, Int?)] = [
            (affordable == nil ? .assessmentMissing : .affordabilityCap, affordable ?? settings.starterLimit),
            (.regulatoryCap, cap), (.requestedLimit, requestedLimit), (.tierRecommendation, tierRecommendation),
        ]
        var chosen = (binding: LimitBasis.Binding.tierRecommendation, value: tierRecommendation)
        for (binding, value) in bounds.reversed() {
            if let value, value <= chosen.value { chosen = (binding, max(0, value)) }
        }
        return LimitBasis(limit: chosen.value, binding: chosen.binding, tierRecommendation: tierRecommendation,
                          requestedLimit: requestedLimit, affordableLimit: affordable, regulatoryCap: cap,
                          starterLimit: settings.starterLimit)
    }

    /// The most a line may be set to by what the customer can repay: the affordable limit under a
    /// current assessment; nil without one.
    public static func affordableCap(_ assessment: AffordabilityAssessment?, plans: [Terms.Plan], settings: Settings,
                                     now: Timestamp) -> Int?
    {
        guard let assessment, assessment.isCurrent(at: now), let income = assessment.monthlyIncome,
              let obligations = assessment.monthlyObligations else { return nil }
        return affordableLimit(monthlyIncome: income, monthlyObligations: obligations, plan: longestPlan(plans),
                               settings: settings)
    }

    /// A limit a person or an offer sets (a review's approval, an increase, an offer): within the
    /// regulatory cap (422 `regulatory-cap`), and within what the customer can repay (422
    /// `affordability-cap`). Without a current assessment only up to the starter limit, and an
    /// increase not at all (409 `assessment-missing`). Each refusal names `field`. Returns the
    /// affordable limit it was weighed against, nil without an assessment.
    @discardableResult
    public static func requireWithin(_ limit: Int, assessment: AffordabilityAssessment?, plans: [Terms.Plan],
                                     settings: Settings, now: Timestamp, field: String, increase: Bool) throws(DomainError)
        -> Int?
    {
        guard limit <= settings.regulatoryLimitCap else {
            throw DomainError(.invalid, code: .regulatoryCap,
                              "\(field) is above the regulatory cap of \(settings.regulatoryLimitCap) fen for one person's consumer credit.",
                              field: field)
        }
        guard let affordable = affordableCap(assessment, plans: plans, settings: settings, now: now) else {
            guard increase || limit > settings.starterLimit else { return nil }
            throw DomainError(.conflict, code: .assessmentMissing, increase
                ? "An increase needs a current affordability assessment (POST /v1/accounts/{id}/affordability, at most 12 months old)."
                : "Without a current affordability assessment a line may have at most the starter limit, \(settings.starterLimit) fen.",
                              field: field)
        }
        guard limit <= affordable else {
            throw DomainError(.invalid, code: .affordabilityCap,
                              "\(field) is above what the customer can repay: at most \(affordable) fen on the line's longest plan, by their income and obligations.",
                              field: field)
        }
        return affordable
    }

    /// An assessment is recorded for an open account under a `credit_assessment` consent in force:
    /// income and obligations are collected for that purpose and no other.
    public static func checkRecord(accountStatus: AccountStatus?, assessmentConsentActive: Bool) throws(DomainError) {
        _ = try AccountStatus.requireOpen(accountStatus, "A closed account takes no new assessment.")
        guard assessmentConsentActive else {
            throw DomainError(.conflict, code: .consentRequired,
                              "An affordability assessment needs an active credit_assessment consent.")
        }
    }

    /// A request to record an assessment, checked: amounts whole fen, 0 or more, income above
    /// zero; the source one of the two; `evidence_ref` a reference (1–64 visible ASCII), never a
    /// document.
    public static func validate(monthlyIncome: Int, monthlyObligations: Int, source: String, evidenceRef: String?)
        throws(DomainError) -> (AffordabilityAssessment.Source, String?)
    {
        guard monthlyIncome > 0 else {
            throw DomainError(.invalid, code: .invalidAmount, "monthly_income must be a whole number of fen above 0.",
                              field: "monthly_income")
        }
        guard monthlyObligations >= 0 else {
            throw DomainError(.invalid, code: .invalidAmount, "monthly_obligations must be a whole number of fen, 0 or more.",
                              field: "monthly_obligations")
        }
        guard let parsed = AffordabilityAssessment.Source(rawValue: source) else {
            throw .invalidField("source", "source must be self_declared or verified.")
        }
        if parsed == .verified, evidenceRef == nil {
            throw .invalidField("evidence_ref", "A verified assessment names what it was checked against in evidence_ref.")
        }
        if let evidenceRef {
            guard (1...64).contains(evidenceRef.utf8.count), evidenceRef.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
            else {
                throw .invalidField("evidence_ref", "evidence_ref must be 1–64 visible ASCII characters: a reference, not a document.")
            }
        }
        return (parsed, evidenceRef)
    }
}
