import CreditLine
import Testing

/// Credit reporting's rules (README "Credit reporting"), each at its boundary.
@Suite struct BureauRulesTests {
    static let now = Fixtures.now
    static let episode = CivilDate(Fixtures.now).adding(days: -40)

    @Test(arguments: [
        (AccountStatus.active, 29, nil), (.active, 30, .overdue30To59), (.frozen, 59, .overdue30To59),
        (.active, 60, .overdue60To89), (.closed, 89, .overdue60To89), (.active, 90, .overdue90Plus),
        (.chargedOff, 0, .chargedOff), (.chargedOff, 200, .chargedOff),
    ] as [(AccountStatus, Int, BureauStatusCode?)])
    func whatIsNegativeInformation(_ status: AccountStatus, _ days: Int, _ code: BureauStatusCode?) {
        #expect(BureauStatusCode.of(status: status, daysPastDue: days) == code)
    }

    static func facts(days: Int = 40, owes: Bool = true, standing: BureauStatusCode? = nil, warnedDaysAgo: Int? = 8,
                      dispute: Bool = false, upheld: Bool = false, plan: Bool = false, status: AccountStatus = .active)
        -> BureauRules.Facts
    {
        BureauRules.Facts(status: status, daysPastDue: days, owes: owes, episode: owes ? episode : nil,
                          standing: standing.map { ($0, episode) },
                          warningReceivedAt: warnedDaysAgo.map { now.adding(days: -$0) }, disputeOpen: dispute,
                          disputeUpheld: upheld, hardshipPlanInForce: plan)
    }

    @Test(arguments: [
        (facts(), BureauRules.Verdict.report(.overdue30To59)),
        (facts(days: 29), .hold("not_due")),
        (facts(warnedDaysAgo: nil), .hold("not_warned")),
        (facts(warnedDaysAgo: 6), .hold("not_warned")),
        (facts(warnedDaysAgo: 7), .report(.overdue30To59)),  // exactly the notice period
        (facts(dispute: true), .hold("dispute_open")),
        (facts(plan: true), .hold("hardship_plan")),
        (facts(standing: .overdue30To59), .hold("reported")),
        (facts(days: 61, standing: .overdue30To59), .report(.overdue60To89)),  // a worse status is reported
        (facts(days: 61, standing: .overdue30To59, dispute: true), .hold("dispute_open")),
        (facts(owes: false, standing: .overdue60To89), .correct(.settled)),
        (facts(standing: .overdue30To59, upheld: true), .correct(.disputeUpheld)),
        (facts(days: 95, upheld: true), .hold("dispute_upheld")),  // nothing more of an episode whose dispute was upheld
        (facts(owes: false), .hold("not_due")),
        (facts(days: 0, standing: nil, status: .chargedOff), .report(.chargedOff)),
    ])
    func theRun(_ facts: BureauRules.Facts, _ verdict: BureauRules.Verdict) {
        #expect(BureauRules.decide(facts, now: Self.now) == verdict)
    }

    @Test func aReportsLineCarriesEveryFieldAndNoFreeText() {
        let report = BureauReport(id: "bur_1", accountID: "acc_1", customerRef: "cust-1", kind: .correction,
                                  reportDate: CivilDate("2026-03-01")!, statusCode: .overdue30To59, reason: .settled,
                                  corrects: "bur_0", daysPastDue: 0, oldestUnpaidDue: nil, amountOverdue: 0, balance: 0,
                                  feesOutstanding: 0, reportedAt: Self.now)
        #expect(report.json.canonicalJSON.hasPrefix(#"{"account_id":"acc_1","amount_overdue":0,"balance":0,"corrects":"bur_0","#))
        guard case .object(let fields) = report.json else { return }
        #expect(Set(fields.keys) == ["id", "record_type", "account_id", "customer_ref", "report_date", "status_code", "reason",
                                     "corrects", "days_past_due", "oldest_unpaid_due", "amount_overdue", "balance",
                                     "fees_outstanding", "currency", "reported_at"])
        #expect(report.fact.auditDetail["customer_ref"] == nil, "the chain holds figures, never the customer's reference")
    }
}
