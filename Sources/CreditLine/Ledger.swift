/// The line in use: the rules for draws, their schedules, repayments, delinquency, cooling-off and
/// charge-off, as pure functions (the ledger's tables and routes are not built yet: README "Not
/// built yet"). Money is whole fen (`Int`), never a fraction; dates are calendar days in UTC.

/// A calendar day (proleptic Gregorian, UTC), counted as days since 1970-01-01 for arithmetic.
public struct CivilDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// A valid date, or nil (month 1–12, day within the month).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), (1...CivilDate.daysIn(year: year, month: month)).contains(day) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// The UTC day a moment falls on.
    public init(_ timestamp: Timestamp) {
        self.init(daysSinceEpoch: Int(timestamp.milliseconds.floorDiv(86_400_000)))
    }

    /// Days since 1970-01-01 to a civil date (the inverse of `daysSinceEpoch`), by the
    /// era-of-400-years method: every 400 Gregorian years are 146,097 days.
    public init(daysSinceEpoch days: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    public static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public func adding(days: Int) -> CivilDate { CivilDate(daysSinceEpoch: daysSinceEpoch + days) }

    /// The same day `months` later, or the last day of that month when it is shorter
    /// (31 January + 1 month = 28 or 29 February).
    public func adding(months: Int) -> CivilDate {
        let index = year * 12 + (month - 1) + months
        let newYear = index >= 0 ? index / 12 : (index - 11) / 12
        let newMonth = index - newYear * 12 + 1
        return CivilDate(year: newYear, month: newMonth, day: min(day, Self.daysIn(year: newYear, month: newMonth)))!
    }

    /// Whole days from `self` to `later` (negative when `later` is earlier).
    public func days(until later: CivilDate) -> Int { later.daysSinceEpoch - daysSinceEpoch }

    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool { lhs.daysSinceEpoch < rhs.daysSinceEpoch }

    /// `2026-11-25`.
    public var description: String { "\(zeroPadded(year, 4))-\(zeroPadded(month, 2))-\(zeroPadded(day, 2))" }
}

/// The instalments a draw is repaid in.
public enum Schedule {
    public struct Instalment: Sendable, Equatable {
        /// 1-based, in due order.
        public var number: Int
        public var due: CivilDate
        public var principal: Int
        public var fee: Int
    }

    /// Without a plan: one instalment of the whole amount, due `interestFreeDays` after the
    /// draw, with no fee. With a plan of n months: n monthly instalments due on the draw's day of
    /// each following month (the month's last day when it is shorter); the principal split in
    /// whole fen with the remainder on the first, and each instalment carrying a fee of
    /// ⌊amount × monthly_fee_bps ÷ 10,000⌋ fen.
    public static func make(amount: Int, drawnOn day: CivilDate, plan: Terms.Plan?, interestFreeDays: Int) -> [Instalment] {
        guard let plan, plan.months > 0 else {
            return [Instalment(number: 1, due: day.adding(days: interestFreeDays), principal: amount, fee: 0)]
        }
        let share = amount / plan.months
        let remainder = amount - share * plan.months
        let monthlyFee = fee(amount: amount, bps: plan.monthlyFeeBps)
        return (1...plan.months).map { number in
            Instalment(number: number, due: day.adding(months: number),
                       principal: share + (number == 1 ? remainder : 0), fee: monthlyFee)
        }
    }

    /// ⌊amount × bps ÷ 10,000⌋ for amount, bps ≥ 0, computed as q × bps + ⌊r × bps ÷ 10,000⌋
    /// (amount = 10,000 q + r), so the product never overflows.
    public static func fee(amount: Int, bps: Int) -> Int {
        let (q, r) = amount.quotientAndRemainder(dividingBy: 10_000)
        return q * bps + r * bps / 10_000
    }
}

/// How a repayment is spread over a line's instalments.
public enum RepaymentAllocation {
    /// What an instalment still owes.
    public struct Owed: Sendable, Equatable {
        public var instalmentID: String
        public var due: CivilDate
        public var fee: Int
        public var principal: Int

        public init(instalmentID: String, due: CivilDate, fee: Int, principal: Int) {
            self.instalmentID = instalmentID
            self.due = due
            self.fee = fee
            self.principal = principal
        }
    }

    /// What a repayment paid of one instalment.
    public struct Applied: Sendable, Equatable {
        public var instalmentID: String
        public var fee: Int
        public var principal: Int
    }

    /// Oldest due instalment first, its fee before its principal, then the instalments not yet
    /// due in due order (ties by the order given). Whole fen ≥ 1, and never more than everything
    /// outstanding: 422 `invalid-amount` or `overpayment`.
    public static func allocate(_ amount: Int, to owed: [Owed]) throws(DomainError) -> [Applied] {
        guard amount >= 1 else {
            throw DomainError(.invalid, code: "invalid-amount", "amount must be a whole number of fen, 1 or more.",
                              field: "amount")
        }
        let outstanding = owed.reduce(0) { $0 + $1.fee + $1.principal }
        guard amount <= outstanding else {
            throw DomainError(.invalid, code: "overpayment",
                              "amount is more than everything outstanding (\(outstanding) fen).", field: "amount")
        }
        var left = amount
        var applied: [Applied] = []
        let ordered = owed.enumerated().sorted { ($0.element.due, $0.offset) < ($1.element.due, $1.offset) }.map(\.element)
        for instalment in ordered where left > 0 && instalment.fee + instalment.principal > 0 {
            let fee = min(left, instalment.fee)
            left -= fee
            let principal = min(left, instalment.principal)
            left -= principal
            applied.append(Applied(instalmentID: instalment.instalmentID, fee: fee, principal: principal))
        }
        return applied
    }
}

