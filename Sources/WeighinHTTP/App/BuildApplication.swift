import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Postgres
import ServiceLifecycle
import WeighinService

/// Builds the whole application from its configuration: pool, services, router, background tasks.
/// `weighin serve` and the tests call this same function.
public func buildApplication(_ configuration: AppConfiguration) async throws -> some ApplicationProtocol {
    let settings = configuration.settings
    let pool = PostgresPool(
        configuration: .init(
            connection: configuration.database, size: settings.poolSize, acquireTimeout: settings.poolTimeout,
            maxWaiters: settings.poolMaxWaiters))
    let replicas = configuration.readDatabase.map { readDatabase in
        ReadReplicas(
            pool: PostgresPool(
                configuration: .init(
                    connection: readDatabase, size: settings.poolSize, acquireTimeout: settings.poolTimeout,
                    maxWaiters: settings.poolMaxWaiters)),
            lagLimit: settings.replicaLagLimit)
    }
    let services: WeighinServices
    do {
        var service = settings.service
        service.webhookPublicAddressesOnly = settings.production
        services = try await WeighinServices(pool: pool, replicas: replicas, configuration: service)
    } catch {
        await pool.closeAndWait()
        await replicas?.pool.closeAndWait()
        throw error
    }
    let metrics = AppMetrics()
    let separateOps = settings.opsPort != nil
    let limiter = RateLimiter(rate: settings.rateLimit, burst: settings.rateBurst)
    let router = buildRouter(
        RouteTable(routes: RouteTable.all.routes.filter { !separateOps || !$0.operational }), services: services,
        configuration: configuration, metrics: metrics, limiter: limiter)
    let headTimeout = TimeAmount(settings.idleTimeout)
    let bodyTimeout = TimeAmount(settings.bodyTimeout)
    var app = Application(
        router: router,
        server: .http1(
            configuration: .init(
                additionalChannelHandlers: [
                    SlowClientHandler(
                        headTimeout: headTimeout, bodyTimeout: bodyTimeout, writeTimeout: TimeAmount(settings.writeTimeout)),
                ])),
        configuration: .init(
            address: .hostname(settings.host, port: settings.port), serverName: nil,
            availableConnectionsDelegate: MaximumAvailableConnections(settings.maxConnections, logger: configuration.logger)),
        logger: configuration.logger)
    app.addServices(
        TokenCacheService(
            tokens: services.tokens, configuration: configuration.listenDatabase ?? configuration.database,
            logger: configuration.logger),
        MaintenanceService(services: services, logger: configuration.logger),
        RateLimitSweeper(limiter: limiter),
        PoolCloser(pool: pool, logger: configuration.logger),
        // After the pool's closer: services stop in reverse order, so deliveries in flight finish and are recorded
        // before the pool closes.
        WebhookDeliveryService(
            outbox: services.outbox, publicAddressesOnly: settings.production, logger: configuration.logger))
    if let replicas {
        app.addServices(
            ReplicaMonitorService(replicas: replicas, primary: services.database, logger: configuration.logger),
            PoolCloser(pool: replicas.pool, logger: configuration.logger))
    }
    if let opsPort = settings.opsPort {
        // Readiness and metrics (and liveness) on a listener of their own, loopback by default: they tell failure
        // counts and cost database statements, so the public port does not serve them.
        let opsRouter = buildRouter(
            RouteTable(routes: RouteTable.all.routes.filter { $0.operational || $0.path == "/healthz" }), pages: nil,
            services: services, configuration: configuration, metrics: metrics)
        app.addServices(Application(
            router: opsRouter,
            configuration: .init(address: .hostname(settings.opsHost, port: opsPort), serverName: nil),
            logger: configuration.logger))
    }
    return app
}

