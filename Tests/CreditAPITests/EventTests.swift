#if canImport(Glibc)
import Glibc
#endif
import CreditLine

import Foundation
import GRDB
import HTTPServer
import HTTPTypes
import Logging
import Synchronization
import Testing
@testable import CreditAPI
@testable import CreditStore

/// A webhook receiver on 127.0.0.1: it checks every signature, answers 500 to the first
/// `failures` attempts at each event and 200 after, and keeps what it accepted in order.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var eventID: String
        var seq: Int
        var type: String
        var accountID: String?
    }

    let secret = Mutex<String>("")
    let failures: Int
    private let attempts = Mutex<[String: Int]>([:])
    private let accepted = Mutex<[Received]>([])
    private let badSignatures = Atomic<Int>(0)
    /// While closed, every push is answered 503 and not counted.
    let open = Atomic<Bool>(true)
    let server: HTTPServer

    init(failures: Int = 1, delayMilliseconds: Int = 0) throws {
        self.failures = failures
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.eventLoopThreads = 1
        var logger = Logger(label: "receiver")
        logger.logLevel = .critical
        let receiver = Box()
        var router = Router()
        router.post("/hook") { request, _ in
            guard let self_ = receiver.value else { return Response(status: .serviceUnavailable) }
            if delayMilliseconds > 0 { try await Task.sleep(for: .milliseconds(delayMilliseconds)) }
            return self_.receive(request)
        }
        server = HTTPServer(configuration: configuration, responder: router, logger: logger)
        receiver.value = self
        try server.start()
    }

    final class Box: @unchecked Sendable { var value: WebhookReceiver? }

    var url: String { "http://127.0.0.1:\(server.port)/hook" }
    var received: [Received] { accepted.withLock { $0 } }
    /// Every push with a good signature, by event id, whatever was answered.
    var pushes: [String: Int] { attempts.withLock { $0 } }
    var signatureFailures: Int { badSignatures.load(ordering: .relaxed) }

    func receive(_ request: Request) -> Response {
        let body = request.body
        guard let header = request.headerFields[HTTPField.Name("Creditline-Signature")!],
            let eventID = request.headerFields[HTTPField.Name("Creditline-Event-Id")!],
            WebhookReceiver.verify(header: header, body: body, secret: secret.withLock { $0 })
        else {
            badSignatures.add(1, ordering: .relaxed)
            return Response(status: .unauthorized)
        }
        guard open.load(ordering: .acquiring) else { return Response(status: .serviceUnavailable) }
        let tries = attempts.withLock { counts -> Int in
            counts[eventID, default: 0] += 1
            return counts[eventID]!
        }
        guard tries > failures else { return Response(status: .internalServerError) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            object["id"] as? String == eventID, let seq = object["seq"] as? Int, let type = object["type"] as? String
        else { return Response(status: .badRequest) }
        accepted.withLock {
            $0.append(Received(eventID: eventID, seq: seq, type: type, accountID: object["account_id"] as? String))
        }
        return Response(status: .ok)
    }

    /// What a receiver does: `t=<unix seconds>,v1=<hex>`, the HMAC-SHA256 of "<t>.<body>" under the
    /// endpoint's secret, compared in full.
    static func verify(header: String, body: [UInt8], secret: String) -> Bool {
        var fields: [String: String] = [:]
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2 { fields[pair[0]] = pair[1] }
        }
        guard let t = fields["t"], let timestamp = Int64(t), let v1 = fields["v1"], !secret.isEmpty else { return false }
        return Hashing.hmacSHA256Hex(key: secret, message: Array("\(timestamp).".utf8) + body) == v1
    }

    func stop() async { await server.shutdown() }
}

