import CreditLine
import Testing
@testable import CreditStore

/// Claims on webhook deliveries (README "Events and notices"): one instance at a time pushes a
/// delivery, a lapsed claim is taken over, and claims count against an endpoint's slots.
@Suite struct DeliveryLeaseTests {
    /// An event that endpoints subscribed to consent.granted are owed, for an account.
    struct PlantEvent: BusinessWrite {
        var accountID: String
        func apply(_ db: SQLConnection, now: Timestamp) throws -> (Bool, [AuditRecord]) {
            (true, [AuditRecord(.fact(.consentGranted(purpose: .creditLine, noticeVersion: "2026-11",
                                                      noticeSHA256: String(repeating: "0f", count: 32), channel: .app,
                                                      method: .explicitOptIn, expiresAt: now.adding(days: 30))),
                                accountID: accountID, subjectID: Identifier.make("cns"))])
        }
    }

    /// A store with one endpoint and one pending delivery for each of `accounts` accounts.
    func prepare(accounts: Int) async throws -> (Store, ManualTime) {
        let time = ManualTime()
        let (store, _) = try temporaryStore(time: time)
        _ = try await store.perform(
            CreateWebhookEndpoint(tenant: "default", url: "http://127.0.0.1:9/hook", host: "127.0.0.1",
                                  eventTypes: [.consentGranted]), by: testActor)
        for index in 0..<accounts {
            let (account, _) = try await store.perform(CreateAccount(customerRef: "lease-\(index)"), by: testActor)
            _ = try await store.perform(PlantEvent(accountID: account.id), by: testActor)
        }
        return (store, time)
    }

    func claim(_ store: Store, _ id: String, by owner: String, forMilliseconds lease: Int64 = 10_000) async throws -> Bool {
        let now = store.time.now()
        return try await store.perform(
            ClaimDelivery(deliveryID: id, owner: owner, until: Timestamp(milliseconds: now.milliseconds + lease)),
            by: .system("webhooks"), at: now)
    }

    func record(_ store: Store, _ id: String, by owner: String) async throws -> WebhookDelivery.Status {
        try await store.perform(
            RecordDeliveryAttempt(deliveryID: id, owner: owner, outcome: .delivered(status: 200), retryHours: 24,
                                  baseMilliseconds: 1000, jitter: 0),
            by: .system("webhooks"), at: store.time.now())
    }

    func due(_ store: Store, perEndpoint: Int = 2) async throws -> [String] {
        try await store.dueDeliveries(at: store.time.now(), limit: 100, perEndpoint: perEndpoint).map(\.id)
    }

    @Test func aClaimIsOneInstancesUntilItLapses() async throws {
        let (store, time) = try await prepare(accounts: 1)
        let id = try #require(try await due(store).first)
        #expect(try await claim(store, id, by: "a"))
        #expect(try await !claim(store, id, by: "b"), "taken while a's claim runs")
        #expect(try await due(store).isEmpty, "a claimed delivery is not offered")
        // a stalls past its claim; b takes the delivery over.
        time.advance(milliseconds: 10_001)
        #expect(try await due(store) == [id])
        #expect(try await claim(store, id, by: "b"))
        // a's late result is not recorded over b's claim; b's is, and lets the claim go.
        #expect(try await record(store, id, by: "a") == .pending)
        #expect(try await record(store, id, by: "b") == .delivered)
        #expect(try await !claim(store, id, by: "c"), "a delivered delivery is not claimed again")
    }

    @Test func claimsTakeTheirEndpointsSlotsWhoeverHoldsThem() async throws {
        let (store, _) = try await prepare(accounts: 4)
        let offered = try await due(store)
        #expect(offered.count == 2, "two slots an endpoint, four owed")
        #expect(try await claim(store, offered[0], by: "a"))
        #expect(try await due(store).count == 1)
        #expect(try await claim(store, offered[1], by: "b"))
        #expect(try await due(store).isEmpty, "both slots held, by two instances")
        #expect(try await store.perform(ReleaseDeliveryClaims(owner: "a"), by: .system("webhooks")) == 1)
        #expect(try await due(store).count == 1)
        #expect(try await due(store, perEndpoint: 4).count == 3)
    }

    /// A slot coming free goes to the tenant with the fewest pushes in flight, however much older
    /// the busy tenant's owed events are: a lone free slot once went to the oldest event, so a
    /// tenant whose slow receivers held every slot took each one back as it came free.
    @Test func aFreeSlotGoesToTheTenantWithTheFewestInFlight() async throws {
        let (store, _) = try await prepare(accounts: 4)
        _ = try await store.perform(
            CreateWebhookEndpoint(tenant: "quiet", url: "http://127.0.0.1:9/quiet", host: "127.0.0.1",
                                  eventTypes: [.consentGranted]), by: testActor)
        let (account, _) = try await store.perform(CreateAccount(customerRef: "lease-quiet", tenant: "quiet"), by: testActor)
        _ = try await store.perform(PlantEvent(accountID: account.id), by: testActor)
        let offered = try await store.dueDeliveries(at: store.time.now(), limit: 100, perEndpoint: 4)
        // Nothing in flight: the oldest first, the quiet tenant's one second.
        let quiet = try #require(offered.first { $0.url.hasSuffix("/quiet") })
        #expect(offered.count == 5 && offered[1].id == quiet.id, "\(offered.map(\.url))")
        // The busy tenant holds three slots; its fourth delivery is older than the quiet one's.
        for delivery in offered where delivery.id != quiet.id && delivery.id != offered[4].id {
            #expect(try await claim(store, delivery.id, by: "a"))
        }
        #expect(try await store.dueDeliveries(at: store.time.now(), limit: 1, perEndpoint: 4).map(\.id) == [quiet.id])
        // The slots given back, the order is the first one again.
        #expect(try await store.perform(ReleaseDeliveryClaims(owner: "a"), by: .system("webhooks")) == 3)
        #expect(try await due(store, perEndpoint: 4) == offered.map(\.id))
    }
}
