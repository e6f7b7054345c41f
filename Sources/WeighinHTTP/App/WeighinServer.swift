import Foundation
import Hummingbird
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
    public var idleTimeout: Duration = .seconds(60)
    /// How long in-flight requests may take to finish after SIGTERM.
    public var drainTimeout: Duration = .seconds(10)

    public init() {}
}

/// Runs the server: the private cluster when no database is given, migrations, the application, and a graceful
/// stop on SIGTERM or SIGINT (stop accepting, drain in-flight requests, close the pool, stop the cluster).
public enum WeighinServer {
    public static func run(_ settings: ServerSettings, logger: Logger) async throws {
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
            migrations: migrations, accessLog: settings.accessLog, idleTimeout: settings.idleTimeout, logger: logger)
        let app = try await buildApplication(configuration)
        var group = ServiceGroupConfiguration(
            services: [.init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = settings.drainTimeout
        group.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: group).run()
    }
}
