import CreditLine

/// A JSON text written straight into bytes, for the answers the service gives most (README
/// "Performance"): `JSONEncoder` builds a tree of boxes and sorts every object's keys on every
/// call, which cost more than the read it answered. A writer lays members out in the order the
/// encoder's `.sortedKeys` would and escapes strings as `JSONValue.canonicalJSON` does; a test
/// holds each writer byte-for-byte to the encoder's output for the same value.
struct JSONBytes {
    private(set) var bytes: [UInt8] = []
    /// Whether the object or array being written has a member already (a comma goes first).
    private var needsComma = false

    init(capacity: Int = 512) { bytes.reserveCapacity(capacity) }

    mutating func beginObject() { separate(); bytes.append(UInt8(ascii: "{")); needsComma = false }
    mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma = true }
    mutating func beginArray() { separate(); bytes.append(UInt8(ascii: "[")); needsComma = false }
    mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma = true }

    /// A member's name; its value follows. Names are the code's constants, never escaped.
    mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        needsComma = false
    }

    mutating func null() { separate(); append("null") }
    mutating func bool(_ value: Bool) { separate(); append(value ? "true" : "false") }

    mutating func int(_ value: Int) {
        separate()
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        // The digits written in place, most significant first, without a buffer of their own.
        var rest = value.magnitude
        var divisor: UInt = 1
        while rest / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    mutating func int(_ value: Int?) { if let value { int(value) } else { null() } }

    mutating func string(_ value: String) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        // Most strings (ids, codes, timestamps) need no escape: copied whole.
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            bytes.append(contentsOf: value.utf8)
            bytes.append(UInt8(ascii: "\""))
            needsComma = true
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\\"): append("\\\\")
            case 0x08: append("\\b")
            case 0x0C: append("\\f")
            case UInt8(ascii: "\n"): append("\\n")
            case UInt8(ascii: "\r"): append("\\r")
            case UInt8(ascii: "\t"): append("\\t")
            case ..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                append("\\u00")
                bytes.append(contentsOf: [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    mutating func string(_ value: String?) { if let value { string(value) } else { null() } }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
    }

    private mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }
}

extension AccountBody {
    /// The account as `JSONEncoder` with `.sortedKeys` writes it, without the encoder.
    var bytes: [UInt8] {
        var out = JSONBytes()
        out.beginObject()
        out.key("available_credit"); out.int(availableCredit)
        out.key("balance"); out.int(balance)
        out.key("created_at"); out.string(createdAt)
        out.key("credit_balance"); out.int(creditBalance)
        out.key("credit_limit"); out.int(creditLimit)
        out.key("currency"); out.string(currency)
        out.key("customer_ref"); out.string(customerRef)
        out.key("days_past_due"); out.int(daysPastDue)
        out.key("delinquency"); out.string(delinquency)
        out.key("fees_outstanding"); out.int(feesOutstanding)
        out.key("id"); out.string(id)
        out.key("limit_basis")
        if let basis = limitBasis {
            out.beginObject()
            out.key("affordable_limit"); out.int(basis.affordableLimit)
            out.key("binding"); out.string(basis.binding.rawValue)
            out.key("limit"); out.int(basis.limit)
            out.key("regulatory_cap"); out.int(basis.regulatoryCap)
            out.key("requested_limit"); out.int(basis.requestedLimit)
            out.key("starter_limit"); out.int(basis.starterLimit)
            out.key("tier_recommendation"); out.int(basis.tierRecommendation)
            out.endObject()
        } else {
            out.null()
        }
        out.key("limit_increase_opt_out"); out.bool(limitIncreaseOptOut)
        out.key("locale"); out.string(locale)
        out.key("reminder_channels")
        if let channels = reminderChannels {
            out.beginArray()
            for channel in channels { out.string(channel) }
            out.endArray()
        } else {
            out.null()
        }
        out.key("status"); out.string(status)
        out.key("terms")
        if let terms {
            out.beginObject()
            out.key("instalment_plans")
            out.beginArray()
            for plan in terms.terms.instalmentPlans {
                out.beginObject()
                out.key("apr_bps"); out.int(plan.aprBps)
                out.key("monthly_fee_bps"); out.int(plan.monthlyFeeBps)
                out.key("months"); out.int(plan.months)
                out.endObject()
            }
            out.endArray()
            out.key("interest_free_days"); out.int(terms.terms.interestFreeDays)
            if let version = terms.version { out.key("version"); out.string(version) }
            out.endObject()
        } else {
            out.null()
        }
        out.key("time_zone"); out.string(timeZone)
        out.key("updated_at"); out.string(updatedAt)
        out.key("version"); out.int(version)
        out.endObject()
        return out.bytes
    }
}
