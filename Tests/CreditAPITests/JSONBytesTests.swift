import CreditLine
import Foundation
import Testing
@testable import CreditAPI

/// The purpose-built writers write what `JSONEncoder` with `.sortedKeys` writes, byte for byte
/// (README "Performance"): the answers did not change when their writer did.
@Suite struct JSONBytesTests {
    static let now = Timestamp(rfc3339: "2026-12-07T10:00:00.000Z")!

    static func accounts() -> [Account] {
        var plain = Account(id: "acc_1", customerRef: "cust-1", createdAt: now, updatedAt: now)
        var full = Account(id: "acc_2", tenant: "t", customerRef: "A.b:c_d-9", status: .active, creditLimit: 123_456,
                           limitIncreaseOptOut: true, version: 42, createdAt: now, updatedAt: now.adding(days: 3))
        full.terms = Terms.TierTerms(interestFreeDays: 30, instalmentPlans: [Terms.Plan(months: 3, monthlyFeeBps: 60),
                                                                            Terms.Plan(months: 12, monthlyFeeBps: 45)])
        full.termsVersion = "2026-11"
        full.balance = 9_999
        full.feesOutstanding = 12
        full.creditBalance = 7
        full.oldestUnpaidDue = CivilDate("2026-11-01")
        full.locale = .en
        full.timeZone = "America/New_York"
        full.reminderChannels = ["app", "sms"]
        full.limitBasis = LimitBasis(limit: 100_000, binding: .affordabilityCap, tierRecommendation: 500_000,
                                     requestedLimit: nil, affordableLimit: 100_000, regulatoryCap: 20_000_000,
                                     starterLimit: 50_000)
        plain.reminderChannels = []
        var unversioned = full
        unversioned.termsVersion = nil
        unversioned.creditLimit = 0
        return [plain, full, unversioned]
    }

    @Test func anAccountIsWrittenAsTheEncoderWritesIt() throws {
        for account in Self.accounts() {
            let body = AccountBody(account, asOf: Self.now)
            let encoded = try ResponseBody.encode(body)
            #expect(body.bytes == encoded, "\(String(decoding: body.bytes, as: UTF8.self))\n\(String(decoding: encoded, as: UTF8.self))")
        }
    }

    @Test func stringsAreEscapedAsTheEncoderEscapesThem() throws {
        for text in ["plain", "quote \" and \\ backslash", "tab\tline\nfeed\r", "\u{01}\u{1F}\u{08}\u{0C}", "中文 / é"] {
            var out = JSONBytes()
            out.string(text)
            #expect(out.bytes == (try ResponseBody.encode(text)), "\(text)")
        }
        var out = JSONBytes()
        out.beginArray()
        for number in [0, -1, 7, Int.max, Int.min] { out.int(number) }
        out.endArray()
        #expect(out.bytes == (try ResponseBody.encode([0, -1, 7, Int.max, Int.min])))
    }
}

extension JSONBytesTests {
    @Test func aDecisionIsWrittenAsTheEncoderWritesIt() throws {
        let reasons = try JSONDecoder().decode([Scorecard.Reason].self, from: Data(#"""
            [{"code": "R01", "description": "Few \"orders\" / months", "points_lost": 12},
             {"code": "R05", "description": "逾期", "points_lost": 3}]
            """#.utf8))
        for reasons in [reasons, []] {
            let decision = Decision(
                id: "dec_1", accountID: "acc_1", score: 655, tier: .c, outcome: .approve, recommendedLimit: 500_000,
                reasons: reasons, modelVersion: "v1+sha256:0123456789abcdef", inputs: "{}", inputsSHA256: "ab12",
                explanation: [], scoredAt: Self.now, expiresAt: Self.now.adding(days: 30))
            let encoded = try ResponseBody.encode(DecisionBody(decision: decision, explain: false))
            #expect(DecisionBody.unexplained(decision) == encoded,
                    "\(String(decoding: DecisionBody.unexplained(decision), as: UTF8.self))\n\(String(decoding: encoded, as: UTF8.self))")
        }
    }
}
