import CreditLine
import Foundation
import GRDB

/// The answer to an activation request.
public struct ActivationResult: Sendable {
    public var outcome: Activation.Outcome
    public var account: Account
    public var reasons: [Scorecard.Reason]
    public var reviewID: String?
    /// `model-review-overdue` when the gate, not the tier, sent the activation to a person.
    public var reviewReason: String?
}

/// Activation, decided by `Activation.decide` against the rows as they are inside the write
/// transaction, so two racing activations cannot both open a line.
public struct ActivateAccount: BusinessWrite {
    public var accountID: String
    /// Its rule reads and changes this account's rows alone (`BusinessWrite.chainAccountID`).
    public var chainAccountID: String? { accountID }
    public var consentID: String
    public var decisionID: String
    public var termsVersion: String
    public var requestedLimit: Int?
    public var terms: Terms
    public var policy: LimitPolicy
    /// Asked for on the customer's own page: the page they were shown (README "The customer's own pages").
    public var confirmation: CustomerConfirmation?

    public init(accountID: String, consentID: String, decisionID: String, termsVersion: String, requestedLimit: Int?,
                terms: Terms, policy: LimitPolicy, confirmation: CustomerConfirmation? = nil)
    {
        self.confirmation = confirmation
        self.accountID = accountID
        self.consentID = consentID
        self.decisionID = decisionID
        self.termsVersion = termsVersion
        self.requestedLimit = requestedLimit
        self.terms = terms
        self.policy = policy
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (ActivationResult, [AuditRecord]) {
        var account = try Existence.require(try Store.fetchAccount(db, id: accountID), "account")
        let consent = try Store.fetchConsent(db, id: consentID).flatMap { $0.accountID == accountID ? $0 : nil }
        let named = try Store.fetchDecision(db, id: decisionID).flatMap { $0.accountID == accountID ? $0 : nil }
        let facts = Activation.Facts(
            accountStatus: account.status, declinedAt: account.declinedAt, consent: consent,
            assessmentConsentActive: try Store.hasActiveConsent(db, accountID: accountID, purpose: .creditAssessment, now: now),
            decision: named, termsVersion: termsVersion, currentTermsVersion: terms.version, requestedLimit: requestedLimit,
            modelReview: try named.flatMap { try Store.latestModelReview(db, modelVersion: $0.modelVersion) },
            affordability: try Store.latestAffordability(db, accountID: accountID),
            plans: named.flatMap { terms.tiers[$0.tier]?.instalmentPlans } ?? [])
        let outcome = try Activation.decide(facts, policy: policy, now: now)
        let decision = try Existence.require(named, "decision")
        let from = account.status
        account.status = try AccountStateMachine.transition(from: from, to: outcome.status, cause: .activation,
                                                            actor: .service)
        account.termsVersion = termsVersion
        account.tier = decision.tier
        account.consentID = consentID
        account.decisionID = decisionID
        var records: [AuditRecord] = []
        var reviewID: String?
        var reviewReason: String?
        switch outcome {
        case .activated(let limit):
            account.creditLimit = limit
            // The first activation dates the line; a reactivation keeps that date.
            if account.activatedAt == nil { account.activatedAt = now }
            account.terms = terms.tiers[decision.tier]
            let basis = Activation.limitBasis(facts, decision: decision, policy: policy, now: now)
            account.limitBasis = basis
            records.append(AuditRecord(.accountActivated(AccountActivated(
                from: from, tier: decision.tier, creditLimit: limit,
                path: .request(decisionID: decisionID, consentID: consentID, termsVersion: termsVersion),
                plans: account.terms?.instalmentPlans ?? [], limitBasis: basis,
                declaredIncome: facts.affordability.flatMap { $0.isCurrent(at: now) ? $0.monthlyIncome : nil })),
                accountID: accountID, subjectID: accountID))
        case .pendingReview:
            account.creditLimit = 0
            let id = Identifier.make("rev")
            reviewID = id
            // An approving tier here means the gate held it: its model's review has lapsed.
            let reason = decision.outcome == .approve ? ModelReviewGate.overdueReason : nil
            reviewReason = reason
            try db.execute(
                cached: """
                    INSERT INTO reviews (id, kind, status, account_id, decision_id, created_at, reason, requested_limit)
                    VALUES (?, 'activation', 'open', ?, ?, ?, ?, ?)
                    """,
                arguments: [id, accountID, decisionID, now.rfc3339, reason, requestedLimit])
            records.append(AuditRecord(.fact(.pendingReview(
                from: from, tier: decision.tier, path: .request(decisionID: decisionID, consentID: consentID, termsVersion: termsVersion),
                reviewID: id, reviewReason: reason)), accountID: accountID, subjectID: accountID))
            records.append(AuditRecord(.fact(.reviewRequested(kind: .activation, decisionID: decisionID, hasStatement: nil)),
                                       accountID: accountID, subjectID: id))
        case .declined:
            account.creditLimit = 0
            account.declinedAt = now
            records.append(AuditRecord(.accountDeclined(AccountDeclined(
                from: from, reasonCodes: decision.reasons.map(\.code),
                path: .request(decisionID: decisionID, consentID: consentID, termsVersion: termsVersion),
                tier: decision.tier)),
                accountID: accountID, subjectID: accountID))
        }
        account = try Store.save(db, account, now: now)
        _ = try Store.recordConfirmation(db, accountID: accountID, subjectID: decisionID, confirmation, now: now)
        return (ActivationResult(outcome: outcome, account: account, reasons: decision.reasons, reviewID: reviewID,
                                 reviewReason: reviewReason), records)
    }
}

/// An operator's decision on a review. Approving an activation above the tier-D recommendation
/// takes two operators (four eyes): the first approval is recorded, and a different key must
/// approve the same limit to resolve it.
public struct ResolveReview: BusinessWrite {
    public enum Result: Sendable, Equatable {
        case resolved(ReviewRecord, Account?)
        case awaitingSecondApproval(ReviewRecord)
    }

