import CreditLine
import Foundation
import TestSupport
import Testing

/// `Timestamp.rfc3339` writes its digits straight into the string (README "Performance"): the
/// same text as the padded interpolation it replaced, for any moment, and it reads back.
@Suite struct TimestampWriterTests {
    static func reference(_ milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000)
        let millis = Int(milliseconds - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))"
            + "T\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2)).\(pad(millis, 3))Z"
    }

    @Test func anyMomentIsWrittenAsBefore() {
        var random = SeededRandom(seed: 7)
        let edges: [Int64] = [0, -1, 999, 1_000, -86_400_000, 253_402_300_799_999, 1_796_083_200_123, 951_782_400_000]
        let moments = edges + (0..<5_000).map { _ in Int64.random(in: -62_000_000_000_000...253_402_300_799_999, using: &random) }
        for milliseconds in moments {
            let text = Timestamp(milliseconds: milliseconds).rfc3339
            #expect(text == Self.reference(milliseconds), "\(milliseconds)")
            if !text.hasPrefix("-") { #expect(Timestamp(rfc3339: text)?.milliseconds == milliseconds, "\(text)") }
        }
    }
}
