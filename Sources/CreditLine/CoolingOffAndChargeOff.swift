/// Withdrawal from the credit agreement within the cooling-off period (Consumer Credit Directive
/// 2008/48/EC Art. 14: 14 days).
public enum CoolingOff {
    public static func check(activatedAt: Timestamp?, now: Timestamp, days: Int) throws(DomainError) {
        // A line with no recorded opening cannot show it is inside the window.
        guard let activatedAt, now < activatedAt.adding(days: days) else {
            throw DomainError(.conflict, code: .coolingOffOver,
                              "The \(days)-day cooling-off period after activation has ended.")
        }
    }

    /// The line's new status (closed), or the first rule the cancellation breaks: only an open
    /// line (active or frozen) is cancelled, and only inside the window.
    public static func cancel(status: AccountStatus?, activatedAt: Timestamp?, now: Timestamp,
                              days: Int) throws(DomainError) -> AccountStatus
    {
        let status = try Existence.require(status, "account")
        let closed = try AccountStateMachine.transition(from: status, to: .closed, cause: .coolingOffCancellation,
                                                        actor: .service)
        try check(activatedAt: activatedAt, now: now, days: days)
        return closed
    }

    /// Every fee not yet paid is waived; principal stays due on its schedule. The fen waived.
    public static func waiveFees(_ instalments: inout [InstalmentState]) -> Int {
        var waived = 0
        for index in instalments.indices {
            let owed = instalments[index].feeOwed
            instalments[index].feeWaived += owed
            waived += owed
        }
        return waived
    }
}

/// Repayments are taken on any line that may owe something: active, frozen, closed (closing
/// stops draws, not the debt) and charged off.
public enum RepaymentRules {
    public static func check(_ status: AccountStatus?) throws(DomainError) {
        let status = try Existence.require(status, "account")
        switch status {
        case .active, .frozen, .closed, .chargedOff:
            return
        case .prospect, .pendingReview, .declined:
            throw DomainError(.conflict, code: .invalidTransition,
                              "A \(status.rawValue) account has never had a line, so there is nothing to repay.")
        }
    }
}

/// Writing off a line more than 90 days past due, approved by two different people (four eyes,
/// as for review approvals).
public enum ChargeOff {
    /// Why a line is written off: a closed list, so no free text reaches the audit chain.
    public enum ReasonCode: String, Sendable, CaseIterable, Codable {
        case prolongedNonPayment = "prolonged_non_payment"
        case insolvency
        case deceased
        case fraud
    }

    /// A first approval stands for this long at most, and only while its arrears last.
    public static let approvalLapseDays = 30

    public struct FirstApproval: Sendable, Equatable {
        public var approver: String
        public var reasonCode: ReasonCode
        public var approvedAt: Timestamp
        /// The arrears it was given for: the oldest unpaid instalment's due date then (nil for an
        /// approval recorded before episodes were kept, which never stands).
        public var episode: CivilDate?

        public init(approver: String, reasonCode: ReasonCode, approvedAt: Timestamp, episode: CivilDate?) {
            (self.approver, self.reasonCode, self.approvedAt, self.episode) = (approver, reasonCode, approvedAt, episode)
        }

        /// Whether it still stands for the arrears `episode` at `now`: the same episode (the line
        /// was not brought up to date and fell behind again since) and under 30 days old.
        public func stands(for episode: CivilDate?, at now: Timestamp) -> Bool {
            guard let mine = self.episode, mine == episode else { return false }
            return now < approvedAt.adding(days: ChargeOff.approvalLapseDays)
        }
    }

    public enum Verdict: Sendable, Equatable {
        /// Recorded; a different person must approve the same reason.
        case firstApproval
        case chargedOff(AccountStatus)
    }

    public static func check(_ delinquency: Delinquency) throws(DomainError) {
        guard delinquency == .dpd90Plus else {
            throw DomainError(.conflict, code: .notChargeOffEligible,
                              "Only a line more than 90 days past due may be charged off; this one is \(delinquency.rawValue).")
        }
    }

    /// The state table first, then eligibility (the live delinquency), then the four eyes. A first
    /// approval that no longer stands (another episode of arrears, or 30 days old) is as none:
    /// this request is a first approval again.
    public static func decide(status: AccountStatus?, delinquency: Delinquency, episode: CivilDate?, reasonCode: ReasonCode,
                              approver: String, pending: FirstApproval?, now: Timestamp) throws(DomainError) -> Verdict
    {
        let status = try Existence.require(status, "account")
        let to = try AccountStateMachine.transition(from: status, to: .chargedOff, cause: .chargeOff, actor: .operator)
        try check(delinquency)
        guard let pending, pending.stands(for: episode, at: now) else { return .firstApproval }
        guard pending.approver != approver else {
            throw DomainError(.conflict, code: .fourEyesRequired,
                              "A charge-off needs a second operator's approval; this person gave the first.")
        }
        guard pending.reasonCode == reasonCode else {
            throw DomainError(.conflict, code: .fourEyesRequired,
                              "The second approval must be for the first approver's reason, \(pending.reasonCode.rawValue).")
        }
        return .chargedOff(to)
    }
}
