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
