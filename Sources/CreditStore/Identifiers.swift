/// Server-made ids: a type prefix and 20 characters of lower-case base32 (100 random bits from
/// the system's cryptographic generator), e.g. `acc_k3x9…`. Unguessable, so knowing one id
/// reveals nothing about another (OWASP API1: object-level authorisation).
public enum Identifier {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    public static func make(_ prefix: String) -> String {
        prefix + "_" + randomToken(characters: 20)
    }

    static func randomToken(characters: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(characters)
        for _ in 0..<characters {
            bytes.append(alphabet[Int(generator.next(upperBound: UInt8(32)))])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
