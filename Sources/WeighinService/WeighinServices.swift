import Crypto
import Foundation
import Postgres
import Primitives

/// Settings of the service layer.
public struct ServiceConfiguration: Sendable {
    /// How long a token lives from log-in.
    public var tokenLifetime: Duration
    /// bcrypt cost: 12 or more in production (OWASP); tests lower it to run fast.
    public var passwordHashCost: Int
    /// Threads that hash passwords (bounded so log-in floods cannot take every core).
    public var hashingThreads: Int
    /// Hash requests that may wait for a hashing thread before log-ins are refused with 503.
    public var hashingQueueLimit: Int
    /// How long a verified token is trusted from memory (revocations reach every instance at once anyway).
    public var tokenCacheTimeToLive: Duration
    /// Whether webhook URLs must resolve to public addresses only (production: requests never reach the service's
    /// own network); checked at creation and again before each delivery.
    public var webhookPublicAddressesOnly = false
    /// A token's `last_used_at` is written at most this often.
    public var tokenUseRecordInterval: Duration

    public init(
        tokenLifetime: Duration = .seconds(30 * 86_400), passwordHashCost: Int = 12,
        hashingThreads: Int = max(1, ProcessInfo.processInfo.activeProcessorCount - 1), hashingQueueLimit: Int = 32,
        tokenCacheTimeToLive: Duration = .seconds(10), tokenUseRecordInterval: Duration = .seconds(60)
    ) {
        self.tokenLifetime = tokenLifetime
        self.passwordHashCost = passwordHashCost
        self.hashingThreads = hashingThreads
        self.hashingQueueLimit = hashingQueueLimit
        self.tokenCacheTimeToLive = tokenCacheTimeToLive
        self.tokenUseRecordInterval = tokenUseRecordInterval
    }
}

/// The service layer, assembled: accounts, tokens, entries, statistics and goals over one connection pool.
/// It knows nothing about HTTP.
public final class WeighinServices: Sendable {
    public let database: Database
    public let accounts: AccountService
    public let tokens: TokenService
    public let entries: EntryService
    public let idempotency: IdempotentReplay
    public let statistics: StatisticsService
    public let goals: GoalService
    public let changes: ChangeFeed
    public let webhooks: WebhookService
    public let outbox: WebhookOutbox
    public let admin: AdminService

    /// Builds the services (their reads on `replicas` when given); reads the listing cursor's signing key, which
    /// every instance shares through the database.
    public init(pool: PostgresPool, replicas: ReadReplicas? = nil, configuration: ServiceConfiguration) async throws {
        let database = Database(pool: pool, replicas: replicas)
        let rows = try await database.query(
            SQL("SELECT secret FROM server_secrets WHERE name = 'cursor'", name: "server_secrets.cursor"))
        guard let secret = try rows.first?.decode([UInt8].self, column: "secret") else {
            throw ServiceError.unavailable(
                retryAfter: 5, reason: "The database has no cursor secret: run the migrations.")
        }
        self.database = database
        let hasher = PasswordHasher(
            cost: configuration.passwordHashCost, threads: configuration.hashingThreads,
            queueLimit: configuration.hashingQueueLimit)
        tokens = TokenService(
            database: database, lifetime: configuration.tokenLifetime,
            cacheTimeToLive: configuration.tokenCacheTimeToLive,
            useRecordInterval: configuration.tokenUseRecordInterval)
        accounts = AccountService(database: database, hasher: hasher, tokens: tokens)
        entries = EntryService(database: database, cursorKey: secret)
        idempotency = IdempotentReplay(database: database)
        statistics = StatisticsService(database: database)
        goals = GoalService(database: database)
        changes = ChangeFeed(database: database, cursorKey: secret)
        webhooks = WebhookService(database: database, publicAddressesOnly: configuration.webhookPublicAddressesOnly)
        outbox = WebhookOutbox(database: database)
        admin = AdminService(database: database, tokens: tokens)
    }

    /// Deletes expired tokens, idempotency keys older than 24 hours, failed log-ins and password changes older
    /// than their window, and the feed's deletion records past their retention (raising each user's feed horizon
    /// in the same statement, so a cursor from before them answers 410). Returns the number of rows deleted.
    @discardableResult
    public func purgeExpired() async throws -> Int {
        let window = AccountService.failureWindow.wholeSeconds
        let retention = ChangeFeed.tombstoneRetention.wholeSeconds
        let logRetention = WebhookOutbox.logRetention.wholeSeconds
        let rows = try await database.query(
            SQL("""
                WITH tokens AS (DELETE FROM auth_tokens WHERE expires_at < now() RETURNING 1),
                     keys AS (DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours' RETURNING 1),
                     logins AS (DELETE FROM failed_logins
                                WHERE attempted_at < now() - make_interval(secs => \(window)) RETURNING 1),
                     changes AS (DELETE FROM failed_password_changes
                                 WHERE attempted_at < now() - make_interval(secs => \(window)) RETURNING 1),
                     tombstones AS (DELETE FROM entry_tombstones
                                    WHERE deleted_at < now() - make_interval(secs => \(retention))
                                    RETURNING user_id, change_seq),
                     -- (A data-modifying WITH runs whether or not it is read.)
                     horizons AS (UPDATE users SET feed_horizon = greatest(feed_horizon, purged.seq)
                                  FROM (SELECT user_id, max(change_seq) AS seq FROM tombstones GROUP BY user_id) AS purged
                                  WHERE users.id = purged.user_id RETURNING 1),
                     deliveries AS (DELETE FROM webhook_deliveries
                                    WHERE attempted_at < now() - make_interval(secs => \(logRetention)) RETURNING 1)
                SELECT (SELECT count(*) FROM tokens) + (SELECT count(*) FROM keys) + (SELECT count(*) FROM logins)
                       + (SELECT count(*) FROM changes) + (SELECT count(*) FROM tombstones)
                       + (SELECT count(*) FROM deliveries) AS n
                """, name: "maintenance.purge"))
        return try rows[0].decode(column: "n")
    }
}
