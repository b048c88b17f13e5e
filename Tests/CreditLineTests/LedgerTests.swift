import TestSupport
import Testing
@testable import CreditLine

func day(_ text: String) -> CivilDate {
    let parts = text.split(separator: "-").map { Int($0)! }
    return CivilDate(year: parts[0], month: parts[1], day: parts[2])!
}

@Suite struct CivilDateTests {
    @Test(arguments: [
        ("1970-01-01", 0), ("1969-12-31", -1), ("2000-02-29", 11_016), ("2026-11-25", 20_782),
        ("1600-03-01", -135_080), ("2400-02-29", 157_113),
    ])
    func daysSinceEpoch(_ text: String, _ days: Int) {
        #expect(day(text).daysSinceEpoch == days)
        #expect(CivilDate(daysSinceEpoch: days) == day(text))
    }

    @Test func everyDayOfFourCenturiesRoundTrips() {
        for days in -146_097...146_097 {
            let date = CivilDate(daysSinceEpoch: days)
            #expect(date.daysSinceEpoch == days)
            #expect(CivilDate(year: date.year, month: date.month, day: date.day) == date)
        }
    }

    @Test(arguments: [
        ("2026-01-31", 1, "2026-02-28"), ("2024-01-31", 1, "2024-02-29"), ("2026-03-31", 1, "2026-04-30"),
        ("2026-12-15", 1, "2027-01-15"), ("2023-11-30", 3, "2024-02-29"), ("2100-01-29", 1, "2100-02-28"),
        ("2000-01-30", 1, "2000-02-29"), ("2026-08-31", 12, "2027-08-31"), ("2026-01-15", -1, "2025-12-15"),
    ])
    func addingMonthsClampsToTheMonthsLastDay(_ from: String, _ months: Int, _ expected: String) {
        #expect(day(from).adding(months: months) == day(expected))
    }

    @Test func invalidDatesAreRefused() {
        #expect(CivilDate(year: 2026, month: 2, day: 29) == nil)
        #expect(CivilDate(year: 2026, month: 13, day: 1) == nil)
        #expect(CivilDate(year: 2026, month: 4, day: 31) == nil)
        #expect(CivilDate(year: 2000, month: 2, day: 29) != nil)
        #expect(CivilDate(year: 1900, month: 2, day: 29) == nil)
    }

    @Test func aMomentFallsOnItsUTCDay() {
        #expect(CivilDate(Timestamp(rfc3339: "2026-11-25T23:59:59.999Z")!) == day("2026-11-25"))
        #expect(CivilDate(Timestamp(rfc3339: "2026-11-26T00:00:00.000Z")!) == day("2026-11-26"))
        #expect(CivilDate(Timestamp(rfc3339: "1969-12-31T23:00:00.000Z")!) == day("1969-12-31"))
    }
}