    public var reviewID: String
    public var approve: Bool
    public var creditLimit: Int?
    public var note: String
    /// The person resolving (four eyes are two people, not two keys).
    public var approver: String
    public var terms: Terms
    public var policy: LimitPolicy
    /// Tier D's recommended limit: the most one operator may grant alone.
    public var singleApproverLimit: Int

    public init(reviewID: String, approve: Bool, creditLimit: Int?, note: String, approver: String, terms: Terms,
                policy: LimitPolicy, singleApproverLimit: Int)
    {
        self.reviewID = reviewID
        self.approve = approve
        self.creditLimit = creditLimit
        self.note = note
        self.approver = approver
        self.terms = terms
        self.policy = policy
        self.singleApproverLimit = singleApproverLimit
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (Result, [AuditRecord]) {
        let review = try Existence.require(try Store.fetchReview(db, id: reviewID), "review")
        // A contest changes no account; an activation review always has one.
        let account = review.review.kind == .activation
            ? try Existence.require(try Store.fetchAccount(db, id: review.review.accountID), "account") : nil
        let consent = try account?.consentID.flatMap { try Store.fetchConsent(db, id: $0) }
        let assessment = try account.map {
            try Store.hasActiveConsent(db, accountID: $0.id, purpose: .creditAssessment, now: now)
        } ?? false
        let affordability = try account.flatMap { try Store.latestAffordability(db, accountID: $0.id) }
        let plans = (terms.tiers[account?.tier ?? .d] ?? terms.tiers[.d])?.instalmentPlans ?? []
        let verdict = try ReviewRules.resolve(
            review, accountStatus: account?.status, creditLineConsentActive: consent?.isActive(at: now) ?? false,
            assessmentConsentActive: assessment,
            ReviewRules.Resolution(approve: approve, creditLimit: creditLimit, approver: approver),
            singleApproverLimit: singleApproverLimit, policy: policy, affordability: affordability, plans: plans, now: now)
        let accountID = review.review.accountID
        var records: [AuditRecord] = []
        var line = account
        switch verdict {
        case .contestResolved(let upheld):
            records.append(AuditRecord(.reviewResolved(.contest(upheld: upheld, decisionID: review.review.decisionID)),
                                       accountID: accountID, subjectID: reviewID))
        case .firstApproval(let limit):
            try db.execute(cached: "UPDATE reviews SET first_approver = ?, first_approved_limit = ? WHERE id = ?",
                           arguments: [approver, limit, reviewID])
            return (.awaitingSecondApproval(try reread(db, review)), [AuditRecord(
                .reviewResolved(.firstApproval(creditLimit: limit)), accountID: accountID, subjectID: reviewID)])
        case .activationApproved(let limit, let to, let secondApprover):
            var opened = try Existence.require(line, "account")
            let from = opened.status
            opened.status = to
            opened.creditLimit = limit
            // Tier D's terms, or the decision's own tier when the model-review gate sent it here.
            opened.terms = terms.tiers[opened.tier ?? .d] ?? terms.tiers[.d]
            opened.termsVersion = terms.version
            if opened.activatedAt == nil { opened.activatedAt = now }
            // The limit the person approved stands where the tier's recommendation would, weighed
            // as an activation's is (README "Ability to repay").
            let basis = Affordability.limit(tierRecommendation: limit, requestedLimit: review.requestedLimit,
                                            assessment: affordability, plans: plans, settings: policy.affordability,
                                            policyMax: policy.maxLimit, now: now)
            opened.limitBasis = basis
            line = opened
            records.append(AuditRecord(.reviewResolved(.activationApproved(creditLimit: limit, secondApprover: secondApprover)),
                                       accountID: accountID, subjectID: reviewID))
            records.append(AuditRecord(.accountActivated(AccountActivated(
                from: from, tier: opened.tier ?? .d, creditLimit: limit, path: .reviewResolution(reviewID: reviewID),
                plans: opened.terms?.instalmentPlans ?? [], limitBasis: basis,
                declaredIncome: affordability.flatMap { $0.isCurrent(at: now) ? $0.monthlyIncome : nil })),
                accountID: accountID, subjectID: accountID))
        case .activationDeclined(let to):
            var declined = try Existence.require(line, "account")
            let from = declined.status
            declined.status = to
            declined.declinedAt = now
            line = declined
            records.append(AuditRecord(.reviewResolved(.activationDeclined), accountID: accountID, subjectID: reviewID))
            // The decision's reasons go with the decline: the customer's notice says why.
            let decision = try Existence.require(try Store.fetchDecision(db, id: review.review.decisionID), "decision")
            records.append(AuditRecord(.accountDeclined(AccountDeclined(
                from: from, reasonCodes: decision.reasons.map(\.code), path: .reviewResolution(reviewID: reviewID))),
                accountID: accountID, subjectID: accountID))
        }
        let saved = try line.map { try Store.save(db, $0, now: now) }
        let resolution = try StoredJSON.text(["approve": approve ? "true" : "false", "note": note])
        try db.execute(cached: "UPDATE reviews SET status = 'resolved', resolved_at = ?, resolved_by = ?, resolution = ? WHERE id = ?",
                       arguments: [now.rfc3339, approver, resolution, reviewID])
        return (.resolved(try reread(db, review), saved), records)
    }

    private func reread(_ db: SQLConnection, _ review: ReviewRecord) throws -> ReviewRecord {
        try Store.fetchReview(db, id: reviewID) ?? review
    }
}
/// A limit adjustment as recorded.
public struct LimitAdjustment: Sendable, Equatable {
    public var id: String
    public var accountID: String
    public var oldLimit: Int
    public var newLimit: Int
    public var direction: LimitPolicy.Direction
    public var initiatedBy: LimitPolicy.Initiator
    public var noticeDue: Bool
    public var effectiveAt: Timestamp
}

/// A limit change, checked by `LimitPolicy.evaluate` against the current rows inside the write
/// transaction: of two racing +50 % increases only the first can pass.
public struct AdjustLimit: BusinessWrite {
    public var accountID: String
    /// Its rule reads and changes this account's rows alone (`BusinessWrite.chainAccountID`).
    public var chainAccountID: String? { accountID }
    public var request: LimitPolicy.Request
    /// From the closed list (`ReasonCodes`); a person's words go in `note`, outside the chain.
    public var reasonCode: String
    public var note: String?
    /// Required when the customer initiated the change.
    public var confirmation: CustomerConfirmation?
    public var policy: LimitPolicy
    public var actorKeyID: String