/// The router: one middleware around every route (the request's task kept on its event loop, request id and access
/// log, CORS, the rate limit when given, problem JSON, metrics), and the bearer check around authenticated ones; the
/// web app's pages beside the API's routes, unless `pages` is nil.
func buildRouter(
    _ table: RouteTable = .all, pages: WebPages? = WebPages(files: .bundled), services: WeighinServices,
    configuration: AppConfiguration, metrics: AppMetrics, limiter: RateLimiter? = nil
) -> Router<AppRequestContext> {
    let groups = RouteGroups(
        accounts: AccountRoutes(services: services, metrics: metrics), entries: EntryRoutes(services: services),
        importExport: ImportExportRoutes(
            services: services, imports: ImportGate(capacity: configuration.settings.importLimit),
            workers: ImportWorkers(threads: ImportWorkers.threadCount(
                importLimit: configuration.settings.importLimit, cores: ProcessInfo.processInfo.activeProcessorCount))),
        statistics: StatisticsRoutes(services: services), goals: GoalRoutes(services: services),
        changes: ChangeRoutes(services: services), webhooks: WebhookRoutes(services: services),
        tokens: TokenRoutes(services: services),
        operations: OperationsRoutes(
            services: services, migrations: configuration.migrations, metrics: metrics,
            openAPIDocument: ByteBuffer(bytes: OpenAPI.render())))
    let router = Router(context: AppRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: RequestPipelineMiddleware(
        executors: EventLoopTaskExecutors(), accessLog: AccessLog(enabled: configuration.settings.accessLog),
        metrics: metrics,
        cors: configuration.settings.corsOrigins.isEmpty ? nil : CORSPolicy(origins: configuration.settings.corsOrigins),
        rateLimit: limiter.map(RateLimitPolicy.init), problems: ProblemAnswers(routes: table, pages: pages, metrics: metrics)))
    pages?.add(to: router)
    let authenticated = AuthenticatedRoute(
        tokens: services.tokens, readYourWrites: ReadYourWrites(database: services.database))
    for route in table.routes {
        let handler = route.handler(groups)
        let path = RouterPath(route.routerPath)
        if route.authenticated {
            // The token's scope is checked before the handler reads anything of the body.
            let requirement = route.requirement
            router.on(path, method: route.method) { request, context in
                try await authenticated.respond(to: request, context: context, requirement: requirement, handler: handler)
            }
        } else if route.carriesPersonalData {
            router.on(path, method: route.method) { request, context in
                var response = try await handler(request, context)
                response.keepOutOfCaches()
                return response
            }
        } else {
            router.on(path, method: route.method, use: handler)
        }
    }
    return router
}

/// Keeps the token cache honest for the life of the server: its invalidation listener connected, and the tokens
/// in use re-checked in the background.
struct TokenCacheService: Service {
    let tokens: TokenService
    let configuration: PostgresConfiguration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await tokens.runInvalidationListener(configuration: configuration, logger: logger) }
                group.addTask { await tokens.runRevalidation(logger: logger) }
            }
        }
    }
}

/// Samples the standbys' replay position and the primary's for the life of the server, so reads go to a standby
/// only when it has what their caller wrote.
struct ReplicaMonitorService: Service {
    let replicas: ReadReplicas
    let primary: Database
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown { await replicas.runMonitor(primary: primary, logger: logger) }
    }
}

/// Deletes expired rows every ten minutes.
struct MaintenanceService: Service {
    let services: WeighinServices
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let purged = try await services.purgeExpired()
                    if purged > 0 { logger.info("purged expired rows", metadata: ["rows": "\(purged)"]) }
                } catch {
                    logger.warning("purging expired rows failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(600))
            }
        }
    }
}

/// Drops the rate limiter's idle buckets every ten seconds, so its memory follows the clients active now.
struct RateLimitSweeper: Service {
    let limiter: RateLimiter

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(10))
                limiter.sweep()
            }
        }
    }
}

/// Closes the pool once the server has stopped (services shut down in reverse order, the server first), and
/// waits until its connections are gone, so the process never exits under one still in libpq.
///
/// When the drain timeout passes first (the service group cancels every service), requests still waiting for the
/// database have given up, but their statements would still run to their end (up to the statement timeout) and
/// the pool would wait for them: they are cancelled on the server instead (`PostgresPool.abort`).
struct PoolCloser: Service {
    let pool: PostgresPool
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        await withTaskCancellationHandler {
            await pool.closeAndWait()
        } onCancel: {
            let busy = pool.abort()
            logger.warning(
                "the drain timeout passed: cancelling the statements still running",
                metadata: ["busy_connections": "\(busy)"])
        }
    }
}