@Suite struct ScheduleTests {
    static func plan(_ months: Int, _ bps: Int) -> Terms.Plan { Terms.Plan(months: months, monthlyFeeBps: bps) }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var amount: Int
        var drawn: String
        var plan: Terms.Plan?
        var expected: [(String, Int, Int)]
        var testDescription: String { name }
    }

    @Test(arguments: [
        Case(name: "no plan: one instalment after the interest-free days, no fee", amount: 10_000, drawn: "2026-11-25",
             plan: nil, expected: [("2026-12-25", 10_000, 0)]),
        Case(name: "three months, the remainder on the first", amount: 10_001, drawn: "2026-11-25", plan: plan(3, 50),
             expected: [("2026-12-25", 3_335, 50), ("2027-01-25", 3_333, 50), ("2027-02-25", 3_333, 50)]),
        Case(name: "drawn on the 31st: month ends", amount: 30_000, drawn: "2026-01-31", plan: plan(3, 45),
             expected: [("2026-02-28", 10_000, 135), ("2026-03-31", 10_000, 135), ("2026-04-30", 10_000, 135)]),
        Case(name: "leap year", amount: 600, drawn: "2024-01-30", plan: plan(2, 0),
             expected: [("2024-02-29", 300, 0), ("2024-03-30", 300, 0)]),
        Case(name: "fees round down", amount: 199, drawn: "2026-11-25", plan: plan(1, 50),
             expected: [("2026-12-25", 199, 0)]),
        Case(name: "more months than fen", amount: 2, drawn: "2026-11-25", plan: plan(3, 0),
             expected: [("2026-12-25", 2, 0), ("2027-01-25", 0, 0), ("2027-02-25", 0, 0)]),
    ])
    func schedules(_ c: Case) {
        let made = Schedule.make(amount: c.amount, drawnOn: day(c.drawn), plan: c.plan, interestFreeDays: 30)
        #expect(made.map { "\($0.due) \($0.principal) \($0.fee)" } == c.expected.map { "\($0.0) \($0.1) \($0.2)" })
        #expect(made.map(\.number) == Array(1...c.expected.count))
    }

    @Test(arguments: [(0, 50, 0), (199, 50, 0), (200, 50, 1), (5_000_000, 75, 37_500), (9_999, 10_000, 9_999),
                      (Int.max / 10_000, 10_000, Int.max / 10_000)])
    func feeIsTheFloorOfAmountTimesBps(_ amount: Int, _ bps: Int, _ expected: Int) {
        #expect(Schedule.fee(amount: amount, bps: bps) == expected)
    }

    /// Over random draws: the principal adds up to the amount exactly, no instalment is
    /// negative, dues strictly increase, every fee is the formula's.
    @Test func randomSchedulesAddUp() {
        var random = SeededRandom(seed: 14)
        for _ in 0..<5_000 {
            let amount = Int.random(in: 1...5_000_000, using: &random)
            let months = Int.random(in: 0...24, using: &random)
            let bps = Int.random(in: 0...200, using: &random)
            let drawn = CivilDate(daysSinceEpoch: Int.random(in: 0...40_000, using: &random))
            let made = Schedule.make(amount: amount, drawnOn: drawn, plan: months == 0 ? nil : Self.plan(months, bps),
                                     interestFreeDays: 30)
            #expect(made.reduce(0) { $0 + $1.principal } == amount)
            #expect(made.allSatisfy { $0.principal >= 0 && $0.fee >= 0 })
            #expect(zip(made, made.dropFirst()).allSatisfy { $0.due < $1.due })
            #expect(made.allSatisfy { $0.fee == (months == 0 ? 0 : amount * bps / 10_000) })
            #expect(made.allSatisfy { drawn < $0.due })
        }
    }
}

@Suite struct RepaymentAllocationTests {
    static let owed = [
        RepaymentAllocation.Owed(instalmentID: "i2", due: day("2026-12-25"), fee: 50, principal: 100),
        RepaymentAllocation.Owed(instalmentID: "i1", due: day("2026-11-25"), fee: 50, principal: 100),
        RepaymentAllocation.Owed(instalmentID: "i3", due: day("2027-01-25"), fee: 50, principal: 100),
    ]