    public init(accountID: String, request: LimitPolicy.Request, reasonCode: String, note: String? = nil,
                confirmation: CustomerConfirmation? = nil, policy: LimitPolicy, actorKeyID: String)
    {
        self.accountID = accountID
        self.request = request
        self.reasonCode = reasonCode
        self.note = note
        self.confirmation = confirmation
        self.policy = policy
        self.actorKeyID = actorKeyID
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> ((LimitAdjustment, Account), [AuditRecord]) {
        try CustomerConfirmation.require(confirmation, customerInitiated: request.initiatedBy == .customer)
        let account = try Existence.require(try Store.fetchAccount(db, id: accountID), "account")
        let state = try Store.limitState(db, account, now: now)
        let direction = try policy.evaluate(request, state: state, now: now)
        try CustomerConfirmation.require(confirmation, customerInitiated: CustomerConfirmation.isRequired(
            initiatedBy: request.initiatedBy, customerAccepted: request.customerAccepted, direction: direction))
        var (adjustment, saved, event) = try Store.recordLimitChange(
            db, account, request: request, direction: direction, reasonCode: reasonCode, actor: actorKeyID, now: now,
            cause: .request(hasNote: note != nil))
        event.affordableLimit = policy.affordableCap(direction, state: state, now: now)
        try Store.addNote(db, accountID: accountID, subjectID: adjustment.id, kind: "limit_adjustment", text: note, now: now)
        event.confirmation = try Store.recordConfirmation(db, accountID: accountID, subjectID: adjustment.id, confirmation,
                                                          now: now)
        return ((adjustment, saved), [AuditRecord(event, accountID: accountID, adjustmentID: adjustment.id)])
    }
}

/// An active (or frozen) line takes the terms of a newer decision's tier, only because the
/// customer accepted them: a better score never changes terms by itself, nor does a limit change.
public struct AcceptTerms: BusinessWrite {
    public var accountID: String
    public var termsVersion: String
    public var decisionID: String
    public var terms: Terms
    /// What the customer saw and confirmed: needed when the new terms are dearer in any way.
    public var confirmation: CustomerConfirmation?

