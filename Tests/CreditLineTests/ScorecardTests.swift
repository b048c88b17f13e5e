import Foundation
import Testing
@testable import CreditLine

let repositoryRootForDomain: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

func scorecardFile() -> Data {
    FileManager.default.contents(atPath: repositoryRootForDomain + "/config/scorecards/v1.json")!
}

func loadScorecard(_ data: Data = scorecardFile()) throws -> Scorecard {
    try Scorecard(json: data, sha256: String(repeating: "ab", count: 32))
}

let denyList: ProhibitedFeatures = try! ProhibitedFeatures(json: FileManager.default.contents(
    atPath: repositoryRootForDomain + "/config/prohibited_features.json")!)

/// A complete, valid feature set; tests change one value at a time.
let goodFeatures: [String: FeatureInput] = [
    "months_on_platform": .integer(30), "orders_12m": .integer(20), "spend_12m": .integer(500_000),
    "on_time_ratio_12m": .number(0.98), "overdue_events_12m": .integer(0), "max_days_overdue_12m": .integer(0),
    "return_ratio_12m": .number(0.05), "identity_verified": .boolean(true),
]


@Suite struct ScorecardTests {
    @Test func modelVersionCarriesTheFileHash() throws {
        #expect(try loadScorecard().modelVersion == "v1+sha256:abababababababab")
    }

    /// Points to double the odds (Siddiqi, ch. 10): factor = 20 / ln 2 ≈ 28.85, offset = 600 − factor · ln 50 ≈ 487.1.
    @Test func scalingGivesPointsTheirOdds() throws {
        let scaling = try loadScorecard().scaling
        #expect(abs(scaling.factor - 28.8539) < 0.001)
        #expect(abs(scaling.offset - 487.1229) < 0.001)
        #expect(abs(scaling.odds(atScore: 600) - 50) < 1e-9)
        #expect(abs(scaling.odds(atScore: 620) - 100) < 1e-9)
        #expect(abs(scaling.odds(atScore: 580) - 25) < 1e-9)
    }

    /// Every bin boundary: the last value of a bin and the first of the next.
    @Test(arguments: [
        ("months_on_platform", FeatureValue.integer(0), 40), ("months_on_platform", .integer(2), 40),
        ("months_on_platform", .integer(3), 60), ("months_on_platform", .integer(5), 60),
        ("months_on_platform", .integer(6), 80), ("months_on_platform", .integer(11), 80),
        ("months_on_platform", .integer(12), 100), ("months_on_platform", .integer(23), 100),
        ("months_on_platform", .integer(24), 115), ("months_on_platform", .integer(10_000), 115),
        ("orders_12m", .integer(0), 30), ("orders_12m", .integer(1), 55), ("orders_12m", .integer(3), 55),
        ("orders_12m", .integer(4), 75), ("orders_12m", .integer(11), 75), ("orders_12m", .integer(12), 90),
        ("spend_12m", .integer(49_999), 40), ("spend_12m", .integer(50_000), 60), ("spend_12m", .integer(199_999), 60),
        ("spend_12m", .integer(200_000), 80), ("spend_12m", .integer(999_999), 80), ("spend_12m", .integer(1_000_000), 90),
        ("on_time_ratio_12m", .missing, 70), ("on_time_ratio_12m", .ratio(0), 10), ("on_time_ratio_12m", .ratio(0.7999), 10),
        ("on_time_ratio_12m", .ratio(0.8), 60), ("on_time_ratio_12m", .ratio(0.9499), 60),
        ("on_time_ratio_12m", .ratio(0.95), 120), ("on_time_ratio_12m", .ratio(1), 120),
        ("overdue_events_12m", .integer(0), 120), ("overdue_events_12m", .integer(1), 80),
        ("overdue_events_12m", .integer(2), 40), ("overdue_events_12m", .integer(3), 40),
        ("overdue_events_12m", .integer(4), 0),
        ("max_days_overdue_12m", .integer(0), 110), ("max_days_overdue_12m", .integer(1), 80),
        ("max_days_overdue_12m", .integer(7), 80), ("max_days_overdue_12m", .integer(8), 40),
        ("max_days_overdue_12m", .integer(30), 40), ("max_days_overdue_12m", .integer(31), 0),
        ("return_ratio_12m", .ratio(0), 60), ("return_ratio_12m", .ratio(0.0999), 60), ("return_ratio_12m", .ratio(0.1), 45),
        ("return_ratio_12m", .ratio(0.2999), 45), ("return_ratio_12m", .ratio(0.3), 25),
        ("return_ratio_12m", .ratio(0.5999), 25), ("return_ratio_12m", .ratio(0.6), 10), ("return_ratio_12m", .ratio(1), 10),
        ("identity_verified", .boolean(true), 70), ("identity_verified", .boolean(false), 20),
    ])
    func binBoundaries(characteristic: String, value: FeatureValue, points: Int) throws {
        let card = try loadScorecard()
        let found = try #require(card.characteristics.first { $0.name == characteristic })
        #expect(found.place(value).points == points)
        // The score looks the bin's label up instead of writing it: the same label and points.
        var values = try card.validate(goodFeatures, denyList: denyList)
        values[characteristic] = value
        let contribution = try #require(card.score(values).contributions.first { $0.characteristic == characteristic })
        #expect(contribution.bin == found.place(value).bin && contribution.points == points)
        #expect(contribution.maxPoints == found.maxPoints)
    }