    @Test(arguments: [
        (30, "i1 30/0"),
        (120, "i1 50/70"),
        (150, "i1 50/100"),
        (170, "i1 50/100, i2 20/0"),
        (450, "i1 50/100, i2 50/100, i3 50/100"),
        (451, "overpayment amount"),
        (0, "invalid-amount amount"),
        (-5, "invalid-amount amount"),
    ])
    func oldestFirstFeeBeforePrincipal(_ amount: Int, _ expected: String) {
        #expect(verdict({ () throws(DomainError) in try RepaymentAllocation.allocate(amount, to: Self.owed) }) {
            $0.map { "\($0.instalmentID) \($0.fee)/\($0.principal)" }.joined(separator: ", ")
        } == expected)
    }

    @Test func paidInstalmentsAreSkipped() throws {
        let owed = [RepaymentAllocation.Owed(instalmentID: "paid", due: day("2026-10-01"), fee: 0, principal: 0)]
            + Self.owed
        let applied = try RepaymentAllocation.allocate(60, to: owed)
        #expect(applied == [RepaymentAllocation.Applied(instalmentID: "i1", fee: 50, principal: 10)])
    }

    /// Over random ledgers and repayments: nothing is lost or created, no instalment receives
    /// more than it owes, an instalment's principal is paid only after its fee, and no
    /// instalment receives anything while an earlier one still owes.
    @Test func randomRepaymentsAreAppliedExactly() throws {
        var random = SeededRandom(seed: 9)
        for _ in 0..<5_000 {
            let count = Int.random(in: 1...12, using: &random)
            let start = Int.random(in: 0...30_000, using: &random)
            let owed = (0..<count).map { index in
                RepaymentAllocation.Owed(instalmentID: "i\(index)", due: CivilDate(daysSinceEpoch: start + 30 * index),
                                         fee: Int.random(in: 0...500, using: &random),
                                         principal: Int.random(in: 0...100_000, using: &random))
            }.shuffled(using: &random)
            let total = owed.reduce(0) { $0 + $1.fee + $1.principal }
            guard total > 0 else { continue }
            let amount = Int.random(in: 1...total, using: &random)
            let applied = try RepaymentAllocation.allocate(amount, to: owed)
            #expect(applied.reduce(0) { $0 + $1.fee + $1.principal } == amount)
            let byID = Dictionary(uniqueKeysWithValues: owed.map { ($0.instalmentID, $0) })
            for part in applied {
                let instalment = try #require(byID[part.instalmentID])
                #expect(part.fee <= instalment.fee && part.principal <= instalment.principal)
                #expect(part.principal == 0 || part.fee == instalment.fee)
            }
            #expect(Set(applied.map(\.instalmentID)).count == applied.count, "an instalment paid twice")
            let ordered = owed.sorted { $0.due < $1.due }
            let paid = Dictionary(uniqueKeysWithValues: applied.map { ($0.instalmentID, $0.fee + $0.principal) })
            for (earlier, later) in zip(ordered, ordered.dropFirst()) where (paid[later.instalmentID] ?? 0) > 0 {
                #expect(paid[earlier.instalmentID] ?? 0 == earlier.fee + earlier.principal)
            }
        }
    }
}

@Suite struct DelinquencyTests {
    @Test(arguments: [(0, Delinquency.current), (-3, .current), (1, .dpd1To30), (30, .dpd1To30), (31, .dpd31To60),
                      (60, .dpd31To60), (61, .dpd61To90), (90, .dpd61To90), (91, .dpd90Plus), (4_000, .dpd90Plus)])
    func buckets(_ days: Int, _ bucket: Delinquency) {
        #expect(Delinquency(daysPastDue: days) == bucket)
    }

    @Test(arguments: [(nil, "2026-11-25", 0), ("2026-11-25", "2026-11-25", 0), ("2026-11-25", "2026-11-26", 1),
                      ("2026-11-25", "2026-10-01", 0), ("2026-01-31", "2026-03-02", 30)] as [(String?, String, Int)])
    func daysPastDue(_ due: String?, _ today: String, _ expected: Int) {
        #expect(Delinquency.daysPastDue(oldestUnpaidDue: due.map(day), today: day(today)) == expected)
    }

    @Test func bucketsAreOrdered() {
        #expect(Delinquency.allCases.sorted() == Delinquency.allCases)
        #expect(Delinquency.dpd1To30 < .dpd31To60)
    }
}

@Suite struct DrawRulesTests {
    static func facts(selected: Bool = true, status: AccountStatus = .active, consent: Bool = true,
                      delinquency: Delinquency = .current, amount: Int = 1_000, plan: Int? = nil,
                      available: Int = 10_000) -> DrawRules.Facts
    {
        DrawRules.Facts(customerSelected: selected, status: status, creditLineConsentActive: consent,
                        delinquency: delinquency, amount: amount, planMonths: plan,
                        plans: [Terms.Plan(months: 3, monthlyFeeBps: 50), Terms.Plan(months: 6, monthlyFeeBps: 55)],
                        availableCredit: available)
    }

