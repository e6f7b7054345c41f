/// One setting of `weighin serve` that a flag or an environment variable can give: its names, a line of help, and
/// where its value goes in `ServeSettings`.
public struct Setting: Sendable {
    /// The flag without dashes (`pool-size`).
    public let flag: String
    /// The environment variable (`WEIGHIN_POOL_SIZE`); nil for flags only.
    public let environment: String?
    let summary: String
    private let read: @Sendable (inout ServeSettings, String) -> Bool
    private let show: @Sendable (ServeSettings) -> String
    /// The default in words, when it is not one value (it depends on another setting).
    private let defaultText: String?

    init<Value: SettingText>(
        _ flag: String, _ environment: String?, _ summary: String, _ keyPath: WritableKeyPath<ServeSettings, Value> & Sendable,
        default defaultText: String? = nil
    ) {
        self.flag = flag
        self.environment = environment
        self.summary = summary
        self.defaultText = defaultText
        read = { settings, text in
            guard let value = Value(settingText: text) else { return false }
            settings[keyPath: keyPath] = value
            return true
        }
        show = { $0[keyPath: keyPath].settingText }
    }

    /// `--help`'s text: the summary, the environment variable and the default (read from `ServeSettings()`).
    public var help: String {
        let variable = environment.map { " [env: \($0)]" } ?? ""
        return "\(summary)\(variable) (default: \(defaultText ?? show(ServeSettings())))"
    }

    /// Sets the value from `text`; false when `text` is not a valid value.
    func apply(_ text: String, to settings: inout ServeSettings) -> Bool {
        read(&settings, text)
    }
}

