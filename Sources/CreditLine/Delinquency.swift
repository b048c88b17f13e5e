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

/// A change of delinquency bucket, as the audit log records it.
public struct DelinquencyChange: Sendable, Equatable {
    public var from: Delinquency
    public var to: Delinquency
    public var daysPastDue: Int
    /// Entering 31 or more days past due: the customer must be told before any negative credit
    /// information about them may be reported (Credit Reporting Industry Regulation Art. 15).
    public var noticeDue: Bool { from < .dpd31To60 && to >= .dpd31To60 }

    /// The change from the recorded bucket to the one `daysPastDue` gives, or nil when it is the same.
    /// `cap`: a hardship plan in force keeps the bucket no worse than when it was approved.
    public static func between(recorded: Delinquency, daysPastDue: Int, cap: Delinquency? = nil) -> DelinquencyChange? {
        let live = HardshipRules.delinquency(live: Delinquency(daysPastDue: daysPastDue), atApproval: cap)
        return live == recorded ? nil : DelinquencyChange(from: recorded, to: live, daysPastDue: daysPastDue)
    }
}

/// The repayment behaviour a periodic review may take from the service's own ledger instead of
/// the caller's figures (`source: ledger`): the three behaviour characteristics over the twelve
/// months up to `today`.
public enum LedgerBehaviour {
    /// One instalment as history: when it was due and the day it was settled, if it was.
    public struct Record: Sendable, Equatable {
        public var due: CivilDate
        public var settledOn: CivilDate?

        public init(due: CivilDate, settledOn: CivilDate?) { (self.due, self.settledOn) = (due, settledOn) }
    }

    public struct Features: Sendable, Equatable {
        /// Instalments settled by their due date, of those due in the window; nil when none was due.
        public var onTimeRatio: Double?
        /// Instalments that went past their due date (settled late, or still unpaid and late).
        public var overdueEvents: Int
        /// The most days any of them was late.
        public var maxDaysOverdue: Int
    }

    /// The window is the 365 days up to and including `today`; an instalment counts when its due
    /// date falls inside it and has passed (one due today is not yet late, nor yet on time).
    public static func features(_ records: [Record], today: CivilDate) -> Features {
        let start = today.adding(days: -365)
        let due = records.filter { $0.due > start && $0.due < today }
        var onTime = 0
        var late = 0
        var maxDays = 0
        for record in due {
            let settled = record.settledOn ?? today
            let days = max(0, record.due.days(until: settled))
            if let paid = record.settledOn, paid <= record.due {
                onTime += 1
            } else {
                late += 1
                maxDays = max(maxDays, days)
            }
        }
        return Features(onTimeRatio: due.isEmpty ? nil : Double(onTime) / Double(due.count), overdueEvents: late,
                        maxDaysOverdue: maxDays)
    }
}