    @Test(arguments: [
        ("a chosen draw within the credit", facts(), "one instalment"),
        ("a plan the tier offers", facts(plan: 6), "6 months"),
        ("the whole available credit", facts(amount: 10_000), "one instalment"),
        ("dpd_1_30 may still draw", facts(delinquency: .dpd1To30), "one instalment"),
        ("not chosen by the customer, whatever else", facts(selected: false, status: .frozen), "draw-not-selected customer_selected"),
        ("a frozen line", facts(status: .frozen, consent: false), "invalid-transition"),
        ("a closed line", facts(status: .closed), "invalid-transition"),
        ("no credit_line consent", facts(consent: false, delinquency: .dpd90Plus), "consent-required"),
        ("31 days late", facts(delinquency: .dpd31To60, amount: 0), "line-delinquent"),
        ("90+ days late", facts(delinquency: .dpd90Plus), "line-delinquent"),
        ("zero fen", facts(amount: 0, plan: 5), "invalid-amount amount"),
        ("a plan the tier does not offer", facts(amount: 20_000, plan: 5), "invalid-plan plan_months"),
        ("more than available", facts(amount: 10_001), "insufficient-credit amount"),
    ])
    func refusalsInOrder(_ name: String, _ facts: DrawRules.Facts, _ expected: String) {
        #expect(verdict({ () throws(DomainError) in try DrawRules.check(facts) }) {
            $0.map { "\($0.months) months" } ?? "one instalment"
        } == expected, "\(name)")
    }

    @Test(arguments: [(100_000, 0, 100_000), (100_000, 100_000, 0), (50_000, 80_000, 0), (0, 0, 0)])
    func availableCreditNeverGoesBelowZero(_ limit: Int, _ balance: Int, _ expected: Int) {
        #expect(DrawRules.availableCredit(limit: limit, balance: balance) == expected)
    }

    @Test func coolingOffAndChargeOff() {
        let activated = Fixtures.now
        #expect(verdict({ () throws(DomainError) in
            try CoolingOff.check(activatedAt: activated, now: activated.adding(days: 13), days: 14)
        }) == "ok")
        #expect(verdict({ () throws(DomainError) in
            try CoolingOff.check(activatedAt: activated, now: activated.adding(days: 14), days: 14)
        }) == "cooling-off-over")
        #expect(verdict({ () throws(DomainError) in try ChargeOff.check(.dpd90Plus) }) == "ok")
        for bucket in Delinquency.allCases where bucket != .dpd90Plus {
            #expect(verdict({ () throws(DomainError) in try ChargeOff.check(bucket) }) == "not-charge-off-eligible")
        }
    }
}

