/// Recognises values shaped like direct identifiers, which never belong in a pseudonymous
/// reference or in free text we store (PIPL Art. 6, minimum necessary).
public enum PersonalData {
    public enum Kind: String, Sendable, Equatable {
        case residentID = "a PRC resident ID number"
        case mobileNumber = "a mainland mobile number"
        case email = "an e-mail address"
    }

    /// The first identifier-shaped part of `text`, if any.
    public static func detect(_ text: String) -> Kind? {
        if looksLikeEmail(text) { return .email }
        for run in digitRuns(text) {
            if isResidentID(run) { return .residentID }
            if isMobileNumber(run) { return .mobileNumber }
        }
        return nil
    }

    /// local@domain.tld, however it is embedded.
    static func looksLikeEmail(_ text: String) -> Bool {
        guard let at = text.firstIndex(of: "@") else { return false }
        let local = text[..<at].last.map { $0.isLetter || $0.isNumber || "._%+-".contains($0) } ?? false
        let domain = text[text.index(after: at)...].prefix { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }
        return local && domain.contains(".") && !domain.hasSuffix(".") && !domain.hasPrefix(".")
    }

    /// Maximal runs of digits; a resident ID's final X counts as part of its run.
    static func digitRuns(_ text: String) -> [[UInt8]] {
        var runs: [[UInt8]] = []
        var current: [UInt8] = []
        for byte in text.utf8 {
            if byte >= 48 && byte <= 57 {
                current.append(byte - 48)
            } else if (byte == UInt8(ascii: "X") || byte == UInt8(ascii: "x")) && current.count == 17 {
                current.append(10)
                runs.append(current)
                current = []
            } else {
                if !current.isEmpty { runs.append(current) }
                current = []
            }
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }

    /// GB 11643-1999: 17 digits and a check character by ISO 7064 MOD 11-2 (X stands for 10).
    static func isResidentID(_ digits: [UInt8]) -> Bool {
        guard digits.count == 18, digits[0..<17].allSatisfy({ $0 <= 9 }) else { return false }
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let sum = zip(digits[0..<17], weights).reduce(0) { $0 + Int($1.0) * $1.1 }
        let check = (12 - sum % 11) % 11
        return Int(digits[17]) == check
    }

    /// 11 digits starting with 1, alone or after the country code 86.
    static func isMobileNumber(_ digits: [UInt8]) -> Bool {
        if digits.count == 11 { return digits[0] == 1 }
        if digits.count == 13 { return digits[0] == 8 && digits[1] == 6 && digits[2] == 1 }
        return false
    }

    /// Throws 422 `pii-not-allowed` naming the field when `text` carries an identifier.
    public static func refuse(in text: String, field: String) throws(DomainError) {
        if let kind = detect(text) {
            throw DomainError(.invalid, code: "pii-not-allowed",
                              "\(field) looks like \(kind.rawValue); send a pseudonymous reference, never personal data.",
                              field: field)
        }
    }
}
