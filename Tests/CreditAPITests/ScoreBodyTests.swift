import CreditLine
import Foundation
import TestSupport
import Testing
@testable import CreditAPI

/// The score's own body reader against `JSONDecoder` (README "Performance"): whatever it reads, it
/// reads as the decoder does; whatever it declines goes to the decoder, which words the problem.
@Suite struct ScoreBodyTests {
    static let names = ["months_on_platform", "orders_12m", "spend_12m", "identity_verified", "a", "B_2", "x-y", "é",
                        "features", "on_time_ratio_12m"]
    static let values = ["0", "-0", "30", "-7", "500000", "0.98", "0.05", "1.0", "1.50", "-0.5", "0.10", "1e2", "1E-2",
                         "999999999999999.9999999", "100000000000000000.5", "123456789012345678", "1234567890123456789",
                         "true", "false", "null", "\"x\"", "\"\"", "01", "1.", ".5", "[1]", "{}", "-", "tru", "nul"]
    static let spaces = ["", " ", "\n", "\t ", "\r\n"]

    static func body(_ random: inout SeededRandom) -> String {
        func space() -> String { spaces.randomElement(using: &random)! }
        let count = Int.random(in: 0...9, using: &random)
        let members = (0..<count).map { _ in
            "\"\(names.randomElement(using: &random)!)\"\(space()):\(space())\(values.randomElement(using: &random)!)"
        }
        var outer = "\"features\"\(space()):\(space()){\(space())\(members.joined(separator: "," + space()))\(space())}"
        switch Int.random(in: 0..<12, using: &random) {
        case 0: outer += ", \"other\": 1"
        case 1: outer = "\"features\": {}, " + outer
        case 2: outer = outer.replacingOccurrences(of: "\"features\"", with: "\"feature\"")
        default: break
        }
        return space() + "{" + space() + outer + space() + "}" + space()
    }

    @Test func whatItReadsTheDecoderReadsTheSame() throws {
        var random = SeededRandom(seed: 4_913)
        var read = 0
        for _ in 0..<4_000 {
            let text = Self.body(&random)
            guard let fast = ScoreBody.features(Array(text.utf8)) else { continue }
            read += 1
            let decoded = try JSONDecoder().decode(ScoringRoutes.ScoreRequest.self, from: Data(text.utf8))
            #expect(fast == decoded.features, "\(text)")
        }
        // Not a test that passes by declining everything: most plain bodies are read.
        #expect(read > 400, "read \(read)")
    }

    @Test(arguments: [
        (#"{"features":{"months_on_platform":30,"on_time_ratio_12m":0.98,"identity_verified":true,"x":null}}"#, true),
        (#" { "features" : { } } "#, true),
        (#"{"features":{"a":1,"a":2}}"#, false),
        (#"{"features":{"a":1.0}}"#, false),
        (#"{"features":{"a":"text"}}"#, false),
        (#"{"features":{"\u0061":1}}"#, false),
        (#"{"features":{"a":1},"extra":true}"#, false),
        (#"{"features":{"a":1}} x"#, false),
        (#"{"features":{"a":1e3}}"#, false),
        ("", false),
    ])
    func declinesWhatOnlyTheDecoderShouldWord(text: String, reads: Bool) {
        #expect((ScoreBody.features(Array(text.utf8)) != nil) == reads, "\(text)")
    }
}
