import CreditApp
import CreditLine
import CreditStore
import Foundation
import HTTPServer
import HTTPTypes
import Logging
import Synchronization

/// The service: configuration, store, router and server, built the same way by `serve` and by
/// the tests (which call its router in-process, and run the server on port 0 for what only a
/// socket shows).
public final class Application: Sendable {
    public let configuration: ServiceConfiguration
    public let store: Store
    public let logger: Logger
    public let scoring: ScoringModel
    /// The closed list of reasons, and the register of what is held (README "Data governance").
    public let reasonCodes: ReasonCodes
    public let inventory: DataInventory
    let consoleTexts: ConsoleTexts
    let consoleStylesheet: [UInt8]
    /// The customer's own pages' words and stylesheet (README "The customer's own pages").
    let customerTexts: ConsoleTexts
    let customerStylesheet: [UInt8]
    /// The consent notices a grant may name (README "Consent").
    public let notices: NoticeRegistry
    /// What notices say, per locale (README "Events and notices").
    public let composer: NoticeComposer
    let deliverer: WebhookDeliverer
    let sweeps: Sweeps
    /// The sweeps and the deliverer, run and stopped together.
    private let background: BackgroundWork
    let metrics = ServiceMetrics()
    let rateLimiter: RateLimiter
    /// Console sign-in attempts per client address (README "Console").
    let signInLimiter = RateLimiter(rates: [:], burstSeconds: 1)
    public let signer: AuditSigner
    private let serverBox = Mutex<HTTPServer?>(nil)
    /// Passes completed by the sweep that has done the fewest (each runs once at start-up).
    public var sweepsCompleted: Int { sweeps.completed }

    /// Loads the scoring model named by the configuration; a bad file throws, naming it.
    public init(configuration: ServiceConfiguration, store: Store, logger: Logger) throws {
        self.configuration = configuration
        self.store = store
        self.logger = logger
        self.scoring = try ScoringModel.load(configuration)
        let read = ConfigFile.read
        self.reasonCodes = try ReasonCodes(json: read(configuration.reasonCodes))
        self.inventory = try DataInventory(json: read(configuration.dataInventory))
        self.consoleTexts = try ConsoleTexts.load(directory: configuration.console)
        self.consoleStylesheet = Array(try read(configuration.console + "/style.css"))
        self.customerTexts = try ConsoleTexts.load(directory: configuration.customerPages)
        self.customerStylesheet = Array(try read(configuration.customerPages + "/style.css"))
        self.notices = try NoticeRegistry.load(directory: configuration.notices)
        self.composer = try Self.noticeComposer(configuration, scoring)
        // Opened by `storeOptions(_:)`: a store without the templates would refuse the writes
        // that owe a notice, request after request; better to refuse to start.
        guard store.writesNotices else {
            throw ConfigurationError(field: "notices", source: "store",
                                     reason: "the store was opened without notice templates (Application.storeOptions)")
        }
        self.deliverer = WebhookDeliverer(store: store, settings: configuration.webhookSettings, logger: logger)
        self.sweeps = Sweeps(store: store, settings: configuration.sweepSettings, composer: composer, logger: logger)
        self.background = BackgroundWork([sweeps, deliverer], logger: logger)
        self.signer = try AuditSigner.loadOrCreate(path: configuration.auditKeyPath, databasePath: store.path)
        self.rateLimiter = RateLimiter(
            rates: [.service: configuration.rateLimitService, .operator: configuration.rateLimitOperator,
                    .auditor: configuration.rateLimitAuditor, .risk: configuration.rateLimitRisk],
            burstSeconds: configuration.rateLimitBurstSeconds)
    }

    /// How the service opens its store: the configuration's settings and the customers' notice
    /// templates, so that every write that owes a notice writes it (README "Events and notices").
    public static func storeOptions(_ configuration: ServiceConfiguration) throws -> StoreOptions {
        var options = configuration.storeOptions
        options.notices = try noticeComposer(configuration, ScoringModel.load(configuration))
        return options
    }

    /// The customers' notices in every locale, checked against every reason code a model can
    /// give.
    public static func noticeComposer(_ configuration: ServiceConfiguration, _ scoring: ScoringModel) throws
        -> NoticeComposer
    {
        let reasonCodes = Array(Set(scoring.registry.scorecards.flatMap { $0.characteristics.map(\.reasonCode) })).sorted()
        var templates: [NoticeLocale: NoticeTemplates] = [:]
        for locale in NoticeLocale.allCases {
            let file = configuration.notices + "/\(locale.rawValue).json"
            templates[locale] = try NoticeTemplates(json: ConfigFile.read(file), reasonCodes: reasonCodes)
        }
        return NoticeComposer(templates: templates, settings: NoticeRules.Settings(
            coolingOffDays: configuration.coolingOffDays, declineCoolOffDays: configuration.declineCoolOffDays))
    }

    var server: HTTPServer? { serverBox.withLock { $0 } }

    /// Binds and starts serving, and starts the background work; returns when the port accepts
    /// connections.
    public func start() throws {
        try startServing()
        startBackgroundWork()
    }

