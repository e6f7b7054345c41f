import Logging
import Migrations
import Postgres
import WeighinService

/// Everything `buildApplication` needs; `weighin serve` fills it from flags and the environment, tests directly.
public struct AppConfiguration: Sendable {
    /// The address to listen on.
    public var host: String
    public var port: Int
    /// The database the pool connects to (URL, statement timeout, prepared statement mode).
    public var database: PostgresConfiguration
    /// A direct connection for LISTEN (through PgBouncer's transaction pooling LISTEN does not work); nil: `database`.
    public var listenDatabase: PostgresConfiguration?
    /// Pool size, wait limit and wait queue bound.
    public var poolSize: Int
    public var poolAcquireTimeout: Duration
    public var poolMaxWaiters: Int
    /// The service layer's settings (token lifetime, hash cost, ...).
    public var service: ServiceConfiguration
    /// The migrations this build knows: readiness requires the database to be at the newest.
    public var migrations: [Migration]
    /// One log line per request.
    public var accessLog: Bool
    /// The longest wait for a request's head on an open connection (keep-alive idle limit, slow-header cut-off).
    public var idleTimeout: Duration
    /// The longest time a request's body may take to arrive after its head (slow-body cut-off).
    public var bodyTimeout: Duration
    /// The most connections served at once; more wait in the listen backlog.
    public var maxConnections: Int
    /// Origins allowed to call the API from a browser (CORS); empty: none.
    public var corsOrigins: [String]
    public var logger: Logger

    public init(
        host: String = "127.0.0.1", port: Int = 8080, database: PostgresConfiguration,
        listenDatabase: PostgresConfiguration? = nil, poolSize: Int = 8, poolAcquireTimeout: Duration = .seconds(5),
        poolMaxWaiters: Int = 1024, service: ServiceConfiguration = .init(), migrations: [Migration],
        accessLog: Bool = true, idleTimeout: Duration = .seconds(60), bodyTimeout: Duration = .seconds(30),
        maxConnections: Int = 4096, corsOrigins: [String] = [], logger: Logger = Logger(label: "weighin")
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.listenDatabase = listenDatabase
        self.poolSize = poolSize
        self.poolAcquireTimeout = poolAcquireTimeout
        self.poolMaxWaiters = poolMaxWaiters
        self.service = service
        self.migrations = migrations
        self.accessLog = accessLog
        self.idleTimeout = idleTimeout
        self.bodyTimeout = bodyTimeout
        self.maxConnections = maxConnections
        self.corsOrigins = corsOrigins
        self.logger = logger
    }
}