extension ServeSettings {
    /// Every setting with a flag, in `--help`'s order. The README's settings table lists the same.
    public static let catalog: [Setting] = [
        Setting("host", "WEIGHIN_HOST", "Address to listen on.", \.host),
        Setting("port", "WEIGHIN_PORT", "Port to listen on.", \.port),
        Setting(
            "ops-port", "WEIGHIN_OPS_PORT",
            "Port of a listener of its own for /readyz and /metrics (then not served on --port; required in production).",
            \.opsPort),
        Setting("ops-host", "WEIGHIN_OPS_HOST", "Address of the ops listener.", \.opsHost),
        Setting("database-url", "DATABASE_URL", "PostgreSQL URL; none starts the private cluster.", \.databaseURL),
        Setting(
            "listen-database-url", "WEIGHIN_LISTEN_DATABASE_URL",
            "Direct PostgreSQL URL for LISTEN/NOTIFY when DATABASE_URL goes through PgBouncer.", \.listenDatabaseURL),
        Setting(
            "read-database-url", "WEIGHIN_READ_DATABASE_URL",
            "PostgreSQL URL of hot standbys for reads (target_session_attrs=standby or prefer-standby); none: reads go to the primary.",
            \.readDatabaseURL),
        Setting(
            "replica-lag-limit", "WEIGHIN_REPLICA_LAG_LIMIT",
            "A standby lagging the primary by more than this is skipped: reads go to the primary.", \.replicaLagLimit),
        Setting("data-dir", "WEIGHIN_DATA_DIR", "The private cluster's folder.", \.dataDirectory),
        Setting("sql-dir", "WEIGHIN_SQL_DIR", "The migrations folder (none: sql/ beside Package.swift).", \.sqlDirectory),
        Setting("migrate", nil, "Apply pending migrations before serving (always done for the private cluster).", \.migrate),
        Setting("pool-size", "WEIGHIN_POOL_SIZE", "Database connections in the pool.", \.poolSize),
        Setting("pool-timeout", "WEIGHIN_POOL_TIMEOUT", "Longest wait for a database connection before 503.", \.poolTimeout),
        Setting("statement-timeout", "WEIGHIN_STATEMENT_TIMEOUT", "PostgreSQL statement_timeout.", \.statementTimeout),
        Setting(
            "prepared-statements", "WEIGHIN_PREPARED_STATEMENTS",
            "Prepared statements: named (fastest) or unnamed (for PgBouncer transaction pooling).", \.preparedStatements),
        Setting("token-lifetime", "WEIGHIN_TOKEN_LIFETIME", "Token lifetime from log-in.", \.service.tokenLifetime),
        Setting("hash-cost", "WEIGHIN_HASH_COST", "bcrypt cost, 4 to 16.", \.service.passwordHashCost),
        Setting(
            "drain-timeout", "WEIGHIN_DRAIN_TIMEOUT", "Longest time in-flight requests get to finish after SIGTERM.",
            \.drainTimeout),
        Setting(
            "idle-timeout", "WEIGHIN_IDLE_TIMEOUT",
            "Longest wait for a request's head on an open connection: keep-alive limit and slow-header cut-off.",
            \.idleTimeout),
        Setting(
            "body-timeout", "WEIGHIN_BODY_TIMEOUT", "Longest time a request body may take to arrive: slow-body cut-off.",
            \.bodyTimeout),
        Setting(
            "write-timeout", "WEIGHIN_WRITE_TIMEOUT",
            "Longest time an answer may stay unread by its client (an export it stopped reading) before the connection is closed.",
            \.writeTimeout),
        Setting(
            "max-connections", "WEIGHIN_MAX_CONNECTIONS",
            "Most connections served at once; more wait in the listen backlog.", \.maxConnections),
        Setting(
            "max-imports", "WEIGHIN_MAX_IMPORTS",
            "Imports running at once on this instance (each holds a database connection; one per user at a time).",
            \.maxImports, default: "\(ServeSettings.defaultMaxImports), or the pool size if smaller"),
        Setting(
            "rate-limit", "WEIGHIN_RATE_LIMIT",
            "Requests per second each client (bearer token, else address) may make on this instance, on average; more answer 429.",
            \.rateLimit),
        Setting(
            "rate-burst", "WEIGHIN_RATE_BURST", "Requests a client may make at once above that average (its bucket's size).",
            \.rateBurst),
        Setting(
            "cors-origins", "WEIGHIN_CORS_ORIGINS", "Comma-separated browser origins allowed by CORS, or *.",
            \.corsOrigins),
        Setting(
            "access-log", "WEIGHIN_ACCESS_LOG", "Access log, one line per request: on or off.", \.accessLog),
        Setting(
            "production", "WEIGHIN_PRODUCTION",
            "Production mode: refuse unsafe settings (hash cost below 12, no DATABASE_URL, CORS *, ...).", \.production),
        Setting(
            "log-level", "WEIGHIN_LOG_LEVEL", "Log level: trace, debug, info, notice, warning, error, critical.",
            \.logLevel),
        Setting("log-format", "WEIGHIN_LOG_FORMAT", "Log format: text or json (one object per line).", \.logFormat),
    ]

    /// The setting with this flag.
    public static func setting(_ flag: String) -> Setting {
        guard let setting = catalog.first(where: { $0.flag == flag }) else { fatalError("no setting --\(flag)") }
        return setting
    }

    /// The settings from `flags` (flag name without dashes to its text), else from `environment`, else the
    /// defaults; then every problem of the result. Throws the first unreadable value or problem as one line.
    public static func resolve(flags: [String: String], environment: [String: String]) throws(SettingsError)
        -> ServeSettings
    {
        var settings = ServeSettings()
        for setting in catalog {
            let given: (text: String, source: String)? =
                if let text = flags[setting.flag] {
                    (text, "--\(setting.flag)")
                } else if let name = setting.environment, let text = environment[name], !text.isEmpty {
                    (text, name)
                } else {
                    nil
                }
            guard let given else { continue }
            guard setting.apply(given.text, to: &settings) else {
                throw SettingsError("invalid value for \(given.source): '\(given.text)'")
            }
        }
        if let problem = settings.problems().first { throw SettingsError(problem) }
        return settings
    }
}

/// Settings that cannot run, as one line.
public struct SettingsError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
