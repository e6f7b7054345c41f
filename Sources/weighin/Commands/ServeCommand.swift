import ArgumentParser
import Foundation
import Logging
import WeighinHTTP

/// `weighin serve`: hands its flags and the environment to `ServeSettings.resolve` (flag, else environment
/// variable, else default) and runs the server. Names, help and defaults come from `ServeSettings.catalog`.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP API.",
        discussion: """
            Without a database URL, starts a private PostgreSQL cluster in --data-dir (created on first use), \
            applies the migrations and serves on 127.0.0.1:8080. Each setting is taken from its flag, else from \
            its environment variable, else from its default.
            """)

    // Kept as text: ServeSettings reads flags and environment variables alike, with the same messages.
    @Option(help: help("host")) var host: String?
    @Option(help: help("port")) var port: String?
    @Option(help: help("ops-port")) var opsPort: String?
    @Option(help: help("ops-host")) var opsHost: String?
    @Option(name: .customLong("database-url"), help: help("database-url")) var databaseURL: String?
    @Option(name: .customLong("listen-database-url"), help: help("listen-database-url")) var listenDatabaseURL: String?
    @Option(name: .customLong("read-database-url"), help: help("read-database-url")) var readDatabaseURL: String?
    @Option(help: help("replica-lag-limit")) var replicaLagLimit: String?
    @Option(help: help("data-dir")) var dataDir: String?
    @Option(help: help("sql-dir")) var sqlDir: String?
    @Flag(help: help("migrate")) var migrate = false
    @Option(help: help("pool-size")) var poolSize: String?
    @Option(help: help("pool-timeout")) var poolTimeout: String?
    @Option(help: help("statement-timeout")) var statementTimeout: String?
    @Option(help: help("prepared-statements")) var preparedStatements: String?
    @Option(help: help("token-lifetime")) var tokenLifetime: String?
    @Option(help: help("hash-cost")) var hashCost: String?
    @Option(help: help("drain-timeout")) var drainTimeout: String?
    @Option(help: help("idle-timeout")) var idleTimeout: String?
    @Option(help: help("body-timeout")) var bodyTimeout: String?
    @Option(help: help("write-timeout")) var writeTimeout: String?
    @Option(help: help("max-connections")) var maxConnections: String?
    @Option(help: help("max-imports")) var maxImports: String?
    @Option(help: help("rate-limit")) var rateLimit: String?
    @Option(help: help("rate-burst")) var rateBurst: String?
    @Option(help: help("cors-origins")) var corsOrigins: String?
    @Option(help: help("access-log")) var accessLog: String?
    @Flag(help: help("production")) var production = false
    @Option(help: help("log-level")) var logLevel: String?
    @Option(help: help("log-format")) var logFormat: String?

    static func help(_ flag: String) -> ArgumentHelp {
        ArgumentHelp(ServeSettings.setting(flag).help)
    }

    /// The flags given, by name.
    var flags: [String: String] {
        let given: [(String, String?)] = [
            ("host", host), ("port", port), ("ops-port", opsPort), ("ops-host", opsHost), ("database-url", databaseURL), ("listen-database-url", listenDatabaseURL),
            ("read-database-url", readDatabaseURL), ("replica-lag-limit", replicaLagLimit),
            ("data-dir", dataDir), ("sql-dir", sqlDir), ("migrate", migrate ? "on" : nil), ("pool-size", poolSize),
            ("pool-timeout", poolTimeout), ("statement-timeout", statementTimeout),
            ("prepared-statements", preparedStatements), ("token-lifetime", tokenLifetime), ("hash-cost", hashCost),
            ("drain-timeout", drainTimeout), ("idle-timeout", idleTimeout), ("body-timeout", bodyTimeout), ("write-timeout", writeTimeout),
            ("max-connections", maxConnections), ("max-imports", maxImports),
            ("rate-limit", rateLimit), ("rate-burst", rateBurst), ("cors-origins", corsOrigins), ("access-log", accessLog),
            ("production", production ? "on" : nil), ("log-level", logLevel), ("log-format", logFormat),
        ]
        return Dictionary(uniqueKeysWithValues: given.compactMap { name, value in value.map { (name, $0) } })
    }

    func run() async throws {
        let settings: ServeSettings
        do {
            settings = try ServeSettings.resolve(flags: flags, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError(error.description)
        }
        LogFormat.bootstrap(settings.logFormat, level: settings.logLevel)
        try await WeighinServer.run(settings, logger: Logger(label: "weighin"))
    }
}
