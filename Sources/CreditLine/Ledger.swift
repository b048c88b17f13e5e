/// The line in use (README "The line in use"): the rules for draws, their schedules, repayments,
/// delinquency, cooling-off and charge-off, as pure functions. Money is whole fen (`Int`), never a
/// fraction; dates are calendar days in UTC.

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

    /// `YYYY-MM-DD` exactly (RFC 3339 full-date), or nil.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = Int(String(decoding: bytes[0..<4], as: UTF8.self)),
            let month = Int(String(decoding: bytes[5..<7], as: UTF8.self)),
            let day = Int(String(decoding: bytes[8..<10], as: UTF8.self)),
            [0, 1, 2, 3, 5, 6, 8, 9].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[$0]) })
        else { return nil }
        self.init(year: year, month: month, day: day)
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

        public init(instalmentID: String, fee: Int, principal: Int) {
            (self.instalmentID, self.fee, self.principal) = (instalmentID, fee, principal)
        }
    }

    /// Oldest due instalment first, its fee before its principal, then the instalments not yet
    /// due in due order (ties by the order given). Whole fen ≥ 1, and never more than everything
    /// outstanding: 422 `invalid-amount` or `overpayment`.
    public static func allocate(_ amount: Int, to owed: [Owed]) throws(DomainError) -> [Applied] {
        guard amount >= 1 else {
            throw DomainError(.invalid, code: .invalidAmount, "amount must be a whole number of fen, 1 or more.",
                              field: "amount")
        }
        let outstanding = owed.reduce(0) { $0 + $1.fee + $1.principal }
        guard amount <= outstanding else {
            throw DomainError(.invalid, code: .overpayment,
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

/// What a draw would cost, before anything is drawn: the schedule from the line's accepted terms.
public struct DrawQuote: Sendable, Equatable {
    public var amount: Int
    public var plan: Terms.Plan?
    public var instalments: [Schedule.Instalment]
    public var totalFees: Int { instalments.reduce(0) { $0 + $1.fee } }
    /// Everything the customer pays back: the amount and every fee.
    public var totalCost: Int { amount + totalFees }

    /// Only a line with accepted terms is quoted (409 `invalid-transition`); the amount and plan
    /// are checked as a draw checks them.
    /// `maxAmount` is the largest line there can be: no draw is ever larger.
    public static func make(terms: Terms.TierTerms?, amount: Int, planMonths: Int?, today: CivilDate,
                            maxAmount: Int, aprCapBps: Int = CostCap.defaultBps) throws(DomainError) -> DrawQuote
    {
        guard let terms else {
            throw DomainError(.conflict, code: .invalidTransition, "Only an opened line has terms to quote from.")
        }
        guard (1...maxAmount).contains(amount) else {
            throw DomainError(.invalid, code: .invalidAmount, "amount must be a whole number of fen, 1 to \(maxAmount).",
                              field: "amount")
        }
        let plan = try DrawRules.plan(months: planMonths, of: terms.instalmentPlans)
        try CostCap.require(plan, capBps: aprCapBps)
        return DrawQuote(amount: amount, plan: plan, instalments: Schedule.make(
            amount: amount, drawnOn: today, plan: plan, interestFreeDays: terms.interestFreeDays))
    }
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
        /// The cost cap (README "The cost cap"): no plan above it is charged.
        public var aprCapBps: Int

        public init(customerSelected: Bool, status: AccountStatus, creditLineConsentActive: Bool,
                    delinquency: Delinquency, amount: Int, planMonths: Int?, plans: [Terms.Plan], availableCredit: Int,
                    aprCapBps: Int = CostCap.defaultBps)
        {
            self.aprCapBps = aprCapBps
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
        try requireSelected(facts.customerSelected)
        guard facts.status == .active else {
            throw DomainError(.conflict, code: .invalidTransition,
                              "Only an active line takes draws; this one is \(facts.status.rawValue).")
        }
        guard facts.creditLineConsentActive else {
            throw DomainError(.conflict, code: .consentRequired, "A draw needs an active credit_line consent.")
        }
        guard facts.delinquency < .dpd31To60 else {
            throw DomainError(.conflict, code: .lineDelinquent,
                              "The line is \(facts.delinquency.rawValue): repay what is overdue before drawing again.")
        }
        guard facts.amount >= 1 else {
            throw DomainError(.invalid, code: .invalidAmount, "amount must be a whole number of fen, 1 or more.",
                              field: "amount")
        }
        let plan = try self.plan(months: facts.planMonths, of: facts.plans)
        try CostCap.require(plan, capBps: facts.aprCapBps)
        guard facts.amount <= facts.availableCredit else {
            throw DomainError(.invalid, code: .insufficientCredit,
                              "amount is more than the available credit (\(facts.availableCredit) fen).", field: "amount")
        }
        return plan
    }

    /// The payment twin of `consent-not-explicit`: only the customer's own choice of this line is a draw.
    public static func requireSelected(_ selected: Bool) throws(DomainError) {
        guard selected else {
            throw DomainError(.invalid, code: .drawNotSelected,
                              "customer_selected must be true: the customer chose to pay with this line.",
                              field: "customer_selected")
        }
    }

    /// The plan named by `plan_months` (nil: none asked for), or 422 `invalid-plan`.
    public static func plan(months: Int?, of plans: [Terms.Plan]) throws(DomainError) -> Terms.Plan? {
        guard let months else { return nil }
        guard let found = plans.first(where: { $0.months == months }) else {
            let offered = plans.map { String($0.months) }.joined(separator: ", ")
            throw DomainError(.invalid, code: .invalidPlan,
                              "plan_months must be one of this line's plans (\(offered.isEmpty ? "none" : offered)).",
                              field: "plan_months")
        }
        return found
    }

    /// max(0, limit − balance): a limit lowered below the balance leaves nothing to draw, and
    /// nothing is recalled.
    public static func availableCredit(limit: Int, balance: Int) -> Int { max(0, limit - balance) }
}

/// One instalment as the ledger holds it: what it was and what has been paid or waived.
public struct InstalmentState: Sendable, Equatable {
    public var id: String
    public var due: CivilDate
    public var principal: Int
    public var fee: Int
    public var principalPaid: Int
    public var feePaid: Int
    public var feeWaived: Int

    public init(id: String, due: CivilDate, principal: Int, fee: Int, principalPaid: Int = 0, feePaid: Int = 0,
                feeWaived: Int = 0)
    {
        (self.id, self.due, self.principal, self.fee) = (id, due, principal, fee)
        (self.principalPaid, self.feePaid, self.feeWaived) = (principalPaid, feePaid, feeWaived)
    }

    public var principalOwed: Int { principal - principalPaid }
    public var feeOwed: Int { fee - feePaid - feeWaived }
    public var isSettled: Bool { principalOwed == 0 && feeOwed == 0 }
    /// Not fully paid and its due date has passed (an instalment due today is not yet late).
    public func isOverdue(on today: CivilDate) -> Bool { !isSettled && due < today }

    public var owed: RepaymentAllocation.Owed {
        RepaymentAllocation.Owed(instalmentID: id, due: due, fee: feeOwed, principal: principalOwed)
    }
}

/// What a line owes, summed from its instalments.
public struct LedgerPosition: Sendable, Equatable {
    public var balance: Int
    public var feesOutstanding: Int
    public var oldestUnpaidDue: CivilDate?

    public init(balance: Int, feesOutstanding: Int, oldestUnpaidDue: CivilDate?) {
        (self.balance, self.feesOutstanding, self.oldestUnpaidDue) = (balance, feesOutstanding, oldestUnpaidDue)
    }

    public init(_ instalments: [InstalmentState]) {
        balance = instalments.reduce(0) { $0 + $1.principalOwed }
        feesOutstanding = instalments.reduce(0) { $0 + $1.feeOwed }
        oldestUnpaidDue = instalments.filter { !$0.isSettled }.map(\.due).min()
    }

    /// The position after a draw: what the new schedule adds, without reading the instalments
    /// already there (a draw never changes them).
    public func adding(_ schedule: [Schedule.Instalment]) -> LedgerPosition {
        let owed = schedule.filter { $0.principal + $0.fee > 0 }
        return LedgerPosition(
            balance: balance + schedule.reduce(0) { $0 + $1.principal },
            feesOutstanding: feesOutstanding + schedule.reduce(0) { $0 + $1.fee },
            oldestUnpaidDue: (owed.map(\.due) + [oldestUnpaidDue].compactMap { $0 }).min())
    }

    /// Applies a repayment's allocation to the instalments it names.
    public static func apply(_ applied: [RepaymentAllocation.Applied], to instalments: inout [InstalmentState]) {
        for part in applied {
            guard let index = instalments.firstIndex(where: { $0.id == part.instalmentID }) else { continue }
            instalments[index].feePaid += part.fee
            instalments[index].principalPaid += part.principal
        }
    }
}