    /// Binds and starts serving; returns when the port accepts connections.
    public func startServing() throws {
        let server = HTTPServer(configuration: configuration.serverConfiguration, responder: makeRouter(),
                                logger: logger)
        try server.start()
        serverBox.withLock { $0 = server }
    }

    /// The sweeps and the webhook deliverer, which run whether or not anything is served.
    public func startBackgroundWork() {
        background.start()
    }

    /// Every sweep at `now`, at once (the demo clock's jump uses this).
    func sweep(at now: Timestamp) async throws {
        try await sweeps.all(at: now)
    }

    public var port: Int { server?.port ?? 0 }
    public var isDraining: Bool { server?.isDraining ?? false }

    /// SIGTERM's path: stop accepting, drain (readiness is 503 from the first moment), then
    /// checkpoint the WAL so the database file alone is complete.
    public func shutdown() async {
        await background.stop()
        await server?.shutdown()
        do {
            try store.checkpoint()
        } catch {
            logger.error("WAL checkpoint failed", metadata: ["error": "\(error)"])
        }
    }

    public func waitUntilStopped() async {
        await server?.waitUntilStopped()
    }

    /// Every route behind the middleware, as the server answers with it (the tests call it
    /// in-process).
    public func makeRouter() -> Router {
        var router = Router()
        router.add(middleware: RequestObserver(metrics: metrics))
        router.add(middleware: Authentication(store: store))
        router.add(middleware: RateLimiting(limiter: rateLimiter))
        router.add(middleware: IdempotencyMiddleware(store: store))
        OperationsRoutes(application: self).register(on: &router)
        AccountRoutes(application: self).register(on: &router)
        ConsentRoutes(application: self).register(on: &router)
        ScoringRoutes(application: self).register(on: &router)
        ModelRoutes(application: self).register(on: &router)
        PortfolioRoutes(application: self).register(on: &router)
        GovernanceRoutes(application: self).register(on: &router)
        ConsoleRoutes(application: self, texts: consoleTexts, stylesheet: consoleStylesheet).register(on: &router)
        LineRoutes(application: self).register(on: &router)
        LedgerRoutes(application: self).register(on: &router)
        EventRoutes(application: self).register(on: &router)
        AuditRoutes(application: self).register(on: &router)
        CustomerPageRoutes(application: self).register(on: &router)
        AffordabilityRoutes(application: self).register(on: &router)
        HardshipRoutes(application: self).register(on: &router)
        RefundRoutes(application: self).register(on: &router)
        BureauRoutes(application: self).register(on: &router)
        BureauDisputeRoutes(application: self).register(on: &router)
        if let clock = store.time as? DemoClock { DemoRoutes(application: self, clock: clock).register(on: &router) }
        return router
    }

    /// An upload's admission, from its head alone: spooled when it carries a valid key of one of
    /// `roles`, refused otherwise (the route then answers 401 or 403 without reading a byte of
    /// the body: README "Hostile clients and faults").
    func uploadAdmission(_ roles: [Role]) -> Admission {
        let store = self.store
        return { request, _ in
            guard let header = request.headerFields[.authorization], let token = Authentication.bearerToken(header),
                  let key = try? await store.authenticate(token: token), roles.contains(key.role)
            else { return .refuse }
            return .spool
        }
    }

    /// Wraps a handler with the role check: 401 without a valid key, 403 for the wrong role. The
    /// key and the request's time come from the `Authentication` middleware.
    /// `allTenants`: the route acts for the whole installation, so a key of one tenant is refused.
    func authorized(_ roles: [Role], allTenants: Bool = false,
                    _ handler: @escaping @Sendable (Request, RequestContext, Call) async throws -> Response)
        -> Handler
    {
        let store = self.store
        return { request, context in
            guard let key = context[APIKeyContext.self] else { throw Problems.unauthorized }
            guard roles.contains(key.role) else { throw Problems.forbidden(key.role, allowed: roles) }
            guard !allTenants || key.scope.tenant == nil else { throw Problems.allTenantsRequired(key.role) }
            let call = Call(key: key, now: self.requestTime(context), actor: Actor(key, context),
                            store: store, idempotency: context[IdempotencyContext.self])
            if let subject = RouteSubject.of(context.routePattern) {
                let id = try context.parameter("id")
                try call.scope.require(try await store.tenant(of: subject, id: id), subject.rawValue)
            }
            return try await handler(request, context, call)
        }
    }
}

/// The acting key, plus the request id, as the store's `Actor`.
extension Actor {
    init(_ key: APIKey, _ context: RequestContext) {
        self.init(keyID: key.id, role: .key(key.role), requestID: context[RequestIDKey.self] ?? "unknown")
    }
}

extension Application {
    /// The request's time as `Authentication` read it, once; the store's clock for a request the
    /// middleware did not see.
    func requestTime(_ context: RequestContext) -> Timestamp {
        context[RequestTime.self] ?? store.time.now()
    }
}

/// A family of endpoints: its route table (`register`), one method per endpoint, and what they
/// share of the application.
protocol RouteFamily {
    var application: Application { get }
    func register(on router: inout Router)
}

extension RouteFamily {
    var store: Store { application.store }
}
