/// Credit reporting, told first (README "Credit reporting"): negative information goes to the
/// credit bureau only after the customer was warned and the warning reached them, never while a
/// dispute or a hardship plan covers the debt, and a report that no longer holds is corrected.

/// What a report says of an account (docs/bureau-format.md).
public enum BureauStatusCode: String, Sendable, CaseIterable, Codable, Comparable {
    case overdue30To59 = "overdue_30_59"
    case overdue60To89 = "overdue_60_89"
    case overdue90Plus = "overdue_90_plus"
    case chargedOff = "charged_off"

    /// Negative information due for reporting: 30 days or more past due, or a charge-off; nil
    /// for anything less.
    public static func of(status: AccountStatus, daysPastDue: Int) -> BureauStatusCode? {
        if status == .chargedOff { return .chargedOff }
        switch daysPastDue {
        case ..<30: return nil
        case 30..<60: return .overdue30To59
        case 60..<90: return .overdue60To89
        default: return .overdue90Plus
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Why a report was corrected.
public enum BureauCorrectionReason: String, Sendable, CaseIterable, Codable {
    /// Nothing is owed any more.
    case settled
    /// An operator upheld the customer's dispute of it (README "Credit reporting", disputes).
    case disputeUpheld = "dispute_upheld"
}

public enum BureauRules {
    /// Days a `pre_report_warning` must have been reported delivered before a report (Credit
    /// Reporting Industry Regulation Art. 15: the information subject is told in advance).
    public static let defaultNoticeDays = 7

    public struct Facts: Sendable, Equatable {
        public var status: AccountStatus
        public var daysPastDue: Int
        public var owes: Bool
        /// The episode of arrears: the oldest unpaid due date (nil when nothing is owed).
        public var episode: CivilDate?
        /// The negative report that stands for the account (not yet corrected), if any.
        public var standing: (code: BureauStatusCode, episode: CivilDate?)?
        /// When the service received the report that this episode's warning was delivered.
        public var warningReceivedAt: Timestamp?
        public var disputeOpen: Bool
        /// A dispute of this episode was upheld: what stands is corrected, and nothing more of
        /// the episode is reported.
        public var disputeUpheld: Bool
        public var hardshipPlanInForce: Bool
        public var noticeDays: Int

        public init(status: AccountStatus, daysPastDue: Int, owes: Bool, episode: CivilDate?,
                    standing: (code: BureauStatusCode, episode: CivilDate?)? = nil, warningReceivedAt: Timestamp? = nil,
                    disputeOpen: Bool = false, disputeUpheld: Bool = false, hardshipPlanInForce: Bool = false,
                    noticeDays: Int = BureauRules.defaultNoticeDays)
        {
            (self.status, self.daysPastDue, self.owes, self.episode, self.standing) = (status, daysPastDue, owes, episode, standing)
            (self.warningReceivedAt, self.disputeOpen, self.disputeUpheld) = (warningReceivedAt, disputeOpen, disputeUpheld)
            (self.hardshipPlanInForce, self.noticeDays) = (hardshipPlanInForce, noticeDays)
        }

        public static func == (lhs: Facts, rhs: Facts) -> Bool {
            lhs.status == rhs.status && lhs.daysPastDue == rhs.daysPastDue && lhs.owes == rhs.owes && lhs.episode == rhs.episode
                && lhs.standing?.code == rhs.standing?.code && lhs.standing?.episode == rhs.standing?.episode
                && lhs.warningReceivedAt == rhs.warningReceivedAt && lhs.disputeOpen == rhs.disputeOpen
                && lhs.disputeUpheld == rhs.disputeUpheld && lhs.hardshipPlanInForce == rhs.hardshipPlanInForce
                && lhs.noticeDays == rhs.noticeDays
        }
    }

    public enum Verdict: Sendable, Equatable {
        case report(BureauStatusCode)
        case correct(BureauCorrectionReason)
        /// Nothing today; the reason, for tests and logs.
        case hold(String)
    }

    /// What today's run does for one account. A standing report is corrected when its dispute was
    /// upheld or nothing is owed; otherwise negative information is reported when it is due and
    /// differs from what stands, only after the warning reached the customer `noticeDays` before
    /// and never while a dispute is open or a hardship plan is in force.
    public static func decide(_ facts: Facts, now: Timestamp) -> Verdict {
        if facts.standing != nil {
            if facts.disputeUpheld { return .correct(.disputeUpheld) }
            if !facts.owes { return .correct(.settled) }
        }
        guard facts.owes, let code = BureauStatusCode.of(status: facts.status, daysPastDue: facts.daysPastDue) else {
            return .hold("not_due")
        }
        if let standing = facts.standing, standing.code == code, standing.episode == facts.episode { return .hold("reported") }
        if facts.disputeOpen { return .hold("dispute_open") }
        if facts.disputeUpheld { return .hold("dispute_upheld") }
        if facts.hardshipPlanInForce { return .hold("hardship_plan") }
        guard let received = facts.warningReceivedAt, received.adding(days: facts.noticeDays) <= now else {
            return .hold("not_warned")
        }
        return .report(code)
    }
}

/// A line of the bureau file and of `GET /v1/accounts/{id}/bureau-reports` (docs/bureau-format.md).
public struct BureauReport: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable { case negative, correction }

    public var id: String
    public var accountID: String
    public var customerRef: String
    public var kind: Kind
    public var reportDate: CivilDate
    /// A negative report's code; a correction's is the code it corrects.
    public var statusCode: BureauStatusCode
    /// A correction's reason and the report it corrects.
    public var reason: BureauCorrectionReason?
    public var corrects: String?
    public var daysPastDue: Int
    public var oldestUnpaidDue: CivilDate?
    public var amountOverdue: Int
    public var balance: Int
    public var feesOutstanding: Int
    public var reportedAt: Timestamp

    public init(id: String, accountID: String, customerRef: String, kind: Kind, reportDate: CivilDate,
                statusCode: BureauStatusCode, reason: BureauCorrectionReason? = nil, corrects: String? = nil, daysPastDue: Int,
                oldestUnpaidDue: CivilDate?, amountOverdue: Int, balance: Int, feesOutstanding: Int, reportedAt: Timestamp)
    {
        (self.id, self.accountID, self.customerRef, self.kind, self.reportDate) = (id, accountID, customerRef, kind, reportDate)
        (self.statusCode, self.reason, self.corrects, self.daysPastDue) = (statusCode, reason, corrects, daysPastDue)
        (self.oldestUnpaidDue, self.amountOverdue, self.balance) = (oldestUnpaidDue, amountOverdue, balance)
        (self.feesOutstanding, self.reportedAt) = (feesOutstanding, reportedAt)
    }

    /// The report as the file and the API carry it: every member, null where there is none.
    public var json: JSONValue {
        .object([
            "id": .string(id), "record_type": .string(kind.rawValue), "account_id": .string(accountID),
            "customer_ref": .string(customerRef), "report_date": .string(reportDate.description),
            "status_code": .string(statusCode.rawValue), "reason": reason.map { .string($0.rawValue) } ?? .null,
            "corrects": corrects.map(JSONValue.string) ?? .null, "days_past_due": .int(daysPastDue),
            "oldest_unpaid_due": oldestUnpaidDue.map { .string($0.description) } ?? .null,
            "amount_overdue": .int(amountOverdue), "balance": .int(balance), "fees_outstanding": .int(feesOutstanding),
            "currency": .string("CNY"), "reported_at": .string(reportedAt.rfc3339),
        ])
    }

    /// The audit entry's fact: the figures, never the customer's reference.
    public var fact: AccountFact {
        kind == .negative
            ? .bureauReported(reportID: id, reportDate: reportDate.description, statusCode: statusCode.rawValue,
                              daysPastDue: daysPastDue, amountOverdue: amountOverdue)
            : .bureauCorrected(reportID: id, reportDate: reportDate.description, corrects: corrects ?? "",
                               reason: reason?.rawValue ?? "")
    }
}