    public init(accountID: String, termsVersion: String, decisionID: String, terms: Terms,
                confirmation: CustomerConfirmation? = nil)
    {
        self.accountID = accountID
        self.termsVersion = termsVersion
        self.decisionID = decisionID
        self.terms = terms
        self.confirmation = confirmation
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (Account, [AuditRecord]) {
        let found = try Store.fetchAccount(db, id: accountID)
        let decision = try Store.fetchDecision(db, id: decisionID).flatMap { $0.accountID == accountID ? $0 : nil }
        let (tier, tierTerms, noDearer) = try TermsAcceptance.decide(
            TermsAcceptance.Facts(accountStatus: found?.status, decision: decision, requestedTermsVersion: termsVersion,
                                  currentTerms: found?.terms, confirmed: confirmation != nil),
            terms: terms, now: now)
        var account = try Existence.require(found, "account")
        let previousTier = account.tier
        account.terms = tierTerms
        account.termsVersion = termsVersion
        account.tier = tier
        account.decisionID = decisionID
        account = try Store.save(db, account, now: now)
        // The confirmation names the decision whose terms were taken (compliance check 5).
        let evidence = try Store.recordConfirmation(db, accountID: accountID, subjectID: decisionID, confirmation, now: now)
        return (account, [AuditRecord(.termsAccepted(TermsAccepted(
            termsVersion: termsVersion, decisionID: decisionID, tier: tier, previousTier: previousTier, noDearer: noDearer,
            interestFreeDays: tierTerms.interestFreeDays, confirmation: evidence)), accountID: accountID, subjectID: accountID)])
    }
}

/// `limit_increase_opt_out` (UK CONC 6.7.7R: once said, no increase is offered).
public struct UpdatePreferences: BusinessWrite {
    public var accountID: String
    public var limitIncreaseOptOut: Bool?
    /// The language of the customer's notices from now on.
    public var locale: NoticeLocale?
    /// Checked by `ReminderRules.timeZone` and `.channels` before it comes here.
    public var timeZone: String?
    public var reminderChannels: [String]?