    @Test func pointsMoveOneWayOverTheBins() throws {
        for characteristic in try loadScorecard().characteristics {
            let points = characteristic.bins?.map(\.points) ?? []
            switch characteristic.direction {
            case .increasing: #expect(points == points.sorted(), "\(characteristic.name)")
            case .decreasing: #expect(points == points.sorted(by: >), "\(characteristic.name)")
            case .trueBetter: #expect(characteristic.truePoints! >= characteristic.falsePoints!)
            }
        }
    }

    @Test func clampKeepsScoresBetween300And850() throws {
        let card = try loadScorecard()
        let best = card.score(try card.validate(goodFeatures.merging(["on_time_ratio_12m": .number(1),
                                                                      "spend_12m": .integer(5_000_000)]) { $1 },
                                                denyList: denyList))
        #expect(best.score == 850)
        #expect(best.reasons.isEmpty)
        let worst: [String: FeatureInput] = [
            "months_on_platform": .integer(0), "orders_12m": .integer(0), "spend_12m": .integer(0),
            "on_time_ratio_12m": .number(0.1), "overdue_events_12m": .integer(9), "max_days_overdue_12m": .integer(90),
            "return_ratio_12m": .number(0.9), "identity_verified": .boolean(false),
        ]
        let result = card.score(try card.validate(worst, denyList: denyList))
        #expect(result.score == 300)  // 225 points, clamped
        #expect(result.tier == .e)
        #expect(result.outcome == .decline)
        #expect(result.recommendedLimit == 0)
    }

    @Test(arguments: [(599, "E", "decline", 0), (600, "D", "review", 200_000), (639, "D", "review", 200_000),
                      (640, "C", "approve", 500_000), (679, "C", "approve", 500_000), (680, "B", "approve", 1_000_000),
                      (719, "B", "approve", 1_000_000), (720, "A", "approve", 2_000_000), (300, "E", "decline", 0),
                      (850, "A", "approve", 2_000_000)])
    func tierCutOffs(score: Int, tier: String, outcome: String, limit: Int) throws {
        let found = try loadScorecard().tier(for: score)
        #expect(found.tier.rawValue == tier)
        #expect(found.outcome.rawValue == outcome)
        #expect(found.recommendedLimit == limit)
    }

    @Test func reasonsAreTheBiggestLossesFirstAtMostFour() throws {
        let card = try loadScorecard()
        var features = goodFeatures
        features["overdue_events_12m"] = .integer(2)      // R03 loses 80
        features["months_on_platform"] = .integer(4)      // R01 loses 55
        features["identity_verified"] = .boolean(false)   // R08 loses 50
        features["on_time_ratio_12m"] = .null              // R05 loses 50 (ties keep file order: R05 before R08)
        features["return_ratio_12m"] = .number(0.2)       // R07 loses 15
        features["spend_12m"] = .integer(1_000_000)       // no loss
        let result = card.score(try card.validate(features, denyList: denyList))
        #expect(result.reasons.map { $0.code } == ["R03", "R01", "R05", "R08"])
        #expect(result.reasons.map { $0.pointsLost } == [80, 55, 50, 50])
        #expect(result.reasons.first?.description == "Late repayments in the last 12 months")
        // 75 + 60 + 90 + 90 + 70 + 40 + 110 + 45 + 20
        #expect(result.score == 600)
        #expect(result.tier == .d)
    }

    @Test func sameInputsAndModelGiveTheSameScore() throws {
        let card = try loadScorecard()
        let first = card.score(try card.validate(goodFeatures, denyList: denyList))
        let reordered = Dictionary(uniqueKeysWithValues: goodFeatures.reversed())
        let second = card.score(try loadScorecard().validate(reordered, denyList: denyList))
        #expect(first == second)
        #expect(first.canonicalInputs == #"{"identity_verified":true,"max_days_overdue_12m":0,"months_on_platform":30,"on_time_ratio_12m":0.98,"orders_12m":20,"overdue_events_12m":0,"return_ratio_12m":0.05,"spend_12m":500000}"#)
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        var change: [String: FeatureInput]
        var remove: String?
        var code: String
        var field: String
        var testDescription: String { "\(code) \(field)" }
    }

