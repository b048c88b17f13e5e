/// The annualised rate of an instalment plan, which a lender shows wherever it shows a price
/// (PBOC Announcement [2021] No. 3; README "The line in use"): by the internal-rate-of-return
/// method, the monthly rate at which the plan's payments, discounted month by month, come to what
/// was borrowed, times twelve. The plan as the ledger runs it: `months` equal parts of the
/// principal, and each month a fee of `monthlyFeeBps` on the original principal, so the flat
/// monthly fee understates the rate: 60 basis points a month over 12 months is 7.2 % a year on
/// paper and 13.03 % by this method.
public enum AnnualRate {
    /// The nominal annual rate in basis points, rounded half up; 0 when the fee is 0.
    public static func nominalBps(monthlyFeeBps: Int, months: Int) -> Int {
        let annual = monthlyRate(monthlyFeeBps: monthlyFeeBps, months: months) * 12 * 10_000
        return Int((annual + 0.5).rounded(.down))
    }

    /// Basis points as a percentage with two decimals, as a customer reads it: 920 → "9.20%".
    public static func percent(_ bps: Int) -> String {
        String(bps / 100) + "." + String(repeating: "0", count: bps % 100 < 10 ? 1 : 0) + String(bps % 100) + "%"
    }

    /// The monthly rate r at which Σₖ₌₁ⁿ (1/n + fee) ÷ (1 + r)ᵏ = 1, per unit borrowed.
    static func monthlyRate(monthlyFeeBps: Int, months: Int) -> Double {
        guard monthlyFeeBps > 0, months > 0 else { return 0 }
        let payment = 1 / Double(months) + Double(monthlyFeeBps) / 10_000
        // What the payments are worth today at r; it falls as r grows, so bisection finds r.
        func presentValue(_ rate: Double) -> Double {
            var value = 0.0
            var discount = 1.0
            for _ in 0..<months {
                discount /= 1 + rate
                value += payment * discount
            }
            return value
        }
        var (low, high) = (0.0, 1.0)
        while presentValue(high) > 1 { high *= 2 }
        for _ in 0..<100 {
            let middle = (low + high) / 2
            if presentValue(middle) > 1 { low = middle } else { high = middle }
        }
        return (low + high) / 2
    }
}

/// A cap on what a line may cost (README "The cost cap"): no plan's annual rate, by the method of
/// `AnnualRate`, above `apr_cap_bps`. The service charges no late fee, and a restructure costs no
/// more than the line's cheapest plan, so a plan's rate is the most any instalment carries.
public enum CostCap {
    /// 24 % a year: the rate above which Chinese courts do not support lending interest (the
    /// Supreme People's Court's provisions on private lending, 2020 revision) and lenders are told
    /// to stay under.
    public static let defaultBps = 2_400

    public static func allows(_ plan: Terms.Plan, capBps: Int) -> Bool { plan.aprBps <= capBps }

    /// Terms with every plan within the cap; the first that is not is named.
    public static func check(_ terms: Terms, capBps: Int) throws(ScorecardError) {
        for (tier, tierTerms) in terms.tiers.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            for plan in tierTerms.instalmentPlans where !allows(plan, capBps: capBps) {
                throw ScorecardError("terms \(terms.version): tier \(tier.rawValue)'s \(plan.months)-month plan costs \(AnnualRate.percent(plan.aprBps)) a year, above apr_cap_bps (\(AnnualRate.percent(capBps)))")
            }
        }
    }

    /// A draw's or quote's plan within the cap: a line's accepted terms from before a lower cap
    /// are not charged above it (422 `above-apr-cap` naming `plan_months`).
    public static func require(_ plan: Terms.Plan?, capBps: Int) throws(DomainError) {
        guard let plan, !allows(plan, capBps: capBps) else { return }
        throw DomainError(.invalid, code: .aboveAPRCap,
                          "The \(plan.months)-month plan costs \(AnnualRate.percent(plan.aprBps)) a year, above the cap of \(AnnualRate.percent(capBps)); choose another plan.",
                          field: "plan_months")
    }
}