/// Cancellation, repayment and charge-off as tables over every status (README "The line in use").
@Suite struct LineEndingRulesTests {
    @Test(arguments: AccountStatus.allCases)
    func cancellationWithinTheWindowFromAnOpenLineOnly(status: AccountStatus) {
        let activated = Fixtures.now
        for (days, inside) in [(0, true), (13, true), (14, false), (400, false)] {
            let result = verdict({ () throws(DomainError) in
                try CoolingOff.cancel(status: status, activatedAt: activated, now: activated.adding(days: days), days: 14)
            }, { $0.rawValue })
            let expected = [.active, .frozen].contains(status) ? (inside ? "closed" : "cooling-off-over") : "invalid-transition"
            #expect(result == expected, "\(status) after \(days) days")
        }
        #expect(verdict({ () throws(DomainError) in
            try CoolingOff.cancel(status: .active, activatedAt: nil, now: activated, days: 14)
        }, { $0.rawValue }) == "cooling-off-over")
        #expect(verdict({ () throws(DomainError) in
            try CoolingOff.cancel(status: nil, activatedAt: activated, now: activated, days: 14)
        }, { $0.rawValue }) == "not-found")
    }

    @Test(arguments: AccountStatus.allCases)
    func repaymentsOnEveryLineThatCanOwe(status: AccountStatus) {
        let result = verdict { () throws(DomainError) in try RepaymentRules.check(status) }
        #expect(result == ([.active, .frozen, .closed, .chargedOff].contains(status) ? "ok" : "invalid-transition"))
    }

    @Test(arguments: AccountStatus.allCases)
    func chargeOffNeedsTheStateNinetyDaysAndTwoPeople(status: AccountStatus) {
        let open = [AccountStatus.active, .frozen, .closed].contains(status)
        let episode = CivilDate(Fixtures.now.adding(days: -95))
        func decide(_ bucket: Delinquency, _ pending: ChargeOff.FirstApproval?, by approver: String = "bo",
                    reason: ChargeOff.ReasonCode = .fraud) -> String
        {
            verdict({ () throws(DomainError) in
                try ChargeOff.decide(status: status, delinquency: bucket, episode: episode, reasonCode: reason,
                                     approver: approver, pending: pending, now: Fixtures.now)
            }, { verdict in
                switch verdict {
                case .firstApproval: return "first"
                case .chargedOff(let to): return to.rawValue
                }
            })
        }
        for bucket in Delinquency.allCases {
            let expected = !open ? "invalid-transition" : bucket == .dpd90Plus ? "first" : "not-charge-off-eligible"
            #expect(decide(bucket, nil) == expected, "\(status) \(bucket)")
        }
        let first = ChargeOff.FirstApproval(approver: "ann", reasonCode: .fraud, approvedAt: Fixtures.now.adding(days: -1),
                                            episode: episode)
        #expect(decide(.dpd90Plus, first) == (open ? "charged_off" : "invalid-transition"))
        #expect(decide(.dpd90Plus, first, by: "ann") == (open ? "four-eyes-required" : "invalid-transition"))
        #expect(decide(.dpd90Plus, first, reason: .deceased) == (open ? "four-eyes-required" : "invalid-transition"))
    }

    /// A first approval belongs to its episode of arrears and lapses after 30 days (README "The line
    /// in use"): repaid and behind again, or a month on, the next request is a first approval.
    @Test(arguments: [
        ("same episode, a day old", 0, 1, "charged_off"),
        ("same episode, 29 days old", 0, 29, "charged_off"),
        ("same episode, 30 days old", 0, 30, "first"),
        ("same episode, 125 days old", 0, 125, "first"),
        ("another episode (repaid, behind again)", 40, 1, "first"),
        ("an earlier episode", -10, 1, "first"),
    ])
    func aFirstApprovalLapses(label: String, episodeShift: Int, age: Int, expected: String) {
        let episode = CivilDate(Fixtures.now.adding(days: -95))
        let given = CivilDate(Fixtures.now.adding(days: -95 + episodeShift))
        let first = ChargeOff.FirstApproval(approver: "ann", reasonCode: .fraud, approvedAt: Fixtures.now.adding(days: -age),
                                            episode: given)
        let result = verdict({ () throws(DomainError) in
            try ChargeOff.decide(status: .active, delinquency: .dpd90Plus, episode: episode, reasonCode: .fraud,
                                 approver: "bo", pending: first, now: Fixtures.now)
        }, { verdict in
            switch verdict {
            case .firstApproval: return "first"
            case .chargedOff(let to): return to.rawValue
            }
        })
        #expect(result == expected, "\(label)")
        // One recorded before episodes were kept never stands.
        let unknown = ChargeOff.FirstApproval(approver: "ann", reasonCode: .fraud, approvedAt: Fixtures.now, episode: nil)
        #expect(!unknown.stands(for: episode, at: Fixtures.now))
    }

    @Test(arguments: [
        (Delinquency.current, 31, true), (.current, 61, true), (.dpd1To30, 31, true), (.dpd1To30, 30, false),
        (.dpd31To60, 61, false), (.dpd61To90, 0, false), (.dpd90Plus, 91, false),
    ])
    func enteringThirtyOneDaysDueMeansANotice(_ recorded: Delinquency, _ days: Int, _ notice: Bool) {
        let change = DelinquencyChange.between(recorded: recorded, daysPastDue: days)
        if recorded == Delinquency(daysPastDue: days) {
            #expect(change == nil)
        } else {
            #expect(change?.to == Delinquency(daysPastDue: days))
            #expect(change?.noticeDue == notice)
        }
    }

    @Test func quotesUseTheLinesTermsAndNeverOverflow() {
        let terms = Terms.TierTerms(interestFreeDays: 30, instalmentPlans: [Terms.Plan(months: 3, monthlyFeeBps: 50)])
        let today = day("2026-01-31")
        let quote = verdict({ () throws(DomainError) in
            try DrawQuote.make(terms: terms, amount: 10_001, planMonths: 3, today: today, maxAmount: 5_000_000)
        }, { "\($0.instalments.map(\.due.description)) \($0.totalFees) \($0.totalCost)" })
        #expect(quote == #"["2026-02-28", "2026-03-31", "2026-04-30"] 150 10151"#)
        func refusal(_ terms: Terms.TierTerms?, _ amount: Int, _ plan: Int?) -> String {
            verdict { () throws(DomainError) in
                try DrawQuote.make(terms: terms, amount: amount, planMonths: plan, today: today, maxAmount: 5_000_000)
            }
        }
        #expect(refusal(nil, 100, nil) == "invalid-transition")
        #expect(refusal(terms, 0, nil) == "invalid-amount amount")
        #expect(refusal(terms, Int.max, 3) == "invalid-amount amount")
        #expect(refusal(terms, 100, 6) == "invalid-plan plan_months")
        #expect(refusal(terms, 100, nil) == "ok")
    }

    @Test(arguments: [
        ("2026-11-25", true), ("2024-02-29", true), ("2026-02-29", false), ("2026-11-5", false), ("2026/11/25", false),
        ("+026-11-25", false), ("2026-11-25T00:00:00Z", false), ("", false), ("2026-1a-25", false),
    ])
    func datesAreReadExactly(_ text: String, _ valid: Bool) {
        #expect((CivilDate(text) != nil) == valid, "\(text)")
        if valid { #expect(CivilDate(text)?.description == text) }
    }

    @Test func positionsSumWhatIsOwedAndWaivingLeavesThePrincipal() {
        var instalments = [
            InstalmentState(id: "i1", due: day("2026-12-25"), principal: 100, fee: 5, principalPaid: 100, feePaid: 5),
            InstalmentState(id: "i2", due: day("2027-01-25"), principal: 100, fee: 5, principalPaid: 40, feePaid: 5),
            InstalmentState(id: "i3", due: day("2027-02-25"), principal: 100, fee: 5),
        ]
        let position = LedgerPosition(instalments)
        #expect(position.balance == 160 && position.feesOutstanding == 5 && position.oldestUnpaidDue == day("2027-01-25"))
        #expect(CoolingOff.waiveFees(&instalments) == 5)
        #expect(LedgerPosition(instalments).feesOutstanding == 0)
        #expect(LedgerPosition(instalments).balance == 160)
        #expect(instalments[1].isOverdue(on: day("2027-01-26")) && !instalments[1].isOverdue(on: day("2027-01-25")))
    }
}

