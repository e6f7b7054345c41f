import ArgumentParser
import Foundation
import Postgres
import WeighinHTTP
import WeighinService

/// `weighin serve`: parses the server's settings (flag, else environment, else default) and runs it.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP API.",
        discussion: """
            Without a database URL, starts a private PostgreSQL cluster in --data-dir (created on first use), \
            applies the migrations and serves on 127.0.0.1:8080. Each setting is taken from its flag, else from \
            its environment variable, else from its default.
            """)

    @Option(help: "Address to listen on. [env: WEIGHIN_HOST] (default: 127.0.0.1)")
    var host: String?

    @Option(help: "Port to listen on. [env: WEIGHIN_PORT] (default: 8080)")
    var port: Int?

    @Option(help: "PostgreSQL URL; none starts the private cluster. [env: DATABASE_URL]")
    var databaseURL: String?

    @Option(help: "Direct PostgreSQL URL for LISTEN/NOTIFY when DATABASE_URL goes through PgBouncer. [env: WEIGHIN_LISTEN_DATABASE_URL]")
    var listenDatabaseURL: String?

    @Option(help: "The private cluster's folder. [env: WEIGHIN_DATA_DIR] (default: .weighin)")
    var dataDir: String?

    @Option(help: "The migrations folder. [env: WEIGHIN_SQL_DIR] (default: sql/ beside Package.swift)")
    var sqlDir: String?

    @Flag(help: "Apply pending migrations before serving (always done for the private cluster).")
    var migrate = false

    @Option(help: "Database connections in the pool. [env: WEIGHIN_POOL_SIZE] (default: 8)")
    var poolSize: Int?

    @Option(help: "Longest wait for a database connection before 503. [env: WEIGHIN_POOL_TIMEOUT] (default: 5s)")
    var poolTimeout: DurationArgument?

    @Option(help: "PostgreSQL statement_timeout. [env: WEIGHIN_STATEMENT_TIMEOUT] (default: 30s)")
    var statementTimeout: DurationArgument?

    @Option(help: "Prepared statements: named (fastest) or unnamed (for PgBouncer transaction pooling). [env: WEIGHIN_PREPARED_STATEMENTS] (default: named)")
    var preparedStatements: PostgresConfiguration.PreparedStatements?

    @Option(help: "Token lifetime from log-in. [env: WEIGHIN_TOKEN_LIFETIME] (default: 30d)")
    var tokenLifetime: DurationArgument?

    @Option(help: "bcrypt cost, 4 to 16. [env: WEIGHIN_HASH_COST] (default: 12)")
    var hashCost: Int?

    @Option(help: "Longest time in-flight requests get to finish after SIGTERM. [env: WEIGHIN_DRAIN_TIMEOUT] (default: 10s)")
    var drainTimeout: DurationArgument?

    @Option(help: "Longest wait for a request's head on an open connection: keep-alive limit and slow-header cut-off. [env: WEIGHIN_IDLE_TIMEOUT] (default: 60s)")
    var idleTimeout: DurationArgument?

    @Option(help: "Longest time a request body may take to arrive: slow-body cut-off. [env: WEIGHIN_BODY_TIMEOUT] (default: 30s)")
    var bodyTimeout: DurationArgument?

    @Option(help: "Most connections served at once; more wait in the listen backlog. [env: WEIGHIN_MAX_CONNECTIONS] (default: 4096)")
    var maxConnections: Int?

    @Option(help: "Comma-separated browser origins allowed by CORS, or *. [env: WEIGHIN_CORS_ORIGINS] (default: none)")
    var corsOrigins: String?

    @Option(help: "Access log, one line per request: on or off. [env: WEIGHIN_ACCESS_LOG] (default: on)")
    var accessLog: Switch?

    @Flag(help: "Production mode: refuse unsafe settings (hash cost below 12, no DATABASE_URL, CORS *, ...). [env: WEIGHIN_PRODUCTION=1]")
    var production = false

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = try logging.bootstrap(label: "weighin")
        var settings = ServerSettings()
        settings.host = host ?? Environment.string("WEIGHIN_HOST") ?? settings.host
        settings.port = try port ?? Environment.value("WEIGHIN_PORT") ?? settings.port
        settings.databaseURL = databaseURL ?? Environment.string("DATABASE_URL")
        settings.listenDatabaseURL = listenDatabaseURL ?? Environment.string("WEIGHIN_LISTEN_DATABASE_URL")
        settings.dataDirectory = dataDir ?? Environment.string("WEIGHIN_DATA_DIR") ?? settings.dataDirectory
        settings.sqlDirectory = sqlDir ?? Environment.string("WEIGHIN_SQL_DIR")
        settings.migrate = migrate
        settings.poolSize = try poolSize ?? Environment.value("WEIGHIN_POOL_SIZE") ?? settings.poolSize
        settings.poolTimeout = try (poolTimeout ?? Environment.value("WEIGHIN_POOL_TIMEOUT"))?.duration ?? settings.poolTimeout
        settings.statementTimeout =
            try (statementTimeout ?? Environment.value("WEIGHIN_STATEMENT_TIMEOUT"))?.duration ?? settings.statementTimeout
        settings.preparedStatements =
            try preparedStatements ?? Environment.value("WEIGHIN_PREPARED_STATEMENTS") ?? settings.preparedStatements
        settings.service.tokenLifetime =
            try (tokenLifetime ?? Environment.value("WEIGHIN_TOKEN_LIFETIME"))?.duration ?? settings.service.tokenLifetime
        settings.service.passwordHashCost = try hashCost ?? Environment.value("WEIGHIN_HASH_COST") ?? settings.service.passwordHashCost
        settings.drainTimeout = try (drainTimeout ?? Environment.value("WEIGHIN_DRAIN_TIMEOUT"))?.duration ?? settings.drainTimeout
        settings.idleTimeout = try (idleTimeout ?? Environment.value("WEIGHIN_IDLE_TIMEOUT"))?.duration ?? settings.idleTimeout
        settings.bodyTimeout = try (bodyTimeout ?? Environment.value("WEIGHIN_BODY_TIMEOUT"))?.duration ?? settings.bodyTimeout
        settings.maxConnections = try maxConnections ?? Environment.value("WEIGHIN_MAX_CONNECTIONS") ?? settings.maxConnections
        if let origins = corsOrigins ?? Environment.string("WEIGHIN_CORS_ORIGINS") {
            settings.corsOrigins = origins.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        }
        settings.accessLog = try (accessLog ?? Environment.value("WEIGHIN_ACCESS_LOG"))?.isOn ?? settings.accessLog
        settings.production = try production || (Environment.value("WEIGHIN_PRODUCTION", as: Switch.self)?.isOn ?? false)
        if let problem = settings.problems().first { throw ValidationError(problem) }
        try await WeighinServer.run(settings, logger: logger)
    }
}

extension PostgresConfiguration.PreparedStatements: ExpressibleByArgument {}