    public init(accountID: String, limitIncreaseOptOut: Bool?, locale: NoticeLocale? = nil, timeZone: String? = nil,
                reminderChannels: [String]? = nil)
    {
        (self.accountID, self.limitIncreaseOptOut, self.locale) = (accountID, limitIncreaseOptOut, locale)
        (self.timeZone, self.reminderChannels) = (timeZone, reminderChannels)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (Account, [AuditRecord]) {
        var account = try Existence.require(try Store.fetchAccount(db, id: accountID), "account")
        let before = account
        account.limitIncreaseOptOut = limitIncreaseOptOut ?? account.limitIncreaseOptOut
        account.locale = locale ?? account.locale
        account.timeZone = timeZone ?? account.timeZone
        account.reminderChannels = reminderChannels ?? account.reminderChannels
        guard account != before else { return (account, []) }
        account = try Store.save(db, account, now: now)
        // The time zone stays out of the chain (it says where the customer lives); the channels
        // are a closed set.
        return (account, [AuditRecord(.fact(.preferencesUpdated(limitIncreaseOptOut: account.limitIncreaseOptOut,
                                                                locale: account.locale,
                                                                reminderChannels: account.reminderChannels)),
                                      accountID: accountID, subjectID: accountID)])
    }
}

/// An operator's freeze, unfreeze or closure, decided by `OperatorAction.decide`.
public struct ApplyOperatorAction: BusinessWrite {
    public var accountID: String
    public var action: OperatorAction
    /// From the closed list (`ReasonCodes`); a person's words go in `note`, outside the chain.
    public var reasonCode: String
    public var note: String?

    public init(accountID: String, action: OperatorAction, reasonCode: String, note: String? = nil) {
        (self.accountID, self.action, self.reasonCode, self.note) = (accountID, action, reasonCode, note)
    }

    public func apply(_ db: SQLConnection, now: Timestamp) throws -> (Account, [AuditRecord]) {
        let found = try Store.fetchAccount(db, id: accountID)
        let to = try action.decide(
            from: found?.status,
            creditLineConsentActive: try Store.hasActiveConsent(db, accountID: accountID, purpose: .creditLine, now: now))
        var account = try Existence.require(found, "account")
        let from = account.status
        account.status = to
        account = try Store.save(db, account, now: now)
        let audited: AuditAction
        switch action {
        case .freeze: audited = .accountFrozen
        case .unfreeze: audited = .accountUnfrozen
        case .closure: audited = .accountClosed
        }
        try Store.addNote(db, accountID: accountID, subjectID: accountID, kind: "operator_action", text: note, now: now)
        return (account, [AuditRecord(.accountTransitioned(AccountTransitioned(
            action: audited, from: from, to: to, cause: action.cause,
            reason: .operatorAction(reasonCode: reasonCode, hasNote: note != nil))), accountID: accountID, subjectID: accountID)])
    }
}

extension Store {
    /// The queue, oldest first; a tenant's operator sees that tenant's reviews only.
    public func reviews(status: Review.Status?, kind: Review.Kind?, scope: TenantScope = .all) async throws
        -> [ReviewRecord]
    {
        try await read { db in
            // One constant statement: an absent filter is a NULL that matches every row.
            try StoreRow.fetchAll(db, cached: """
                SELECT \(Store.reviewColumns.list) FROM reviews
                WHERE (CAST(?1 AS TEXT) IS NULL OR account_id IN (SELECT id FROM accounts WHERE tenant = ?1))
                  AND (CAST(?2 AS TEXT) IS NULL OR status = ?2) AND (CAST(?3 AS TEXT) IS NULL OR kind = ?3)
                ORDER BY created_at, id
                """, arguments: [scope.tenant, status?.rawValue, kind?.rawValue]).map(Self.review(from:))
        }
    }

