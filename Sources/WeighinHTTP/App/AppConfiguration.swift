import Logging
import Migrations
import Postgres

/// What `buildApplication` needs: the settings, and what was derived from them at start (database configurations,
/// the migrations this build knows, the logger). `weighin serve` and the tests build it the same way.
public struct AppConfiguration: Sendable {
    public var settings: ServeSettings
    /// The database the pool connects to (URL, statement timeout, prepared statement mode).
    public var database: PostgresConfiguration
    /// A direct connection for LISTEN (through PgBouncer's transaction pooling LISTEN does not work); nil: `database`.
    public var listenDatabase: PostgresConfiguration?
    /// Hot standbys for reads; nil: every read goes to `database`.
    public var readDatabase: PostgresConfiguration?
    /// The migrations this build knows: readiness requires the database to be at the newest.
    public var migrations: [Migration]
    public var logger: Logger

    public init(
        settings: ServeSettings, database: PostgresConfiguration, listenDatabase: PostgresConfiguration? = nil,
        readDatabase: PostgresConfiguration? = nil, migrations: [Migration], logger: Logger = Logger(label: "weighin")
    ) {
        self.settings = settings
        self.database = database
        self.listenDatabase = listenDatabase
        self.readDatabase = readDatabase
        self.migrations = migrations
        self.logger = logger
    }
}
