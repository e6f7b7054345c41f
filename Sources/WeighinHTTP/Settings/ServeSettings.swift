import Logging
import Postgres
import Primitives
import WeighinService

/// Every setting of `weighin serve`, each default written here once.
///
/// `resolve(flags:environment:)` (in `SettingsCatalog.swift`) fills one from the command line and the environment;
/// tests build one and change fields directly. `buildApplication` takes the same value.
public struct ServeSettings: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// A listener of its own for readiness and metrics; nil serves them on `port` (development only).
    public var opsPort: Int?
    public var opsHost = "127.0.0.1"
    /// The database; nil starts the private cluster in `dataDirectory`.
    public var databaseURL: String?
    /// A direct database URL for LISTEN/NOTIFY when `databaseURL` goes through PgBouncer.
    public var listenDatabaseURL: String?
    /// Hot standbys for the read-only calls (libpq URL, several hosts allowed, `target_session_attrs=standby` or
    /// `prefer-standby`); nil: every read goes to the primary.
    public var readDatabaseURL: String?
    /// A standby whose replay lags the primary by more than this is skipped: its reads go to the primary.
    public var replicaLagLimit: Duration = .seconds(5)
    /// The private cluster's folder.
    public var dataDirectory = ".weighin"
    /// The migrations folder; nil finds `sql/` beside Package.swift.
    public var sqlDirectory: String?
    /// Apply pending migrations at start (always done for the private cluster).
    public var migrate = false
    /// Database connections (each carries many pipelined statements).
    public var poolSize = 8
    /// The longest wait for a connection before 503 + `Retry-After`.
    public var poolTimeout: Duration = .seconds(5)
    /// Callers that may wait for a connection at once; more are refused at once (no flag).
    public var poolMaxWaiters = 1024
    public var statementTimeout: Duration? = .seconds(30)
    public var preparedStatements: PostgresConfiguration.PreparedStatements = .named
    /// Token lifetime, bcrypt cost, hashing threads and the token cache.
    public var service = ServiceConfiguration()
    /// One log line per request.
    public var accessLog = true
    public var logLevel: Logger.Level = .info
    public var logFormat: LogFormat = .text
    /// The longest wait for a request's head on an open connection (keep-alive limit, slow-header cut-off).
    public var idleTimeout: Duration = .seconds(60)
    /// The longest time a request body may take to arrive (slow-body cut-off).
    public var bodyTimeout: Duration = .seconds(30)
    /// The longest time an answer may stay unread (the client's socket full) before the connection is closed.
    public var writeTimeout: Duration = .seconds(30)
    /// The most connections served at once; more wait in the listen backlog.
    public var maxConnections = 4096
    /// Imports running at once on this instance (one per user at a time); more answer 429. Nil (not given):
    /// `defaultMaxImports`, or the pool size when that is smaller (each import holds a connection), so
    /// `--pool-size 1` alone starts; a limit given over the pool size is refused.
    public var maxImports: Int?
    /// The import limit when none is given and the pool allows it.
    public static let defaultMaxImports = 2
    /// Requests per second each client (bearer token, or address without one) may make on this instance, on
    /// average.
    public var rateLimit = 100
    /// Requests a client may make at once above the average (the token bucket's size).
    public var rateBurst = 1000
    /// Browser origins allowed by CORS (`*` for any); empty for none.
    public var corsOrigins: [String] = []
    /// How long in-flight requests may take to finish after SIGTERM.
    public var drainTimeout: Duration = .seconds(10)
    /// Refuse settings that are unsafe for a hosted service.
    public var production = false

    public init() {}

    /// The import limit in force: `maxImports` as given, else `defaultMaxImports` clamped to the pool size.
    public var importLimit: Int {
        maxImports ?? max(1, min(Self.defaultMaxImports, poolSize))
    }

    /// Every reason these settings cannot run, one line each; in production mode unsafe settings are reasons too.
    public func problems() -> [String] {
        var problems: [String] = []
        if !(1...65535).contains(port) { problems.append("the port must be from 1 to 65535") }
        if let opsPort, !(1...65535).contains(opsPort) || opsPort == port {
            problems.append("the ops port must be from 1 to 65535 and differ from the port")
        }
        if !(1...1000).contains(poolSize) { problems.append("the pool size must be from 1 to 1000") }
        if !(4...16).contains(service.passwordHashCost) { problems.append("the hash cost must be from 4 to 16") }
        if maxConnections < 1 { problems.append("the connection limit must be at least 1") }
        if let maxImports, !(1...max(1, poolSize)).contains(maxImports) {
            problems.append(
                "the import limit (\(maxImports)) must be from 1 to the pool size (\(poolSize)): each import holds a "
                    + "database connection")
        }
        if rateLimit < 1 { problems.append("the rate limit must be at least 1 request per second") }
        if rateBurst < 1 { problems.append("the rate burst must be at least 1 request") }
        if service.tokenLifetime < .seconds(60) { problems.append("the token lifetime must be at least 1m") }
        if replicaLagLimit < ReadReplicas.interval * 2 {
            problems.append("the replica lag limit must be at least \((ReadReplicas.interval * 2).text) (twice the sampling interval)")
        }
        guard production else { return problems }
        if service.passwordHashCost < 12 {
            problems.append("production: the hash cost must be at least 12 (OWASP), not \(service.passwordHashCost)")
        }
        if databaseURL == nil { problems.append("production: set DATABASE_URL (the private cluster is for development)") }
        if opsPort == nil {
            problems.append("production: set --ops-port (readiness and metrics are not served on the public port)")
        }
        if corsOrigins.contains("*") { problems.append("production: CORS origins must be listed, not *") }
        if service.tokenLifetime > .seconds(90 * 86_400) { problems.append("production: tokens may live 90d at most") }
        if let statementTimeout, statementTimeout > .seconds(300) {
            problems.append("production: the statement timeout must be at most 5m")
        }
        if statementTimeout == nil { problems.append("production: a statement timeout is required") }
        return problems
    }
}
