import CreditLine
import Testing

/// Hardship plans' rules (README "Hardship plans"), each at its boundary.
@Suite struct HardshipRulesTests {
    static let now = Fixtures.now
    static let today = CivilDate(Fixtures.now)

    static func code(_ body: () throws(DomainError) -> Void) -> String {
        do { try body(); return "ok" } catch { return error.code.rawValue + (error.field.map { " " + $0 } ?? "") }
    }

    @Test(arguments: [
        ("payment_holiday", 1, "ok"), ("payment_holiday", 3, "ok"), ("payment_holiday", 0, "invalid-field months"),
        ("payment_holiday", 4, "invalid-field months"), ("restructure", 3, "ok"), ("restructure", 24, "ok"),
        ("restructure", 2, "invalid-field months"), ("restructure", 25, "invalid-field months"),
        ("forgiveness", 3, "invalid-field kind"),
    ])
    func aRequestsKindAndMonths(_ kind: String, _ months: Int, _ expected: String) {
        #expect(Self.code { () throws(DomainError) in _ = try HardshipRules.validate(kind: kind, months: months) } == expected)
    }

    @Test(arguments: [
        (AccountStatus.active, true, nil, nil, "ok"),
        (.frozen, true, nil, nil, "ok"),
        (.closed, true, nil, nil, "account-closed"),
        (.prospect, true, nil, nil, "invalid-transition"),
        (.active, false, nil, nil, "nothing-owed"),
        (.active, true, "hsr_1", nil, "hardship-pending"),
        (.active, true, nil, Optional(-364), "hardship-too-soon"),
        (.active, true, nil, Optional(-365), "ok"),  // 12 months after the last approval
    ] as [(AccountStatus, Bool, String?, Int?, String)])
    func whoMayAsk(_ status: AccountStatus, _ owes: Bool, _ pending: String?, _ lastDays: Int?, _ expected: String) {
        #expect(Self.code { () throws(DomainError) in
            try HardshipRules.checkRequest(accountStatus: status, owes: owes, pendingID: pending,
                                           lastApprovedAt: lastDays.map { Self.now.adding(days: $0) }, now: Self.now)
        } == expected)
    }

    @Test func aHolidayMovesEveryUnpaidInstalmentAndNothingElse() {
        let paid = InstalmentState(id: "i1", due: Self.today.adding(days: -40), principal: 100, fee: 5, principalPaid: 100, feePaid: 5)
        let late = InstalmentState(id: "i2", due: Self.today.adding(days: -10), principal: 100, fee: 5)
        let coming = InstalmentState(id: "i3", due: CivilDate("2026-01-31")!, principal: 100, fee: 5)
        let moved = HardshipRules.holiday([paid, late, coming], months: 2)
        #expect(moved[0] == paid)
        #expect(moved[1].due == late.due.adding(months: 2) && moved[1].principal == 100 && moved[1].fee == 5)
        #expect(moved[2].due == CivilDate("2026-03-31")!, "the month's last day when it is shorter")
    }

    @Test(arguments: [
        // months, cheapest plan, fee
        (12, Optional(Terms.Plan(months: 3, monthlyFeeBps: 0)), 0),  // a free plan: a free restructure
        (3, Optional(Terms.Plan(months: 3, monthlyFeeBps: 50)), 50),  // the same months: the plan's own fee
        (24, Optional(Terms.Plan(months: 6, monthlyFeeBps: 45)), 0),  // found below the plan's rate
        (6, nil, 0),
    ] as [(Int, Terms.Plan?, Int)])
    func aRestructureCostsNoMoreThanTheCheapestPlan(_ months: Int, _ cheapest: Terms.Plan?, _ floor: Int) {
        let fee = HardshipRules.restructureFeeBps(months: months, cheapest: cheapest)
        #expect(fee >= floor && fee <= (cheapest?.monthlyFeeBps ?? 0))
        if let cheapest {
            #expect(AnnualRate.nominalBps(monthlyFeeBps: fee, months: months) <= cheapest.aprBps)
            #expect(fee == cheapest.monthlyFeeBps || AnnualRate.nominalBps(monthlyFeeBps: fee + 1, months: months) > cheapest.aprBps,
                    "the highest fee that fits")
        }
    }

    @Test func aRestructureSpreadsWhatIsOwed() {
        let schedule = HardshipRules.restructure(principal: 100_001, fees: 1_003, months: 4, feeBps: 10, today: Self.today)
        #expect(schedule.count == 4)
        #expect(schedule.reduce(0) { $0 + $1.principal } == 100_001, "every fen of principal, no more")
        #expect(schedule.reduce(0) { $0 + $1.fee } == 4 * 100 + 1_003, "the unpaid fees plus the restructure's own")
        #expect(schedule.map(\.due) == (1...4).map { Self.today.adding(months: $0) })
    }

    @Test(arguments: [(29, false), (30, true), (45, true)])
    func aPlanBreaksAtThirtyDaysLate(_ daysLate: Int, _ broken: Bool) {
        let approved = Self.today.adding(days: -100)
        let due = Self.today.adding(days: -daysLate)
        let instalment = InstalmentState(id: "i", due: due, principal: 100, fee: 0)
        #expect(HardshipRules.isBroken([instalment], approvedOn: approved, today: Self.today) == broken)
        // Paid, or due before the plan: not the plan's.
        #expect(!HardshipRules.isBroken([InstalmentState(id: "i", due: due, principal: 100, fee: 0, principalPaid: 100)],
                                         approvedOn: approved, today: Self.today))
        #expect(!HardshipRules.isBroken([instalment], approvedOn: due.adding(days: 1), today: Self.today))
    }

    @Test(arguments: [
        (Delinquency.dpd1To30, Optional(Delinquency.current), Delinquency.current),
        (.dpd31To60, Optional(.dpd1To30), .dpd1To30),
        (.current, Optional(.dpd31To60), .current),
        (.dpd61To90, nil, .dpd61To90),
    ] as [(Delinquency, Delinquency?, Delinquency)])
    func delinquencyDoesNotWorsenUnderAPlan(_ live: Delinquency, _ atApproval: Delinquency?, _ shown: Delinquency) {
        #expect(HardshipRules.delinquency(live: live, atApproval: atApproval) == shown)
    }
}
