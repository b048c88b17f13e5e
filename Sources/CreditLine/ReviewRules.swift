/// Rules for the human review queue: a customer's contest of a decision, and an operator's
/// resolution of a contest or of a tier-D activation (PIPL Art. 24: a person looks at it).
public enum ReviewRules {
    /// A contest may be opened once per decision at a time.
    public static func checkContest(decision: Decision?, openContestID: String?) throws(DomainError) -> Decision {
        let decision = try Existence.require(decision, "decision")
        if let openContestID {
            throw DomainError(.conflict, code: .reviewAlreadyOpen,
                              "Review \(openContestID) of this decision is already open.")
        }
        return decision
    }

    public struct Resolution: Sendable, Equatable {
        public var approve: Bool
        /// The limit the operator grants; nil means the customer's requested limit or the
        /// single-approver limit, whichever is lower.
        public var creditLimit: Int?
        /// Whoever resolves: the person behind the key (four eyes are two people).
        public var approver: String

        public init(approve: Bool, creditLimit: Int?, approver: String) {
            self.approve = approve
            self.creditLimit = creditLimit
            self.approver = approver
        }
    }

    public enum Verdict: Sendable, Equatable {
        /// A contest closes, upheld or rejected; no account changes.
        case contestResolved(upheld: Bool)
        /// The first of two approvals of a limit above the single-approver limit.
        case firstApproval(limit: Int)
        /// The line opens at `limit`; `secondApprover` when it took four eyes.
        case activationApproved(limit: Int, to: AccountStatus, secondApprover: Bool)
        case activationDeclined(to: AccountStatus)
    }

    /// An operator's decision on a review. Approving an activation above `singleApproverLimit`
    /// (tier D's recommendation) takes two different people for the same limit. Nobody grants more
    /// than the customer asked for (422 `above-requested-limit`): a larger line is a limit offer
    /// the customer may take. Without a request, tier D's recommendation is the ceiling.
    /// `accountStatus` is nil for a contest, which changes no account; the two consent flags say
    /// whether the account's `credit_line` and `credit_assessment` consents are in force now.
    /// The approved limit goes through the rule of ability to repay (README "Ability to repay"):
    /// by default the least of the request, tier D's recommendation and what the customer can
    /// afford (or the starter limit without an assessment); a limit named above that is refused.
    public static func resolve(_ record: ReviewRecord, accountStatus: AccountStatus?, creditLineConsentActive: Bool,
                               assessmentConsentActive: Bool, _ resolution: Resolution, singleApproverLimit: Int, policy: LimitPolicy,
                               affordability: AffordabilityAssessment?, plans: [Terms.Plan], now: Timestamp)
        throws(DomainError) -> Verdict
    {
        let review = record.review
        switch review.status {
        case .cancelled:
            throw DomainError(.conflict, code: .reviewCancelled, "This review was cancelled and cannot be resolved.")
        case .resolved:
            throw DomainError(.conflict, code: .reviewResolved, "This review is already resolved.")
        case .open:
            break
        }
        guard review.kind == .activation else { return .contestResolved(upheld: resolution.approve) }
        let status = try Existence.require(accountStatus, "account")
        // A review whose credit_line consent was withdrawn is cancelled, never resolved.
        guard creditLineConsentActive else {
            throw DomainError(.conflict, code: .reviewCancelled, "The customer's credit_line consent is no longer active.")
        }
        guard resolution.approve else {
            return .activationDeclined(to: try AccountStateMachine.transition(
                from: status, to: .declined, cause: .reviewResolution, actor: .operator))
        }
        // Approving opens a line on an assessment of ability to pay: that needs the
        // credit_assessment consent in force now (declining needs nothing).
        guard assessmentConsentActive else {
            throw DomainError(.conflict, code: .consentRequired,
                              "Approval needs the customer's credit_assessment consent in force.")
        }
        let cap = Affordability.affordableCap(affordability, plans: plans, settings: policy.affordability, now: now)
            ?? policy.affordability.starterLimit
        let limit = resolution.creditLimit ?? min(record.requestedLimit ?? singleApproverLimit, singleApproverLimit, cap)
        guard limit >= 0 else {
            throw DomainError(.invalid, code: .invalidAmount, "credit_limit must be 0 or more fen.", field: "credit_limit")
        }
        if let requested = record.requestedLimit, limit > requested {
            throw DomainError(.invalid, code: .aboveRequestedLimit,
                              "The customer asked for \(requested) fen; an approval may not grant more. Make the customer a limit offer (POST /v1/accounts/{id}/limit-offers) instead.",
                              field: "credit_limit")
        }
        guard limit <= policy.maxLimit else {
            throw DomainError(.invalid, code: .abovePolicyMax, "The policy maximum is \(policy.maxLimit) fen.",
                              field: "credit_limit")
        }
        try Affordability.requireWithin(limit, assessment: affordability, plans: plans, settings: policy.affordability,
                                        now: now, field: "credit_limit", increase: false)
        var secondApprover = false
        if limit > singleApproverLimit {
            guard let first = record.firstApprover else { return .firstApproval(limit: limit) }
            guard first != resolution.approver else {
                throw DomainError(.conflict, code: .fourEyesRequired,
                                  "A limit above \(singleApproverLimit) fen needs a second operator's approval.")
            }
            guard record.firstApprovedLimit == limit else {
                throw DomainError(.conflict, code: .fourEyesRequired,
                                  "The second approval must be for the first approver's limit, \(record.firstApprovedLimit ?? 0) fen.")
            }
            secondApprover = true
        }
        let to = try AccountStateMachine.transition(from: status, to: .active, cause: .reviewResolution, actor: .operator)
        return .activationApproved(limit: limit, to: to, secondApprover: secondApprover)
    }
}
