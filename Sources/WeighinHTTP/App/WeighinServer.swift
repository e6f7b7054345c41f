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

/// Runs the server: the private cluster when no database is given, migrations, the application, and a graceful
/// stop on SIGTERM or SIGINT (stop accepting, drain in-flight requests, close the pool, stop the cluster).
public enum WeighinServer {
    public static func run(_ settings: ServeSettings, logger: Logger) async throws {
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
        _ settings: ServeSettings, url: String, migrations: [Migration], applyMigrations: Bool, logger: Logger
    ) async throws {
        let database = try PostgresConfiguration(
            conninfo: url, statementTimeout: settings.statementTimeout,
            preparedStatements: settings.preparedStatements)
        // Every server of a multi-host URL, never its password.
        logger.info("database", metadata: ["database": .string(database.redactedDescription)])
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
        try await checkStatementTimeout(settings, database: database, logger: logger)
        let configuration = AppConfiguration(
            settings: settings, database: database,
            listenDatabase: try settings.listenDatabaseURL.map { try PostgresConfiguration(conninfo: $0) },
            readDatabase: try settings.readDatabaseURL.map {
                try PostgresConfiguration(
                    conninfo: $0, statementTimeout: settings.statementTimeout,
                    preparedStatements: settings.preparedStatements)
            },
            migrations: migrations, logger: logger)
        let app = try await buildApplication(configuration)
        let deadline = ShutdownDeadline(
            drainTimeout: settings.drainTimeout, cancellationLimit: ShutdownDeadline.cancellationLimit, logger: logger)
        var group = ServiceGroupConfiguration(
            services: [.init(service: app), .init(service: deadline)], gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        group.maximumGracefulShutdownDuration = settings.drainTimeout
        // No cancellation limit of the group's own: it ends a process that outlives it with a fatal error (a crash).
        // After the drain timeout the pool cancels what still runs; `ShutdownDeadline` bounds the rest.
        group.maximumCancellationDuration = nil
        defer { deadline.disarm() }
        try await ServiceGroup(configuration: group).run()
        logger.info("stopped")
    }
}

/// Checks the `statement_timeout` the database really applies to weighin's statements.
///
/// weighin asks for it in the `options` startup parameter, which PgBouncer (and other poolers) drop: behind one the
/// timeout silently disappears unless it is set on the role. Production refuses to start then; otherwise it warns.
private func checkStatementTimeout(
    _ settings: ServeSettings, database: PostgresConfiguration, logger: Logger
) async throws {
    guard let wanted = settings.statementTimeout else { return }
    let rows = try await PostgresConnection.withConnection(database) { connection in
        try await connection.query(
            SQL("""
                SELECT setting::bigint AS ms, current_user AS role FROM pg_settings WHERE name = 'statement_timeout'
                """, name: "settings.statement_timeout"))
    }
    let applied = try rows[0].decode(Int64.self, column: "ms")
    guard applied != wanted.milliseconds else { return }
    let role = try rows[0].decode(String.self, column: "role")
    let message = "the database applies statement_timeout = \(applied) ms, not the \(wanted.text) asked for (a pooler "
        + "such as PgBouncer drops the startup option that carries it): set it on the role, "
        + "ALTER ROLE \"\(role)\" SET statement_timeout = '\(wanted.text)'"
    guard !settings.production else { throw SettingsError("production: " + message) }
    logger.warning("\(message)")
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