    static let refusals: [Refusal] = [
        Refusal(change: ["ethnicity": .text("x")], code: "prohibited-feature", field: "features.ethnicity"),
        Refusal(change: ["Race": .text("x")], code: "prohibited-feature", field: "features.Race"),
        Refusal(change: ["religious_belief": .text("x")], code: "prohibited-feature", field: "features.religious_belief"),
        Refusal(change: ["healthStatus": .integer(1)], code: "prohibited-feature", field: "features.healthStatus"),
        Refusal(change: ["genetic_marker": .integer(1)], code: "prohibited-feature", field: "features.genetic_marker"),
        Refusal(change: ["biometric_hash": .text("x")], code: "prohibited-feature", field: "features.biometric_hash"),
        Refusal(change: ["political_views": .text("x")], code: "prohibited-feature", field: "features.political_views"),
        Refusal(change: ["sex_life": .text("x")], code: "prohibited-feature", field: "features.sex_life"),
        Refusal(change: ["sexualOrientation": .text("x")], code: "prohibited-feature", field: "features.sexualOrientation"),
        Refusal(change: ["trade_union": .boolean(true)], code: "prohibited-feature", field: "features.trade_union"),
        Refusal(change: ["criminal_record": .boolean(true)], code: "prohibited-feature", field: "features.criminal_record"),
        Refusal(change: ["trace_id": .text("x")], code: "unknown-feature", field: "features.trace_id"),
        Refusal(change: ["browser_history": .integer(3)], code: "unknown-feature", field: "features.browser_history"),
        Refusal(change: [:], remove: "orders_12m", code: "invalid-feature", field: "features.orders_12m"),
        Refusal(change: [:], remove: "on_time_ratio_12m", code: "invalid-feature", field: "features.on_time_ratio_12m"),
        Refusal(change: ["orders_12m": .integer(-1)], code: "invalid-feature", field: "features.orders_12m"),
        Refusal(change: ["orders_12m": .number(2.5)], code: "invalid-feature", field: "features.orders_12m"),
        Refusal(change: ["orders_12m": .text("3")], code: "invalid-feature", field: "features.orders_12m"),
        Refusal(change: ["spend_12m": .null], code: "invalid-feature", field: "features.spend_12m"),
        Refusal(change: ["return_ratio_12m": .number(1.5)], code: "invalid-feature", field: "features.return_ratio_12m"),
        Refusal(change: ["return_ratio_12m": .null], code: "invalid-feature", field: "features.return_ratio_12m"),
        Refusal(change: ["on_time_ratio_12m": .number(-0.1)], code: "invalid-feature", field: "features.on_time_ratio_12m"),
        Refusal(change: ["identity_verified": .integer(1)], code: "invalid-feature", field: "features.identity_verified"),
        Refusal(change: ["months_on_platform": .other], code: "invalid-feature", field: "features.months_on_platform"),
    ]

    @Test(arguments: refusals)
    func invalidFeaturesAreNamed(_ refusal: Refusal) throws {
        var features = goodFeatures.merging(refusal.change) { $1 }
        if let remove = refusal.remove { features[remove] = nil }
        let card = try loadScorecard()
        let result = Result { () throws(DomainError) in try card.validate(features, denyList: denyList) }
        guard case .failure(let error) = result else {
            Issue.record("accepted")
            return
        }
        #expect(error.code.rawValue == refusal.code)
        #expect(error.field == refusal.field)
        #expect(error.kind == DomainError.Kind.invalid)
    }

    @Test func nullOnTimeRatioMeansNoHistory() throws {
        let card = try loadScorecard()
        let values = try card.validate(goodFeatures.merging(["on_time_ratio_12m": .null]) { $1 }, denyList: denyList)
        #expect(values["on_time_ratio_12m"] == FeatureValue.missing)
        #expect(card.score(values).contributions.first { $0.characteristic == "on_time_ratio_12m" }?.bin == "null")
    }

    /// A bad file stops start-up, naming the problem.
    @Test(arguments: [
        (#""min": 3, "max": 6, "points": 60"#, #""min": 4, "max": 6, "points": 60"#, "gap"),
        (#""min": 3, "max": 6, "points": 60"#, #""min": 2, "max": 6, "points": 60"#, "overlap"),
        (#""reason_code": "R02""#, #""reason_code": "R01""#, "used twice"),
        (#""reason_code": "R02""#, #""reason_code": """#, "reason_code"),
        (#"{ "min": 4, "max": 12, "points": 75 }"#, #"{ "min": 4, "max": 12, "points": 95 }"#, "not increasing"),
        (#"{ "min": 24, "max": null, "points": 115 }"#, #"{ "min": 24, "max": 99, "points": 115 }"#, "open-ended"),
        (#""null_points": 70,"#, "", "null_points"),
    ])
    func badScorecardFilesAreRefused(original: String, replacement: String, problem: String) throws {
        let text = String(decoding: scorecardFile(), as: UTF8.self)
        #expect(text.contains(original))
        let broken = Data(text.replacingOccurrences(of: original, with: replacement).utf8)
        #expect {
            try loadScorecard(broken)
        } throws: { error in
            "\(error)".contains(problem)
        }
    }
}
