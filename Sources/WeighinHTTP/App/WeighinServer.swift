import Foundation
import Hummingbird
#if canImport(Glibc)
import CMalloc
#endif
import Logging
import Migrations
import Postgres
import PrivateCluster
import ServiceLifecycle
import UnixSignals
import WeighinService

/// Settings of `weighin serve`, resolved from flags and the environment by the command line.
public struct ServerSettings: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// The database; nil starts the private cluster in `dataDirectory`.
    public var databaseURL: String?
    /// A direct database URL for LISTEN/NOTIFY when `databaseURL` goes through PgBouncer.
    public var listenDatabaseURL: String?
    /// The private cluster's folder.
    public var dataDirectory = ".weighin"
    /// The migrations folder; nil finds `sql/` beside Package.swift.
    public var sqlDirectory: String?
    /// Apply pending migrations at start (always done for the private cluster).
    public var migrate = false
    public var poolSize = 8
    public var poolTimeout: Duration = .seconds(5)
    public var statementTimeout: Duration? = .seconds(30)
    public var preparedStatements: PostgresConfiguration.PreparedStatements = .named
    public var service = ServiceConfiguration()
    public var accessLog = true
    /// The longest wait for a request's head on an open connection (keep-alive limit, slow-header cut-off).
    public var idleTimeout: Duration = .seconds(60)
    /// The longest time a request body may take to arrive (slow-body cut-off).
    public var bodyTimeout: Duration = .seconds(30)
    /// The most connections served at once.
    public var maxConnections = 4096
    /// Browser origins allowed by CORS (`*` for any); empty for none.
    public var corsOrigins: [String] = []
    /// How long in-flight requests may take to finish after SIGTERM.
    public var drainTimeout: Duration = .seconds(10)
    /// Refuse settings that are unsafe for a hosted service.
    public var production = false

    public init() {}

    /// The first reason these settings cannot run, as one line; in production mode unsafe settings are reasons too.
    public func problems() -> [String] {
        var problems: [String] = []
        if !(1...65535).contains(port) { problems.append("the port must be from 1 to 65535") }
        if !(1...1000).contains(poolSize) { problems.append("the pool size must be from 1 to 1000") }
        if !(4...16).contains(service.passwordHashCost) { problems.append("the hash cost must be from 4 to 16") }
        if maxConnections < 1 { problems.append("the connection limit must be at least 1") }
        if service.tokenLifetime < .seconds(60) { problems.append("the token lifetime must be at least 1m") }
        guard production else { return problems }
        if service.passwordHashCost < 12 {
            problems.append("production: the hash cost must be at least 12 (OWASP), not \(service.passwordHashCost)")
        }
        if databaseURL == nil { problems.append("production: set DATABASE_URL (the private cluster is for development)") }
        if corsOrigins.contains("*") { problems.append("production: CORS origins must be listed, not *") }
        if service.tokenLifetime > .seconds(90 * 86_400) { problems.append("production: tokens may live 90d at most") }
        if let statementTimeout, statementTimeout > .seconds(300) {
            problems.append("production: the statement timeout must be at most 5m")
        }
        if statementTimeout == nil { problems.append("production: a statement timeout is required") }
        return problems
    }
}

/// Runs the server: the private cluster when no database is given, migrations, the application, and a graceful
/// stop on SIGTERM or SIGINT (stop accepting, drain in-flight requests, close the pool, stop the cluster).
public enum WeighinServer {
    public static func run(_ settings: ServerSettings, logger: Logger) async throws {
        if let problem = settings.problems().first { throw SettingsError(problem) }
        limitMallocArenas()
        let migrations = try Migration.load(from: Migration.locateDirectory(explicit: settings.sqlDirectory))
        var cluster: PrivateCluster?
        let url: String
        if let given = settings.databaseURL {
            url = given
        } else {
            let started = try await PrivateCluster.start(
                .init(directory: URL(fileURLWithPath: settings.dataDirectory), preferredPort: 54329),
                log: { logger.info("\($0)") })
            logger.info("private PostgreSQL running", metadata: ["database_url": .string(started.databaseURL)])
            cluster = started
            url = started.databaseURL
        }
        do {
            try await serve(settings, url: url, migrations: migrations, applyMigrations: settings.migrate || cluster != nil,
                            logger: logger)
        } catch {
            await cluster?.stop()
            throw error
        }
        await cluster?.stop()
    }

    private static func serve(
        _ settings: ServerSettings, url: String, migrations: [Migration], applyMigrations: Bool, logger: Logger
    ) async throws {
        let database = try PostgresConfiguration(
            conninfo: url, statementTimeout: settings.statementTimeout,
            preparedStatements: settings.preparedStatements)
        let migrator = Migrator(migrations: migrations, configuration: database)
        if applyMigrations {
            for migration in try await migrator.migrate() {
                logger.info("applied migration", metadata: ["file": .string(migration.fileName)])
            }
        } else {
            let status = try await migrator.status()
            if let changed = status.changed.first {
                throw MigrationError("migration \(changed.fileName) was changed after it was applied")
            }
            guard status.pending.isEmpty else {
                throw MigrationError(
                    "\(status.pending.count) migration(s) pending (\(status.pending.map(\.fileName).joined(separator: ", "))): "
                        + "run `weighin migrate`, or start with --migrate")
            }
        }
        let configuration = AppConfiguration(
            host: settings.host, port: settings.port, database: database,
            listenDatabase: try settings.listenDatabaseURL.map { try PostgresConfiguration(conninfo: $0) },
            poolSize: settings.poolSize, poolAcquireTimeout: settings.poolTimeout, service: settings.service,
            migrations: migrations, accessLog: settings.accessLog, idleTimeout: settings.idleTimeout,
            bodyTimeout: settings.bodyTimeout, maxConnections: settings.maxConnections, corsOrigins: settings.corsOrigins,
            logger: logger)
        let app = try await buildApplication(configuration)
        var group = ServiceGroupConfiguration(
            services: [.init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = settings.drainTimeout
        group.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: group).run()
    }
}

/// Settings that cannot run, as one line.
public struct SettingsError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Caps glibc's malloc arenas at one per core (its default allows eight per core), unless `MALLOC_ARENA_MAX` says
/// otherwise. Each arena keeps freed memory for its threads; with 1,000 busy connections the cap took about 5 MiB
/// off the server's peak resident memory (BENCHMARKS.md).
private func limitMallocArenas() {
    #if canImport(Glibc)
    guard getenv("MALLOC_ARENA_MAX") == nil else { return }
    _ = mallopt(M_ARENA_MAX, Int32(max(2, ProcessInfo.processInfo.activeProcessorCount)))
    #endif
}
