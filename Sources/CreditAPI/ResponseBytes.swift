import CreditLine

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

extension DecisionBody {
    /// A decision without its explanation (the answer to a score) as `JSONEncoder` with
    /// `.sortedKeys` writes `DecisionBody(decision:, explain: false)`; the explained form, read
    /// far less often, stays with the encoder.
    static func unexplained(_ decision: Decision) -> [UInt8] {
        var out = JSONBytes()
        out.beginObject()
        out.key("account_id"); out.string(decision.accountID)
        out.key("expires_at"); out.string(decision.expiresAt.rfc3339)
        out.key("id"); out.string(decision.id)
        out.key("inputs_sha256"); out.string(decision.inputsSHA256)
        out.key("model_version"); out.string(decision.modelVersion)
        out.key("outcome"); out.string(decision.outcome.rawValue)
        out.key("reasons"); Scorecard.Reason.write(decision.reasons, into: &out)
        out.key("recommended_limit"); out.int(decision.recommendedLimit)
        out.key("score"); out.int(decision.score)
        out.key("scored_at"); out.string(decision.scoredAt.rfc3339)
        out.key("tier"); out.string(decision.tier.rawValue)
        out.endObject()
        return out.bytes
    }
}