/// The event feed and signed webhooks (README "Events and notices").
@Suite struct EventTests {
    /// RFC 4231 test case 2: the HMAC the signatures rest on is the standard one.
    @Test func theSignatureIsHMACSHA256() {
        #expect(Hashing.hmacSHA256Hex(key: "Jefe", message: Array("what do ya want for nothing?".utf8))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func theFeedIsInOrderOfTheKeysTenantAndHoldsNoFreeText() async throws {
        let service = try TestService()
        let journey = try await LineTests().prepare(service, "feed-1")
        #expect(try await LineTests().activate(service, journey).status == 200)
        let cut = try await service.call("POST", "/v1/accounts/\(journey.account)/limit-adjustments", role: .operator,
                                   body: #"{"new_limit":500000,"reason_code":"risk_deterioration","note":"Zhang San asked","initiated_by":"operator"}"#)
        #expect(cut.status == 201)
        let page = try await service.call("GET", "/v1/events")
        #expect(page.status == 200, "\(page.text)")
        let items = try #require(page.json["items"] as? [[String: Any]])
        let types = items.compactMap { $0["type"] as? String }
        #expect(types == ["consent.granted", "consent.granted", "decision.scored", "account.activated", "notice.created",
                          "limit.adjusted", "notice.created"])
        let seqs = items.compactMap { $0["seq"] as? Int }
        #expect(seqs == seqs.sorted())
        // The position after the page: the account's chain, at its last event's entry.
        #expect((page.json["next_after"] as? String)?.hasPrefix("1:") == true)
        #expect(page.json["has_more"] as? Bool == false)
        #expect(!page.text.contains("Zhang San"))
        let adjusted = try #require(items.first { $0["type"] as? String == "limit.adjusted" }?["data"] as? [String: Any])
        #expect(adjusted["new_limit"] as? Int == 500_000)
        #expect(adjusted["reason"] == nil)
        // Paging and filtering.
        let first = try await service.call("GET", "/v1/events?limit=2")
        #expect(first.json["has_more"] as? Bool == true)
        let after = try #require(first.json["next_after"] as? String)
        let second = try await service.call("GET", "/v1/events?after=\(after)&limit=2&type=notice.created")
        #expect((second.json["items"] as? [[String: Any]])?.compactMap { $0["type"] as? String } == ["notice.created", "notice.created"])
        // A number alone was the cursor before the chains: refused, naming the field.
        #expect(try await service.call("GET", "/v1/events?after=3").json["field"] as? String == "after")
        #expect(try await service.call("GET", "/v1/events?limit=1001").status == 422)
        #expect(try await service.call("GET", "/v1/events?type=account.created").status == 422)
        // Another tenant's key sees none of them.
        let other = try service.store.createKey(role: .service, name: "other", tenant: "other").token
        let theirs = try await service.call("GET", "/v1/events", role: nil, token: other)
        #expect((theirs.json["items"] as? [[String: Any]])?.isEmpty == true)
        await service.stop()
    }

    @Test(arguments: [
        ("http://10.0.0.1/hook", "webhook-host-not-allowed"), ("http://example.com/hook", "webhook-host-not-allowed"),
        ("http://169.254.169.254/latest", "webhook-host-not-allowed"), ("ftp://127.0.0.1/hook", "invalid-field"),
        ("http://user:pw@127.0.0.1/hook", "invalid-field"), ("not a url", "invalid-field"),
    ])
    func endpointsOutsideTheAllowedHostsAreRefused(_ url: String, _ code: String) async throws {
        let service = try TestService()
        let reply = try await service.call("POST", "/v1/webhook-endpoints", role: .operator,
                                     body: #"{"url":"\#(url)","event_types":["account.activated"],"tenant":"default"}"#)
        #expect(reply.status == 422, "\(reply.text)")
        #expect(reply.json["code"] as? String == code)
        #expect(reply.json["field"] as? String == "url")
        await service.stop()
    }

    @Test func theAllowedListReplacesLoopback() async throws {
        let service = try TestService { $0.webhookAllowedHosts = ["hooks.example.com"] }
        func create(_ url: String) async throws -> RawClient.Reply {
            try await service.call("POST", "/v1/webhook-endpoints", role: .operator,
                             body: #"{"url":"\#(url)","event_types":["account.activated"],"tenant":"default"}"#)
        }
        #expect(try await create("http://127.0.0.1/hook").json["code"] as? String == "webhook-host-not-allowed")
        let made = try await create("https://HOOKS.example.com/creditline")
        #expect(made.status == 201, "\(made.text)")
        #expect((made.json["secret"] as? String)?.hasPrefix("whsec_") == true)
        let id = try #require(made.json["id"] as? String)
        // The secret is shown once.
        let read = try await service.call("GET", "/v1/webhook-endpoints/\(id)", role: .operator)
        #expect(read.status == 200)
        #expect(read.json["secret"] == nil)
        #expect(!read.text.contains("whsec_"))
        // Not in the chain either.
        let chain = try await service.store.database.read { db in try String.fetchAll(db, sql: "SELECT detail FROM audit_log") }
        #expect(!chain.joined().contains("whsec_") && !chain.joined().contains("/creditline"))
        #expect(try await service.call("DELETE", "/v1/webhook-endpoints/\(id)", role: .operator).status == 204)
        #expect(try await service.call("GET", "/v1/webhook-endpoints/\(id)", role: .operator).status == 404)
        await service.stop()
    }

    /// Every event reaches the receiver, signed, in order per account, although each first
    /// attempt is answered 500.
    @Test func everyEventArrivesSignedInOrderDespiteFailures() async throws {
        let receiver = try WebhookReceiver(failures: 1)
        let service = try TestService { $0.webhookRetryBaseMs = 10 }
        let types = ["consent.granted", "decision.scored", "account.activated", "notice.created", "limit.adjusted"]
        let made = try await service.call("POST", "/v1/webhook-endpoints", role: .operator, body: """
            {"url":"\(receiver.url)","event_types":\(String(describing: types).replacingOccurrences(of: "\\\"", with: "\"")),"tenant":"default"}
            """)
        #expect(made.status == 201, "\(made.text)")
        receiver.secret.withLock { $0 = made.json["secret"] as? String ?? "" }
        for index in 0..<3 {
            let journey = try await LineTests().prepare(service, "hooked-\(index)")
            #expect(try await LineTests().activate(service, journey).status == 200)
            _ = try await service.call("POST", "/v1/accounts/\(journey.account)/limit-adjustments", role: .operator,
                                 body: #"{"new_limit":100000,"reason_code":"risk_deterioration","note":"risk","initiated_by":"operator"}"#)
        }
        let expected = try await service.store.database.read { db in
            try String.fetchAll(db, sql: "SELECT id FROM events WHERE type IN ('\(types.joined(separator: "','"))') ORDER BY seq")
        }
        #expect(expected.count == 3 * 7)
        let arrived = await eventually(seconds: 30) { Set(receiver.received.map(\.eventID)).isSuperset(of: expected) }
        #expect(arrived, "\(receiver.received.count) of \(expected.count)")
        #expect(receiver.signatureFailures == 0)
        for account in Set(receiver.received.compactMap(\.accountID)) {
            let seqs = receiver.received.filter { $0.accountID == account }.map(\.seq)
            #expect(seqs == seqs.sorted(), "out of order for \(account): \(seqs)")
        }
        let endpoint = try #require(made.json["id"] as? String)
        let deliveries = try await service.call("GET", "/v1/webhook-endpoints/\(endpoint)/deliveries?limit=1000", role: .operator)
        let items = try #require(deliveries.json["items"] as? [[String: Any]])
        #expect(items.count == expected.count)
        #expect(await eventually { (try? await service.call("GET", "/v1/webhook-endpoints/\(endpoint)/deliveries?limit=1000",
                                                       role: .operator).json["items"] as? [[String: Any]])?
                    .allSatisfy { $0["status"] as? String == "delivered" } == true })
        #expect(items.allSatisfy { ($0["attempts"] as? Int ?? 0) >= 1 })
        await service.stop()
        await receiver.stop()
    }

    /// A receiver that never answers 2xx: after the retry window the delivery is `failed`, and an
    /// operator's redelivery tries it again in a new window.
    @Test func failedDeliveriesCanBeRedelivered() async throws {
        let receiver = try WebhookReceiver(failures: 1_000_000)
        let clock = DemoClock()
        let service = try TestService(clock: clock) { $0.webhookRetryBaseMs = 10; $0.webhookRetryHours = 1 }
        let made = try await service.call("POST", "/v1/webhook-endpoints", role: .operator,
                                    body: #"{"url":"\#(receiver.url)","event_types":["consent.granted"],"tenant":"default"}"#)
        receiver.secret.withLock { $0 = made.json["secret"] as? String ?? "" }
        let endpoint = try #require(made.json["id"] as? String)
        let account = try #require(try await service.call("POST", "/v1/accounts", body: #"{"customer_ref":"never-1"}"#).json["id"] as? String)
        #expect(try await service.call("POST", "/v1/accounts/\(account)/consents",
                                 body: ConsentTests.grantBody(purpose: "credit_line")).status == 201)
        func delivery() async throws -> [String: Any]? {
            (try await service.call("GET", "/v1/webhook-endpoints/\(endpoint)/deliveries", role: .operator)
                .json["items"] as? [[String: Any]])?.first
        }
        #expect(await eventually { (try? await delivery())?["attempts"] as? Int ?? 0 >= 2 })
        #expect(try await delivery()?["status"] as? String == "pending")
        _ = try await service.call("POST", "/v1/demo/clock", role: .operator, body: #"{"advance_days":1}"#)
        #expect(await eventually { (try? await delivery())?["status"] as? String == "failed" })
        let event = try #require(try await delivery()?["event_id"] as? String)
        let again = try await service.call("POST", "/v1/events/\(event)/redelivery", role: .operator)
        #expect(again.status == 202, "\(again.text)")
        #expect(again.json["redelivering"] as? Int == 1)
        #expect(try await delivery()?["status"] as? String == "pending")
        #expect(try await service.call("POST", "/v1/events/evt_none/redelivery", role: .operator).status == 404)
        await service.stop()
        await receiver.stop()
    }

    /// `kill -9` in the middle of the pushes loses nothing: deliveries are rows written with the
    /// events, and a push is marked delivered only after its 2xx.
    @Test func aKilledServiceLosesNoDelivery() async throws {
        let receiver = try WebhookReceiver(failures: 1, delayMilliseconds: 100)
        receiver.open.store(false, ordering: .releasing)
        let db = try CommandLine_.temporaryDatabase()
        func key(_ role: String) throws -> String {
            try CommandLine_.run(["keys", "create", "--role", role, "--db", db]).stdout
                .split(separator: "\n").last.map(String.init) ?? ""
        }
        let service = try key("service")
        let operatorKey = try key("operator")
        let port = 20_000 + Int.random(in: 0..<10_000)
        func start() async throws -> ChildProcess {
            // Two pushes at a time against a receiver that takes 100 ms: the kill lands while
            // most of the 30 are still owed, however fast the machine. The killed instance's
            // claims lapse after 2 × 1 s + 0.5 s; the restarted one (a new instance) takes them then.
            let process = try CommandLine_.serve(["--port", String(port), "--db", db], environment: [
                "CREDITLINE_WEBHOOK_RETRY_BASE_MS": "20", "CREDITLINE_WEBHOOK_CONCURRENCY": "2",
                "CREDITLINE_WEBHOOK_POLL_MS": "20",
                "CREDITLINE_WEBHOOK_TIMEOUT_MS": "1000", "CREDITLINE_WEBHOOK_CLAIM_MARGIN_MS": "500",
                "CREDITLINE_LOG_LEVEL": "error",
            ])
            _ = await eventually(seconds: 20) { CommandLine_.isReady(port: port) }
            return process
        }
        func call(_ path: String, token: String, body: String) throws -> RawClient.Reply {
            let client = try RawClient(port: port)
            client.send(rawPost(path, token: token, body: body))
            return try #require(client.read())
        }
        var process = try await start()
        let made = try call("/v1/webhook-endpoints", token: operatorKey,
                            body: #"{"url":"\#(receiver.url)","event_types":["consent.granted"]}"#)
        #expect(made.status == 201, "\(made.text)")
        receiver.secret.withLock { $0 = made.json["secret"] as? String ?? "" }
        for index in 0..<30 {
            let account = try call("/v1/accounts", token: service, body: #"{"customer_ref":"killed-\#(index)"}"#)
            let id = try #require(account.json["id"] as? String)
            #expect(try call("/v1/accounts/\(id)/consents", token: service,
                             body: ConsentTests.grantBody(purpose: "credit_assessment")).status == 201)
        }
        // Every event is written; now let pushes through, and kill the service when some are.
        receiver.open.store(true, ordering: .releasing)
        _ = await eventually(seconds: 20) { receiver.received.count >= 3 }
        process.signal(SIGKILL)
        process.wait()
        let before = receiver.received.count
        process = try await start()
        let expected = try await DatabaseQueue(path: db).read { db in
            try String.fetchAll(db, sql: "SELECT id FROM events WHERE type = 'consent.granted' ORDER BY seq")
        }
        #expect(expected.count == 30)
        let all = await eventually(seconds: 60) { Set(receiver.received.map(\.eventID)).isSuperset(of: expected) }
        #expect(all, "\(Set(receiver.received.map(\.eventID)).count) of 30 after the restart (\(before) before the kill)")
        #expect(before < 30, "the kill came after every push; it tested nothing")
        #expect(receiver.signatureFailures == 0)
        process.terminate()
        process.wait()
        await receiver.stop()
    }
}
