import Testing
@testable import CreditLine

/// Every (from, to, cause, actor) combination against the README's state table, written out again
/// here independently of the implementation's table.
@Suite struct AccountStateMachineTests {
    typealias S = AccountStatus
    static let allowed: Set<String> = [
        "prospect>active:activation:service", "prospect>pending_review:activation:service",
        "prospect>declined:activation:service", "declined>active:activation:service",
        "declined>pending_review:activation:service", "declined>declined:activation:service",
        "pending_review>active:review_resolution:operator", "pending_review>declined:review_resolution:operator",
        "pending_review>prospect:consent_withdrawal:service",
        "active>frozen:consent_withdrawal:service", "active>frozen:operator_freeze:operator",
        "pending_review>prospect:consent_expiry:system", "active>frozen:consent_expiry:system",
        "active>frozen:periodic_review:system", "frozen>active:operator_unfreeze:operator",
        "active>closed:operator_closure:operator", "frozen>closed:operator_closure:operator",
        "active>closed:cooling_off_cancellation:service", "frozen>closed:cooling_off_cancellation:service",
        "active>charged_off:charge_off:operator", "frozen>charged_off:charge_off:operator",
        "closed>charged_off:charge_off:operator",
    ]

    @Test func everyCombinationIsAllowedOnlyIfTheSpecSaysSo() {
        var checked = 0
        for from in S.allCases {
            for to in S.allCases {
                for cause in AccountTransitionCause.allCases {
                    for actor in [TransitionActor.service, .operator, .system] {
                        let key = "\(from.rawValue)>\(to.rawValue):\(cause.rawValue):\(actor.rawValue)"
                        #expect(AccountStateMachine.isAllowed(from: from, to: to, cause: cause, actor: actor)
                                == Self.allowed.contains(key), "\(key)")
                        checked += 1
                    }
                }
            }
        }
        #expect(checked == 7 * 7 * 10 * 3)
    }

    @Test func refusedTransitionIs409InvalidTransition() {
        #expect {
            try AccountStateMachine.transition(from: .closed, to: .active, cause: .operatorUnfreeze, actor: .operator)
        } throws: { error in
            let error = error as? DomainError
            return error?.kind == .conflict && error?.code == .invalidTransition
        }
    }

    /// A closed line can still be written off (closing stops draws, not the debt); nothing leaves
    /// charged_off.
    @Test func closedOnlyGoesToChargedOffAndChargedOffIsFinal() {
        for to in S.allCases {
            for cause in AccountTransitionCause.allCases {
                for actor in [TransitionActor.service, .operator, .system] {
                    #expect(AccountStateMachine.isAllowed(from: .closed, to: to, cause: cause, actor: actor)
                            == (to == .chargedOff && cause == .chargeOff && actor == .operator))
                    #expect(!AccountStateMachine.isAllowed(from: .chargedOff, to: to, cause: cause, actor: actor))
                }
            }
        }
    }
}