/// Behaviour taken from the ledger for a periodic review, as a table.
@Suite struct LedgerBehaviourTests {
    static func record(_ due: String, _ settled: String?) -> LedgerBehaviour.Record {
        LedgerBehaviour.Record(due: day(due), settledOn: settled.map(day))
    }

    @Test(arguments: [
        ("no history", [], nil, 0, 0),
        ("paid early and on the day", [record("2026-09-10", "2026-09-01"), record("2026-10-10", "2026-10-10")], 1.0, 0, 0),
        ("paid five days late", [record("2026-09-10", "2026-09-15"), record("2026-10-10", "2026-10-01")], 0.5, 1, 5),
        ("unpaid and 15 days late today", [record("2026-11-10", nil)], 0.0, 1, 15),
        ("due today is not counted yet", [record("2026-11-25", nil)], nil, 0, 0),
        ("older than a year is not counted", [record("2025-11-20", "2026-01-01"), record("2026-06-01", "2026-06-01")], 1.0, 0, 0),
        ("the worst of several", [record("2026-03-01", "2026-03-31"), record("2026-04-01", "2026-04-03"),
                                  record("2026-05-01", "2026-05-01"), record("2026-06-01", nil)], 0.25, 3, 177),
    ] as [(String, [LedgerBehaviour.Record], Double?, Int, Int)])
    func features(_ name: String, _ records: [LedgerBehaviour.Record], _ ratio: Double?, _ events: Int, _ days: Int) {
        let features = LedgerBehaviour.features(records, today: day("2026-11-25"))
        #expect(features.onTimeRatio == ratio, "\(name)")
        #expect(features.overdueEvents == events, "\(name)")
        #expect(features.maxDaysOverdue == days, "\(name)")
    }
}
