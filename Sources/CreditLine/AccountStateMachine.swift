/// What moves an account from one state to another (README "Accounts", the state table).
/// Why a limit changed, when it was not an operator's or the customer's request: carried in the
/// `limit.adjusted` entry's `cause`, read back by the notice rules.
public enum LimitChangeCause: String, Sendable, CaseIterable {
    /// A periodic review lowered the limit.
    case periodicReview = "periodic_review"
    /// The customer accepted an offer.
    case limitOffer = "limit_offer"

    public var json: JSONValue { .string(rawValue) }

    /// The cause an entry's detail names, if it names one this enum knows.
    public static func of(_ detail: [String: JSONValue]) -> LimitChangeCause? {
        detail["cause"]?.stringValue.flatMap(LimitChangeCause.init(rawValue:))
    }
}

public enum AccountTransitionCause: String, Sendable, CaseIterable {
    /// The customer's activation request, decided by the score's tier.
    case activation
    /// An operator resolving an activation review.
    case reviewResolution = "review_resolution"
    /// The `credit_line` consent withdrawn (PIPL Art. 15).
    case consentWithdrawal = "consent_withdrawal"
    /// A consent that lapsed: the same effects as its withdrawal, applied by the expiry sweep.
    case consentExpiry = "consent_expiry"
    case operatorFreeze = "operator_freeze"
    /// A periodic portfolio review that scores the account at tier E.
    case periodicReview = "periodic_review"
    case operatorUnfreeze = "operator_unfreeze"
    case operatorClosure = "operator_closure"
    /// The customer withdrawing from the agreement within the cooling-off period (Consumer
    /// Credit Directive 2008/48/EC Art. 14).
    case coolingOffCancellation = "cooling_off_cancellation"

    public var json: JSONValue { .string(rawValue) }

    /// The cause an entry's detail names, if it names one this enum knows.
    public static func of(_ detail: [String: JSONValue]) -> AccountTransitionCause? {
        detail["cause"]?.stringValue.flatMap(AccountTransitionCause.init(rawValue:))
    }
    /// Two operators writing off a line more than 90 days past due.
    case chargeOff = "charge_off"
}

/// Who may make a transition: a calling service, an operator, or the system itself.
public enum TransitionActor: String, Sendable {
    case service, `operator`, system
}

/// The account lifecycle as a table; anything not in it is 409 `invalid-transition`.
public enum AccountStateMachine {
    public struct Rule: Sendable, Equatable {
        public var from: AccountStatus
        public var to: AccountStatus
        public var cause: AccountTransitionCause
        public var actor: TransitionActor
    }

    public static let rules: [Rule] = {
        var rules: [Rule] = []
        // prospect, or declined after its cool-off → active / pending_review / declined, by tier.
        for from in [AccountStatus.prospect, .declined] {
            for to in [AccountStatus.active, .pendingReview, .declined] {
                rules.append(Rule(from: from, to: to, cause: .activation, actor: .service))
            }
        }
        rules += [
            Rule(from: .pendingReview, to: .active, cause: .reviewResolution, actor: .operator),
            Rule(from: .pendingReview, to: .declined, cause: .reviewResolution, actor: .operator),
            // The review is cancelled: without consent there is nothing to decide.
            Rule(from: .pendingReview, to: .prospect, cause: .consentWithdrawal, actor: .service),
            Rule(from: .active, to: .frozen, cause: .consentWithdrawal, actor: .service),
            Rule(from: .pendingReview, to: .prospect, cause: .consentExpiry, actor: .system),
            Rule(from: .active, to: .frozen, cause: .consentExpiry, actor: .system),
            Rule(from: .active, to: .frozen, cause: .operatorFreeze, actor: .operator),
            Rule(from: .active, to: .frozen, cause: .periodicReview, actor: .system),
            // Unfreezing also needs an active credit_line consent; that is checked by the caller,
            // since the table knows states, not consents.
            Rule(from: .frozen, to: .active, cause: .operatorUnfreeze, actor: .operator),
            Rule(from: .active, to: .closed, cause: .operatorClosure, actor: .operator),
            Rule(from: .frozen, to: .closed, cause: .operatorClosure, actor: .operator),
            Rule(from: .active, to: .closed, cause: .coolingOffCancellation, actor: .service),
            Rule(from: .frozen, to: .closed, cause: .coolingOffCancellation, actor: .service),
            // A closed line can still owe: closing stops draws, not the debt.
            Rule(from: .active, to: .chargedOff, cause: .chargeOff, actor: .operator),
            Rule(from: .frozen, to: .chargedOff, cause: .chargeOff, actor: .operator),
            Rule(from: .closed, to: .chargedOff, cause: .chargeOff, actor: .operator),
        ]
        return rules
    }()

    public static func isAllowed(from: AccountStatus, to: AccountStatus, cause: AccountTransitionCause,
                                 actor: TransitionActor) -> Bool
    {
        rules.contains(Rule(from: from, to: to, cause: cause, actor: actor))
    }

    /// The new status, or 409 `invalid-transition` naming both states.
    public static func transition(from: AccountStatus, to: AccountStatus, cause: AccountTransitionCause,
                                  actor: TransitionActor) throws(DomainError) -> AccountStatus
    {
        guard isAllowed(from: from, to: to, cause: cause, actor: actor) else {
            throw DomainError(.conflict, code: .invalidTransition,
                              "An account cannot go from \(from.rawValue) to \(to.rawValue) by \(cause.rawValue).")
        }
        return to
    }
}
