/// Server-made ids: a type prefix and 20 characters of lower-case base32 (100 random bits from
/// the system's cryptographic generator), e.g. `acc_k3x9…`. Unguessable, so knowing one id
/// reveals nothing about another (OWASP API1: object-level authorisation).
public enum Identifier {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    public static func make(_ prefix: String) -> String {
        prefix + "_" + randomToken(characters: 20)
    }

    /// `characters` × 5 random bits, drawn 60 at a time (each draw is one getrandom call).
    static func randomToken(characters: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(characters)
        var bits: UInt64 = 0
        var available = 0
        for _ in 0..<characters {
            if available < 5 {
                bits = generator.next()
                available = 60
            }
            bytes.append(alphabet[Int(bits & 31)])
            bits >>= 5
            available -= 5
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
