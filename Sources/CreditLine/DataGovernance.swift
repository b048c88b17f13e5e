import Foundation

/// The closed list of reasons for a limit change, a freeze, an unfreeze or a closure, from
/// `config/reason-codes.json` (README "Data governance"): the code goes into the audit chain,
/// anything a person wants to add goes into a note outside it.
public struct ReasonCodes: Sendable, Equatable {
    public let codes: [String: String]

    /// A note beside a code: at most this many characters, and the personal-data check.
    public static let noteMaxLength = 500

    struct File: Decodable { var codes: [String: String] }

    public init(json: Data) throws(ScorecardError) {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: json)
        } catch {
            throw ScorecardError("reason codes: not {\"codes\": {code: description}}: \(error)")
        }
        guard !file.codes.isEmpty,
              file.codes.keys.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F } })
        else {
            throw ScorecardError("reason codes: codes are lower-case words joined by _")
        }
        codes = file.codes
    }

    /// The code, if it is on the list; else 422 naming the field, with the list.
    public func require(_ code: String, field: String = "reason_code") throws(DomainError) -> String {
        guard codes[code] != nil else {
            throw DomainError(.invalid, code: .invalidReasonCode,
                              "\(field) must be one of \(codes.keys.sorted().joined(separator: ", ")).", field: field)
        }
        return code
    }
}

/// What the customer saw and confirmed when a change is theirs (README "Data governance"): as
/// for a consent, the channel, an affirmative method and the SHA-256 of the text they were
/// shown. A calling service cannot just say that the customer asked.
public struct CustomerConfirmation: Sendable, Equatable {
    public var channel: ConsentChannel
    public var noticeSHA256: String
    /// Given on the customer's own page: the link (channel `hosted`; `noticeSHA256` is the page's).
    public var linkID: String?

    public static let method = "explicit_opt_in"

    public init(channel: ConsentChannel, noticeSHA256: String) {
        (self.channel, self.noticeSHA256, linkID) = (channel, noticeSHA256, nil)
    }

    /// What a customer's own page confirms: the page as shown, through its link.
    public init(page: PageEvidence) {
        (channel, noticeSHA256, linkID) = (.hosted, page.pageSHA256, page.linkID)
    }

    /// Checks the fields as sent: `channel` one of the consent channels, `method`
    /// `explicit_opt_in`, `notice_sha256` 64 lower-case hex digits.
    public static func parse(channel: String, method: String, noticeSHA256: String) throws(DomainError)
        -> CustomerConfirmation
    {
        let parsed = try ConsentChannel.parse(channel, field: "customer_confirmation.channel")
        guard method == Self.method else {
            throw .invalidField("customer_confirmation.method",
                                "customer_confirmation.method must be explicit_opt_in: the customer's own act.")
        }
        guard noticeSHA256.utf8.count == 64,
              noticeSHA256.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else {
            throw .invalidField("customer_confirmation.notice_sha256",
                                "customer_confirmation.notice_sha256 must be the SHA-256 (64 lower-case hex digits) of what the customer was shown.")
        }
        return CustomerConfirmation(channel: parsed, noticeSHA256: noticeSHA256)
    }

    /// Whether a limit change rests on the customer's word, and so needs their own confirmation:
    /// one they asked for, and any increase said to be accepted by them, whoever sends it (an
    /// operator's `customer_accepted: true` is not the customer's act).
    public static func isRequired(initiatedBy: LimitPolicy.Initiator, customerAccepted: Bool,
                                  direction: LimitPolicy.Direction) -> Bool
    {
        initiatedBy == .customer || (direction == .increase && customerAccepted)
    }

    /// A change the customer initiated needs their confirmation: 422 `confirmation-required`.
    public static func require(_ confirmation: CustomerConfirmation?, customerInitiated: Bool) throws(DomainError) {
        guard customerInitiated, confirmation == nil else { return }
        throw DomainError(.invalid, code: .confirmationRequired,
                          "A change the customer asked for needs customer_confirmation {channel, method: explicit_opt_in, notice_sha256}: what they saw and confirmed.",
                          field: "customer_confirmation")
    }
}

/// How long free text and scoring inputs are kept (README "Data governance").
public struct RetentionPolicy: Sendable, Equatable {
    public var freeTextDays: Int
    public var scoringInputDays: Int

    public init(freeTextDays: Int, scoringInputDays: Int) {
        (self.freeTextDays, self.scoringInputDays) = (freeTextDays, scoringInputDays)
    }

    /// Text written before this is erased.
    public func freeTextCutoff(_ now: Timestamp) -> Timestamp { now.adding(days: -freeTextDays) }
    /// Inputs of decisions scored before this are erased, consent or not.
    public func scoringInputCutoff(_ now: Timestamp) -> Timestamp { now.adding(days: -scoringInputDays) }
}

/// The data-inventory register (`config/data-inventory.json`): every column of every table with
/// its class, purpose, legal basis, retention and erasure.
public struct DataInventory: Sendable {
    public enum DataClass: String, Sendable, CaseIterable, Codable {
        case pseudonymousID = "pseudonymous_id"
        case creditInput = "credit_input"
        case creditDecision = "credit_decision"
        case consentRecord = "consent_record"
        case ledger, notice
        case freeText = "free_text"
        case secretHash = "secret_hash"
        case operational
        /// Income and debts (README "Ability to repay"): sensitive personal information (PIPL Art. 28).
        case financial
    }

    public struct Entry: Sendable, Codable, Equatable {
        public var dataClass: DataClass
        public var purpose: String
        public var legalBasis: String
        public var retention: String
        public var erasure: String
        public var swept: Bool

        enum CodingKeys: String, CodingKey {
            case purpose, retention, erasure, swept
            case dataClass = "class"
            case legalBasis = "legal_basis"
        }
    }

    struct File: Decodable {
        var legalBases: [String: String]
        var tables: [String: [String: Entry]]
        enum CodingKeys: String, CodingKey {
            case tables
            case legalBases = "legal_bases"
        }
    }

    public let legalBases: [String: String]
    public let tables: [String: [String: Entry]]

    public init(json: Data) throws(ScorecardError) {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: json)
        } catch {
            throw ScorecardError("data inventory: not a valid register: \(error)")
        }
        for (table, columns) in file.tables {
            for (column, entry) in columns where file.legalBases[entry.legalBasis] == nil {
                throw ScorecardError("data inventory: \(table).\(column) names legal basis \(entry.legalBasis), which is not listed")
            }
        }
        legalBases = file.legalBases
        tables = file.tables
    }

    /// Where the register and the schema disagree: columns the register lacks, and entries
    /// whose column does not exist; both empty when they agree.
    public func differences(schema: [String: [String]]) -> (unclassified: [String], missing: [String]) {
        var unclassified: [String] = []
        var missing: [String] = []
        for (table, columns) in schema {
            for column in columns where tables[table]?[column] == nil { unclassified.append("\(table).\(column)") }
        }
        for (table, columns) in tables {
            for column in columns.keys where !(schema[table] ?? []).contains(column) { missing.append("\(table).\(column)") }
        }
        return (unclassified.sorted(), missing.sorted())
    }
}
