import CreditLine
import CreditStore
import Foundation
import HTTPServer
import HTTPTypes

/// The event feed, webhook endpoints and customer notices (README "Events and notices").
struct EventRoutes: RouteFamily {
    let application: Application

    struct EndpointRequest: RequestFields {
        var url: String
        var eventTypes: [String]
        /// Required from an operator key that acts for every tenant: an endpoint belongs to one.
        var tenant: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case url, tenant
            case eventTypes = "event_types"
        }
    }

    struct EndpointBody: Encodable {
        var endpoint: WebhookEndpoint
        /// Shown once, in the answer to the creation.
        var showSecret: Bool
        enum CodingKeys: String, CodingKey {
            case id, tenant, url, secret
            case eventTypes = "event_types"
            case createdAt = "created_at"
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(endpoint.id, forKey: .id)
            try container.encode(endpoint.tenant, forKey: .tenant)
            try container.encode(endpoint.url, forKey: .url)
            try container.encode(endpoint.eventTypes, forKey: .eventTypes)
            try container.encode(endpoint.createdAt.rfc3339, forKey: .createdAt)
            if showSecret { try container.encode(endpoint.secret, forKey: .secret) }
        }
    }

    struct DeliveryBody: Encodable {
        var delivery: WebhookDelivery
        enum CodingKeys: String, CodingKey {
            case id, status, attempts
            case eventID = "event_id"
            case eventSeq = "event_seq"
            case eventType = "event_type"
            case accountID = "account_id"
            case nextAttemptAt = "next_attempt_at"
            case lastAttemptAt = "last_attempt_at"
            case lastStatus = "last_status"
            case lastError = "last_error"
            case deliveredAt = "delivered_at"
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(delivery.id, forKey: .id)
            try container.encode(delivery.eventID, forKey: .eventID)
            try container.encode(delivery.eventSeq, forKey: .eventSeq)
            try container.encode(delivery.eventType.rawValue, forKey: .eventType)
            try container.encode(delivery.accountID, forKey: .accountID)
            try container.encode(delivery.status.rawValue, forKey: .status)
            try container.encode(delivery.attempts, forKey: .attempts)
            try container.encode(delivery.status == .pending ? delivery.nextAttemptAt.rfc3339 : nil, forKey: .nextAttemptAt)
            try container.encode(delivery.lastAttemptAt?.rfc3339, forKey: .lastAttemptAt)
            try container.encode(delivery.lastStatus, forKey: .lastStatus)
            try container.encode(delivery.lastError, forKey: .lastError)
            try container.encode(delivery.deliveredAt?.rfc3339, forKey: .deliveredAt)
        }
    }

    struct NoticeBody: Encodable {
        var notice: NoticeRecord
        var now: Timestamp
        enum CodingKeys: String, CodingKey {
            case id, kind, locale, text, status, channel, channels
            case accountID = "account_id"
            case contentSHA256 = "content_sha256"
            case templateVersion = "template_version"
            case createdAt = "created_at"
            case dueBy = "due_by"
            case deliveredAt = "delivered_at"
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(notice.id, forKey: .id)
            try container.encode(notice.accountID, forKey: .accountID)
            try container.encode(notice.kind.rawValue, forKey: .kind)
            try container.encode(notice.locale.rawValue, forKey: .locale)
            try container.encode(notice.text, forKey: .text)
            try container.encode(notice.contentSHA256, forKey: .contentSHA256)
            try container.encode(notice.templateVersion, forKey: .templateVersion)
            try container.encode(notice.createdAt.rfc3339, forKey: .createdAt)
            try container.encode(notice.dueBy.rfc3339, forKey: .dueBy)
            try container.encode(notice.status(at: now).rawValue, forKey: .status)
            try container.encode(notice.deliveredAt?.rfc3339, forKey: .deliveredAt)
            try container.encode(notice.channel, forKey: .channel)
            try container.encode(notice.channels, forKey: .channels)
        }
    }

    struct Items<Item: Encodable>: Encodable {
        var items: [Item]
    }

    struct DeliveryRequest: RequestFields {
        var channel: String
        var deliveredAt: String
        enum CodingKeys: String, CodingKey, CaseIterable {
            case channel
            case deliveredAt = "delivered_at"
        }
    }

    private var allowedHosts: [String] { application.configuration.webhookAllowedHosts }

    func register(on router: inout Router) {
        router.get("/v1/events", handler: application.authorized([.service], listEvents))
        router.post("/v1/events/{id}/redelivery", handler: application.authorized([.operator], redeliverEvent))
        router.post("/v1/webhook-endpoints", handler: application.authorized([.operator], createEndpoint))
        router.get("/v1/webhook-endpoints/{id}", handler: application.authorized([.operator], readEndpoint))
        router.delete("/v1/webhook-endpoints/{id}", handler: application.authorized([.operator], deleteEndpoint))
        router.get("/v1/webhook-endpoints/{id}/deliveries", handler: application.authorized([.operator], listDeliveries))
        router.get("/v1/accounts/{id}/notices", handler: application.authorized([.service, .operator], listAccountNotices))
        router.get("/v1/notices", handler: application.authorized([.operator], listNotices))
        router.post("/v1/notices/{id}/delivery", handler: application.authorized([.service], recordNoticeDelivery))
    }

    // MARK: - Endpoints

    @Sendable func listEvents(_ request: Request, _: RequestContext, _ call: Call) async throws -> Response {
        let query = request.queryParameters
        guard let position = AuditPosition(text: query["after"] ?? "") else {
            throw DomainError.invalidField("after", "after must be a position, chain:seq pairs joined by commas (e.g. 0:12,1:40), as next_after gives it: events are read chain by chain since the audit log has chains (README \"Events and notices\").")
        }
        let limit = try QueryParameter.integer(query, "limit", default: 100, range: 1...Store.maxEventPage)
        if let type = query["type"], !(AuditAction(rawValue: type)?.isEvent ?? false) {
            throw DomainError.invalidField("type", "type must be an event type, such as account.activated.")
        }
        let page = try await store.events(after: position, limit: limit, type: query["type"], scope: call.scope)
        // The events are canonical JSON already: spliced in, not decoded and encoded again.
        let items = page.events.map(\.json).joined(separator: ",")
        return .json(Array("{\"items\":[\(items)],\"next_after\":\"\(page.next.text)\",\"has_more\":\(page.hasMore)}".utf8))
    }

    @Sendable func redeliverEvent(_: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        try await call.perform(RedeliverEvent(eventID: try context.parameter("id"))) { count in
            try ResponseBody.json(["redelivering": count], status: .accepted)
        }
    }

    @Sendable func createEndpoint(_ request: Request, _: RequestContext, _ call: Call) async throws -> Response {
        let body = try RequestBody.decode(EndpointRequest.self, from: request)
        let tenant: String
        switch (call.scope.tenant, body.tenant) {
        case (let own?, nil): tenant = own
        case (let own?, let named?):
            guard named == own else { throw DomainError.invalidField("tenant", "This key acts for tenant \(own) only.") }
            tenant = own
        case (nil, let named?): tenant = try Tenant.validate(named)
        case (nil, nil): throw DomainError.invalidField("tenant", "tenant is required: an endpoint belongs to one tenant.")
        }
        let url = try WebhookRules.validate(url: body.url, allowedHosts: allowedHosts)
        let types = try WebhookRules.eventTypes(body.eventTypes)
        return try await call.perform(CreateWebhookEndpoint(tenant: tenant, url: url.absoluteString,
                                                            host: url.host?.lowercased() ?? "", eventTypes: types)) { endpoint in
            var response = try ResponseBody.json(EndpointBody(endpoint: endpoint, showSecret: true), status: .created)
            response.headerFields[.location] = "/v1/webhook-endpoints/\(endpoint.id)"
            return response
        }
    }

    @Sendable func readEndpoint(_: Request, _ context: RequestContext, _: Call) async throws -> Response {
        guard let endpoint = try await store.webhookEndpoint(id: try context.parameter("id")), endpoint.deletedAt == nil
        else { throw DomainError.notFound("webhook endpoint") }
        return try ResponseBody.json(EndpointBody(endpoint: endpoint, showSecret: false))
    }

    @Sendable func deleteEndpoint(_: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        try await call.perform(DeleteWebhookEndpoint(id: try context.parameter("id"))) { _ in
            Response(status: .noContent)
        }
    }

    @Sendable func listDeliveries(_ request: Request, _ context: RequestContext, _: Call) async throws -> Response {
        let query = request.queryParameters
        let after = try QueryParameter.integer(query, "after", default: 0, range: 0...Int.max)
        let limit = try QueryParameter.integer(query, "limit", default: 100, range: 1...Store.maxEventPage)
        let deliveries = try await store.deliveries(endpointID: try context.parameter("id"), afterSeq: after, limit: limit)
        return try ResponseBody.json(Items(items: deliveries.map(DeliveryBody.init)))
    }

    @Sendable func listAccountNotices(_: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let notices = try await store.notices(accountID: try context.parameter("id"))
        return try ResponseBody.json(Items(items: notices.map { NoticeBody(notice: $0, now: call.now) }))
    }

    @Sendable func listNotices(_ request: Request, _: RequestContext, _ call: Call) async throws -> Response {
        let text = request.queryParameters["status"] ?? NoticeStatus.overdue.rawValue
        guard let status = NoticeStatus(rawValue: text) else {
            throw DomainError.invalidField("status", "status must be pending, delivered or overdue.")
        }
        let notices = try await store.notices(status: status, now: call.now, scope: call.scope)
        return try ResponseBody.json(Items(items: notices.map { NoticeBody(notice: $0, now: call.now) }))
    }

    @Sendable func recordNoticeDelivery(_ request: Request, _ context: RequestContext, _ call: Call) async throws -> Response {
        let body = try RequestBody.decode(DeliveryRequest.self, from: request)
        guard NoticeDelivery.channels.contains(body.channel) else {
            throw DomainError.invalidField("channel", "channel must be one of \(NoticeDelivery.channels.joined(separator: ", ")).")
        }
        guard let deliveredAt = Timestamp(rfc3339: body.deliveredAt) else {
            throw DomainError.invalidField("delivered_at", "delivered_at must be an RFC 3339 time.")
        }
        return try await call.perform(
            RecordNoticeDelivery(noticeID: try context.parameter("id"), channel: body.channel, deliveredAt: deliveredAt)
        ) { notice in try ResponseBody.json(NoticeBody(notice: notice, now: call.now)) }
    }
}