    /// An open review with what a reviewer sees beside it: its decision and its account's consents.
    public struct QueuedReview: Sendable {
        public var record: ReviewRecord
        public var decision: Decision?
        public var consents: [Consent]
    }

    /// The open reviews a scope sees, oldest first, each with its decision and its account's
    /// consents: three statements in one read, not two more per review.
    public func reviewQueue(scope: TenantScope) async throws -> [QueuedReview] {
        try await read { db in
            let open = """
                status = 'open' AND (CAST(?1 AS TEXT) IS NULL OR account_id IN (SELECT id FROM accounts WHERE tenant = ?1))
                """
            let records = try StoreRow.fetchAll(db, cached: """
                SELECT \(Store.reviewColumns.list) FROM reviews WHERE \(open) ORDER BY created_at, id
                """, arguments: [scope.tenant]).map(Self.review(from:))
            let decisions = try StoreRow.fetchAll(db, cached: """
                SELECT \(Store.decisionColumns.list) FROM decisions WHERE id IN (SELECT decision_id FROM reviews WHERE \(open))
                """, arguments: [scope.tenant]).map(Self.decision(from:))
            let consents = try StoreRow.fetchAll(db, cached: """
                SELECT \(Store.consentColumns.list) FROM consents
                WHERE account_id IN (SELECT account_id FROM reviews WHERE \(open)) ORDER BY granted_at, id
                """, arguments: [scope.tenant]).map(Self.consent(from:))
            let decisionByID = Dictionary(decisions.map { ($0.id, $0) }) { first, _ in first }
            let consentsByAccount = Dictionary(grouping: consents, by: \.accountID)
            return records.map {
                QueuedReview(record: $0, decision: decisionByID[$0.review.decisionID],
                             consents: consentsByAccount[$0.review.accountID] ?? [])
            }
        }
    }

    static func fetchReview(_ db: SQLConnection, id: String) throws -> ReviewRecord? {
        try StoreRow.fetchOne(db, cached: "SELECT \(Store.reviewColumns.list) FROM reviews WHERE id = ?", arguments: [id]).map(review(from:))
    }

    static func review(from row: StoreRow) throws -> ReviewRecord {
        var read = ColumnReader(row, table: "reviews")
        return ReviewRecord(
            review: Review(
                id: try read("id"), kind: try read.value("kind"), status: try read.value("status"), accountID: try read("account_id"),
                decisionID: try read("decision_id"), statement: try read("statement"), createdAt: try read.timestamp("created_at")),
            resolvedAt: try read.optionalTimestamp("resolved_at"), resolution: try read("resolution"),
            firstApprover: try read("first_approver"), firstApprovedLimit: try read("first_approved_limit"), reason: try read("reason"),
            requestedLimit: try read("requested_limit"))
    }

    static let reviewColumns = TableColumns("reviews", """
        id, kind, status, account_id, decision_id, statement, created_at, resolved_at, resolution, first_approver,
        first_approved_limit, reason, requested_limit
        """)
}
