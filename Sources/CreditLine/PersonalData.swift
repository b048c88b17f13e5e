import Foundation

/// Recognises values shaped like direct identifiers, which never belong in a pseudonymous
/// reference or in free text we store (PIPL Art. 6, minimum necessary). The text is normalised
/// first, so the same number written another way is the same number: NFKC (full-width digits
/// and `＠` become ASCII), every script's decimal digits read as digits, and the separators
/// people type inside numbers (spaces, dashes, dots, slashes, brackets) bridged.
public enum PersonalData {
    public enum Kind: String, Sendable, Equatable {
        case residentID = "a PRC resident ID number"
        case mobileNumber = "a mainland mobile number"
        case email = "an e-mail address"
        case bankCard = "a bank card number"
    }

    /// The first identifier-shaped part of `text`, if any.
    public static func detect(_ text: String) -> Kind? {
        let normalised = normalise(text)
        if looksLikeEmail(normalised) { return .email }
        for token in numberTokens(maskingGeneratedIDs(normalised)) {
            if let kind = classify(token) { return kind }
        }
        return nil
    }

    /// The text with machine-made identifiers blanked out, so that the digits inside them are not
    /// read as numbers a person has: a canonical hyphenated UUID (RFC 9562, any version), a
    /// 26-character ULID, and a bare hexadecimal string of 16 characters or more (a UUID without
    /// hyphens, a hash), each standing alone (no letter or digit touching it) and each holding at
    /// least one letter: a–f for the hexadecimal forms, any for a ULID. One made of digits alone
    /// is read as digits, as any other number is (README "Hostile clients and faults").
    static func maskingGeneratedIDs(_ text: String) -> String {
        var characters = Array(text)
        func isASCIIAlphanumeric(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber) }
        func isHex(_ c: Character) -> Bool { c.isHexDigit && c.isASCII }
        func hasHexLetter<S: Sequence<Character>>(_ run: S) -> Bool { run.contains { $0.isASCII && $0.isLetter && $0.isHexDigit } }
        func isULID(_ run: ArraySlice<Character>) -> Bool {
            // Crockford's base32: digits and letters but I, L, O, U.
            run.count == 26 && run.contains { $0.isLetter } && run.allSatisfy {
                $0.isASCII && ($0.isNumber || ($0.isLetter && !"ILOUilou".contains($0)))
            }
        }
        func isUUID(_ run: ArraySlice<Character>) -> Bool {
            guard run.count == 36 else { return false }
            for (offset, c) in run.enumerated() {
                if [8, 13, 18, 23].contains(offset) { if c != "-" { return false } } else if !isHex(c) { return false }
            }
            return hasHexLetter(run)
        }
        // Maximal runs of ASCII letters, digits and hyphens; a UUID is one such run, and the
        // other forms are a hyphen-free part of one.
        var start = 0
        while start < characters.count {
            guard isASCIIAlphanumeric(characters[start]) || characters[start] == "-" else { start += 1; continue }
            var end = start
            while end < characters.count, isASCIIAlphanumeric(characters[end]) || characters[end] == "-" { end += 1 }
            var masks: [Range<Int>] = []
            if isUUID(characters[start..<end]) {
                masks.append(start..<end)
            } else {
                var part = start
                while part < end {
                    var partEnd = part
                    while partEnd < end, characters[partEnd] != "-" { partEnd += 1 }
                    let run = characters[part..<partEnd]
                    if isULID(run) || (run.count >= 16 && run.allSatisfy(isHex) && hasHexLetter(run)) {
                        masks.append(part..<partEnd)
                    }
                    part = partEnd + 1
                }
            }
            // Blanked with a character that neither is a digit nor joins two numbers.
            for range in masks { for index in range { characters[index] = "#" } }
            start = end
        }
        return String(characters)
    }

    /// NFKC, then every decimal digit of any script as its ASCII digit, and the spelled-out
    /// forms of `@` (`(at)`, `[at]`) as `@`.
    static func normalise(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.precomposedStringWithCompatibilityMapping.unicodeScalars {
            if scalar.properties.numericType == .decimal, let value = scalar.properties.numericValue,
                value >= 0, value <= 9, !(scalar.value >= 0x30 && scalar.value <= 0x39)
            {
                out.append(Unicode.Scalar(UInt8(48 + Int(value))))
            } else {
                out.append(scalar)
            }
        }
        var result = String(out)
        // The spelled-out and spaced at signs need a bracket or an @ to exist at all; most text
        // (every reference) has neither, and skips the patterns.
        guard result.contains(where: { "([{@".contains($0) }) else { return result }
        for (pattern, symbol) in [(#"\s*[(\[{]\s*at\s*[)\]}]\s*"#, "@"), (#"\s*[(\[{]\s*dot\s*[)\]}]\s*"#, "."),
                                  (#"\s*@\s*"#, "@")]
        {
            result = result.replacingOccurrences(of: pattern, with: symbol, options: [.regularExpression, .caseInsensitive])
        }
        return result
    }

    /// local@domain.tld, however it is embedded, in any script.
    static func looksLikeEmail(_ text: String) -> Bool {
        var search = text.startIndex
        while let at = text[search...].firstIndex(of: "@") {
            let local = text[..<at].last.map { $0.isLetter || $0.isNumber || "._%+-".contains($0) } ?? false
            let domain = text[text.index(after: at)...].prefix { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }
                .trimmingCharacters(in: CharacterSet(charactersIn: ".-"))
            if local, domain.contains("."), domain.split(separator: ".").allSatisfy({ !$0.isEmpty }) { return true }
            search = text.index(after: at)
        }
        return false
    }

    /// A number as typed: its digits (10 stands for a final X) and the sizes of the groups a
    /// separator split it into.
    struct NumberToken: Equatable {
        var digits: [UInt8]
        var groups: [Int]
    }

    /// Characters people put inside a number: one of them between two digits joins the groups.
    static func isSeparator(_ character: Character) -> Bool {
        character == " " || character == "-" || character == "." || character == "/" || character == "("
            || character == ")" || character == "_" || character == "\u{00A0}" || character == "\u{2010}"
            || character == "\u{2011}" || character == "\u{2012}" || character == "\u{2013}" || character == "\u{2014}"
    }

    /// Maximal runs of digit groups joined by at most two separators (`) `, ` - `); a leading `+`
    /// or bracket is dropped. A resident ID's final X counts as a digit after 17 of them.
    static func numberTokens(_ text: String) -> [NumberToken] {
        var tokens: [NumberToken] = []
        var current = NumberToken(digits: [], groups: [])
        var groupSize = 0
        var pendingSeparator = 0
        func finish() {
            if groupSize > 0 { current.groups.append(groupSize) }
            if !current.digits.isEmpty { tokens.append(current) }
            current = NumberToken(digits: [], groups: [])
            groupSize = 0
            pendingSeparator = 0
        }
        for character in text {
            if let ascii = character.asciiValue, ascii >= 48, ascii <= 57 {
                if pendingSeparator > 0 {
                    current.groups.append(groupSize)
                    groupSize = 0
                    pendingSeparator = 0
                }
                current.digits.append(ascii - 48)
                groupSize += 1
            } else if (character == "X" || character == "x"), current.digits.count == 17, pendingSeparator == 0 {
                current.digits.append(10)
                groupSize += 1
                finish()
            } else if isSeparator(character), groupSize > 0, pendingSeparator < 2 {
                pendingSeparator += 1
            } else {
                finish()
            }
        }
        finish()
        return tokens
    }

    static func classify(_ token: NumberToken) -> Kind? {
        let digits = token.digits
        let joined = token.groups.count > 1
        if isResidentID(digits) { return .residentID }
        if isMobileNumber(digits), !joined || mobileGroupings.contains(token.groups) { return .mobileNumber }
        if isBankCard(digits), !joined || token.groups.dropLast().allSatisfy({ $0 == 4 }) || token.groups == [4, 6, 5] {
            return .bankCard
        }
        // A number written contiguously inside a longer token ("cust_13812345678" is one group
        // already; "ref 138 0013 8000 x" is found by its grouping above).
        return nil
    }

    /// How a mobile number is written in groups: 138 0013 8000, 138 00138000, +86 138 0013 8000,
    /// 0086 138 0013 8000.
    static let mobileGroupings: [[Int]] = [[3, 4, 4], [3, 8], [2, 3, 4, 4], [2, 11], [2, 3, 8], [5, 4, 4],
                                           [4, 3, 4, 4], [4, 11], [4, 3, 8], [7, 4, 4]]

    /// GB 11643-1999: 17 digits and a check character by ISO 7064 MOD 11-2 (X stands for 10).
    static func isResidentID(_ digits: [UInt8]) -> Bool {
        guard digits.count == 18, digits[0..<17].allSatisfy({ $0 <= 9 }) else { return false }
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let sum = zip(digits[0..<17], weights).reduce(0) { $0 + Int($1.0) * $1.1 }
        let check = (12 - sum % 11) % 11
        return Int(digits[17]) == check
    }

    /// 11 digits starting with 1, alone or after the country code: 86 (from `+86`) or 0086 (the
    /// international prefix dialled as digits).
    static func isMobileNumber(_ digits: [UInt8]) -> Bool {
        guard digits.allSatisfy({ $0 <= 9 }) else { return false }
        if digits.count == 11 { return digits[0] == 1 }
        if digits.count == 13 { return digits[0] == 8 && digits[1] == 6 && digits[2] == 1 }
        if digits.count == 15 { return digits[0...4] == [0, 0, 8, 6, 1] }
        return false
    }

    /// ISO/IEC 7812: 13–19 digits whose Luhn check digit holds.
    static func isBankCard(_ digits: [UInt8]) -> Bool {
        guard (13...19).contains(digits.count), digits.allSatisfy({ $0 <= 9 }) else { return false }
        var sum = 0
        for (offset, digit) in digits.reversed().enumerated() {
            let value = Int(digit) * (offset % 2 == 1 ? 2 : 1)
            sum += value > 9 ? value - 9 : value
        }
        return sum % 10 == 0
    }

    /// Throws 422 `pii-not-allowed` naming the field when `text` carries an identifier.
    public static func refuse(in text: String, field: String) throws(DomainError) {
        if let kind = detect(text) {
            throw DomainError(.invalid, code: .piiNotAllowed,
                              "\(field) looks like \(kind.rawValue); send a pseudonymous reference, never personal data.",
                              field: field)
        }
    }
}

/// Free text that is kept (reasons, notes, statements): bounded, and never personal data.
public enum FreeText {
    /// An optional text: at most `max` characters, no identifier-shaped values.
    public static func check(_ value: String, field: String, max: Int) throws(DomainError) {
        // Code points, as the database's length() counts them: "é" written as e and a combining
        // accent is one character to Swift and two to SQLite.
        guard value.unicodeScalars.count <= max else {
            throw .invalidField(field, "\(field) must be at most \(max) characters.")
        }
        try PersonalData.refuse(in: value, field: field)
    }

    /// A required text: trimmed, 1–`max` characters, no identifier-shaped values.
    public static func required(_ value: String, field: String, max: Int = 256) throws(DomainError) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.unicodeScalars.count <= max else {
            throw .invalidField(field, "\(field) must be 1–\(max) characters.")
        }
        try PersonalData.refuse(in: trimmed, field: field)
        return trimmed
    }
}