/// How far behind a line is.
public enum Delinquency: String, Sendable, CaseIterable, Codable, Comparable {
    case current
    case dpd1To30 = "dpd_1_30"
    case dpd31To60 = "dpd_31_60"
    case dpd61To90 = "dpd_61_90"
    case dpd90Plus = "dpd_90_plus"

    public init(daysPastDue days: Int) {
        switch days {
        case ...0: self = .current
        case 1...30: self = .dpd1To30
        case 31...60: self = .dpd31To60
        case 61...90: self = .dpd61To90
        default: self = .dpd90Plus
        }
    }

    /// Whole days since the due date of the oldest instalment not fully paid; 0 when none is
    /// past due (an instalment due today is not yet late).
    public static func daysPastDue(oldestUnpaidDue: CivilDate?, today: CivilDate) -> Int {
        guard let due = oldestUnpaidDue else { return 0 }
        return max(0, due.days(until: today))
    }

    private var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (lhs: Delinquency, rhs: Delinquency) -> Bool { lhs.rank < rhs.rank }
}

/// Whether a draw may be made, first refusal first.
public enum DrawRules {
    public struct Facts: Sendable {
        public var customerSelected: Bool
        public var status: AccountStatus
        public var creditLineConsentActive: Bool
        public var delinquency: Delinquency
        public var amount: Int
        public var planMonths: Int?
        public var plans: [Terms.Plan]
        public var availableCredit: Int

        public init(customerSelected: Bool, status: AccountStatus, creditLineConsentActive: Bool,
                    delinquency: Delinquency, amount: Int, planMonths: Int?, plans: [Terms.Plan], availableCredit: Int)
        {
            self.customerSelected = customerSelected
            self.status = status
            self.creditLineConsentActive = creditLineConsentActive
            self.delinquency = delinquency
            self.amount = amount
            self.planMonths = planMonths
            self.plans = plans
            self.availableCredit = availableCredit
        }
    }

    /// The plan the draw is repaid on (nil: one instalment), or the first rule it breaks.
    /// A payment method the customer did not pick is never a draw: that refusal comes first,
    /// before anything about the account is told.
    public static func check(_ facts: Facts) throws(DomainError) -> Terms.Plan? {
        guard facts.customerSelected else {
            throw DomainError(.invalid, code: "draw-not-selected",
                              "customer_selected must be true: the customer chose to pay with this line.",
                              field: "customer_selected")
        }
        guard facts.status == .active else {
            throw DomainError(.conflict, code: "invalid-transition",
                              "Only an active line takes draws; this one is \(facts.status.rawValue).")
        }
        guard facts.creditLineConsentActive else {
            throw DomainError(.conflict, code: "consent-required", "A draw needs an active credit_line consent.")
        }
        guard facts.delinquency < .dpd31To60 else {
            throw DomainError(.conflict, code: "line-delinquent",
                              "The line is \(facts.delinquency.rawValue): repay what is overdue before drawing again.")
        }
        guard facts.amount >= 1 else {
            throw DomainError(.invalid, code: "invalid-amount", "amount must be a whole number of fen, 1 or more.",
                              field: "amount")
        }
        var plan: Terms.Plan? = nil
        if let months = facts.planMonths {
            guard let found = facts.plans.first(where: { $0.months == months }) else {
                let offered = facts.plans.map { String($0.months) }.joined(separator: ", ")
                throw DomainError(.invalid, code: "invalid-plan",
                                  "plan_months must be one of this line's plans (\(offered.isEmpty ? "none" : offered)).",
                                  field: "plan_months")
            }
            plan = found
        }
        guard facts.amount <= facts.availableCredit else {
            throw DomainError(.invalid, code: "insufficient-credit",
                              "amount is more than the available credit (\(facts.availableCredit) fen).", field: "amount")
        }
        return plan
    }

    /// max(0, limit − balance): a limit lowered below the balance leaves nothing to draw, and
    /// nothing is recalled.
    public static func availableCredit(limit: Int, balance: Int) -> Int { max(0, limit - balance) }
}

/// Withdrawal from the credit agreement within the cooling-off period (Consumer Credit Directive
/// 2008/48/EC Art. 14: 14 days).
public enum CoolingOff {
    public static func check(activatedAt: Timestamp, now: Timestamp, days: Int) throws(DomainError) {
        guard now < activatedAt.adding(days: days) else {
            throw DomainError(.conflict, code: "cooling-off-over",
                              "The \(days)-day cooling-off period after activation has ended.")
        }
    }
}

/// A line may be charged off only when it is more than 90 days past due.
public enum ChargeOff {
    public static func check(_ delinquency: Delinquency) throws(DomainError) {
        guard delinquency == .dpd90Plus else {
            throw DomainError(.conflict, code: "not-charge-off-eligible",
                              "Only a line more than 90 days past due may be charged off; this one is \(delinquency.rawValue).")
        }
    }
}
