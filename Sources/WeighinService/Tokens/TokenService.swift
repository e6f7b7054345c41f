import Foundation
import Logging
import Postgres
import Primitives

/// Issues, checks and revokes bearer tokens.
public final class TokenService: Sendable {
    /// The NOTIFY channel on which every instance hears "this user's tokens or profile changed".
    static let channel = "weighin_auth"

    let database: Database
    /// How long a token lives from log-in (fixed, not sliding).
    public let lifetime: Duration
    let cache: TokenCache
    /// `last_used_at` is written at most this often per token.
    public let useRecordInterval: Duration

    init(database: Database, lifetime: Duration, cacheTimeToLive: Duration, useRecordInterval: Duration) {
        self.database = database
        self.lifetime = lifetime
        self.cache = TokenCache(timeToLive: cacheTimeToLive)
        self.useRecordInterval = useRecordInterval
    }

    /// Creates and stores a new log-in token for `user`, only if the account's password hash is still
    /// `verifiedHash` (the one the password was checked against); else throws `invalidCredentials`.
    ///
    /// The account row is locked first (`FOR NO KEY UPDATE`, until commit): a password change committing meanwhile
    /// makes this wait and then find the new hash, a change that starts meanwhile waits for this token to commit and
    /// then revokes it, and tokens of one user are counted and added one at a time. A log-in never fails for the
    /// limit of live tokens: at the limit it revokes the user's oldest log-in tokens to make room.
    func issue(for user: User, verifiedHash: String) async throws -> IssuedToken {
        let token = BearerToken(newFor: user.id)
        let (expiresAt, evicted) = try await database.withTransaction { transaction in
            try await lock(user.id, passwordHash: verifiedHash, in: transaction)
            let row = try await transaction.query(
                SQL("""
                    WITH live AS (
                        SELECT token_hash, name, created_at FROM auth_tokens
                        WHERE user_id = \(user.id) AND expires_at > now()),
                    evicted AS (
                        DELETE FROM auth_tokens
                        WHERE user_id = \(user.id) AND token_hash IN (
                            SELECT token_hash FROM live WHERE name IS NULL ORDER BY created_at
                            LIMIT greatest(0, (SELECT count(*) FROM live) - \(TokenRules.liveLimit - 1)))
                        RETURNING 1)
                    INSERT INTO auth_tokens (user_id, token_hash, expires_at)
                    VALUES (\(user.id), \(token.hash), now() + make_interval(secs => \(lifetime.wholeSeconds)))
                    RETURNING expires_at, (SELECT count(*) FROM evicted) AS evicted
                    """, name: "tokens.issue"))[0]
            return (try row.decode(Date.self, column: "expires_at"), try row.decode(Int.self, column: "evicted"))
        }
        if evicted > 0 { try await announceChange(of: user.id) }
        return IssuedToken(token: token.text, expiresAt: expiresAt, user: user)
    }

    /// Locks the account row of `userID` until `transaction` ends, so its tokens are counted and added one at a
    /// time; with `passwordHash`, only while the password is still that one (else throws `invalidCredentials`).
    /// Throws `unauthenticated` when the account is gone.
    func lock(_ userID: UUID, passwordHash: String? = nil, in transaction: Transaction) async throws {
        let rows = try await transaction.query(
            SQL("""
                SELECT id FROM users
                WHERE id = \(userID) AND password_hash = coalesce(\(passwordHash), password_hash)
                FOR NO KEY UPDATE
                """, name: "users.lock_tokens"))
        guard !rows.isEmpty else {
            throw passwordHash == nil ? ServiceError.unauthenticated : ServiceError.invalidCredentials
        }
    }

    /// Checks a bearer token: from the cache when fresh, else in one database round trip, which also records the
    /// use as `last_used_at` when the recorded one is `useRecordInterval` old or more (a write at most that often).
    /// Throws `ServiceError.unauthenticated` for anything but a live token.
    public func authenticate(_ text: String) async throws -> Authentication {
        guard let token = BearerToken(parsing: text) else { throw ServiceError.unauthenticated }
        let hash = token.hash
        let (cached, generation) = cache.lookup(hash)
        if let cached { return cached }
        let checkedAt = ContinuousClock.now
        let rows = try await database.query(
            SQL("""
                WITH token AS (
                    SELECT u.weight_unit, t.expires_at, t.scope, t.name IS NOT NULL AS personal, t.last_used_at
                    FROM auth_tokens t JOIN users u ON u.id = t.user_id
                    WHERE t.user_id = \(token.userID) AND t.token_hash = \(hash) AND t.expires_at > now()),
                touched AS (
                    UPDATE auth_tokens SET last_used_at = now()
                    WHERE user_id = \(token.userID) AND token_hash = \(hash) AND expires_at > now()
                      AND (last_used_at IS NULL
                           OR last_used_at <= now() - make_interval(secs => \(useRecordInterval.wholeSeconds)))
                    RETURNING last_used_at)
                SELECT token.weight_unit, token.expires_at, token.scope, token.personal,
                       coalesce((SELECT last_used_at FROM touched), token.last_used_at) AS last_used_at
                FROM token
                """, name: "tokens.authenticate"))
        guard let row = rows.first else { throw ServiceError.unauthenticated }
        let authentication = Authentication(
            userID: token.userID, weightUnit: try row.decode(column: "weight_unit"), tokenHash: hash,
            scope: try row.decode(column: "scope"), isPersonal: try row.decode(column: "personal"))
        cache.store(
            authentication, expiresAt: try row.decode(column: "expires_at"), generation: generation, checkedAt: checkedAt,
            recordedUse: try row.decode(column: "last_used_at"))
        return authentication
    }

    /// Revokes the token of `authentication` (log-out).
    func revoke(_ authentication: Authentication) async throws {
        try await database.query(
            SQL("""
                DELETE FROM auth_tokens WHERE user_id = \(authentication.userID) AND token_hash = \(authentication.tokenHash)
                """, name: "tokens.revoke"))
        try await announceChange(of: authentication.userID)
    }

    /// How the token cache is doing (hits save a database round trip per request).
    public var cacheStatistics: TokenCache.Statistics {
        cache.statistics
    }

    /// Tells every instance, and this one at once, that the tokens or the profile of `userID` changed: each forgets
    /// its cached tokens of that user.
    ///
    /// Sent as a statement of its own after the change committed (a notification sent from inside a statement that
    /// runs on a sharded worker would not reach the other instances' listeners on the coordinator).
    func announceChange(of userID: UUID) async throws {
        cache.evict(userID: userID)
        try await database.query(
            SQL("SELECT pg_notify(\(Self.channel), \(userID.lowercasedString))", name: "tokens.announce_change"))
    }

    /// Keeps a LISTEN connection open for the life of the server and evicts tokens as other instances report
    /// changes; reconnects with back-off. The cache is on only while this listener is connected.
    public func runInvalidationListener(configuration: PostgresConfiguration, logger: Logger) async {
        var delay = Duration.milliseconds(100)
        while !Task.isCancelled {
            let (ended, endedSignal) = AsyncStream.makeStream(of: Void.self)
            do {
                let connection = try await PostgresConnection.connect(
                    configuration,
                    onNotification: { [cache] notification in
                        if let userID = UUID(uuidString: notification.payload) { cache.evict(userID: userID) }
                    },
                    onTermination: { _ in endedSignal.finish() })
                try await connection.query("LISTEN \(identifier: Self.channel)")
                cache.setEnabled(true)
                delay = .milliseconds(100)
                logger.debug("token invalidation listener connected")
                await withTaskCancellationHandler {
                    for await _ in ended {}
                } onCancel: {
                    connection.close()
                }
                await connection.closeAndWait()
                cache.setEnabled(false)
                if !Task.isCancelled { logger.warning("token invalidation listener lost its connection; reconnecting") }
            } catch {
                cache.setEnabled(false)
                logger.warning("token invalidation listener cannot connect", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(1))
        }
        cache.setEnabled(false)
    }

    /// Re-checks each cached token in use once it was last checked three quarters of a TTL ago, so tokens in use stay
    /// cached without a statement per request; what the database no longer has is forgotten. It looks every
    /// twentieth of a TTL, so the work comes in small even batches (a burst every few seconds showed in the open
    /// loop's p99). Runs for the life of the server; a failed sweep is logged and leaves entries to expire, after
    /// which requests check them. Each look also writes the `last_used_at` of cached tokens whose recorded use is
    /// `useRecordInterval` old (`recordUses`).
    public func runRevalidation(logger: Logger) async {
        let tick = cache.timeToLive / 20
        guard tick > .zero else { return }
        while !Task.isCancelled {
            try? await Task.sleep(for: tick)
            await recordUses(logger: logger)
            let due = cache.due(checkedBefore: cache.timeToLive * 3 / 4)
            var start = 0
            while start < due.count, !Task.isCancelled {
                let batch = Array(due[start..<min(start + 5_000, due.count)])
                start += batch.count
                do {
                    try await revalidate(batch)
                } catch {
                    logger.warning(
                        "token cache revalidation failed", metadata: ["tokens": "\(batch.count)", "error": "\(error)"])
                    break
                }
            }
        }
    }

    /// Writes `last_used_at` for the cached tokens used `useRecordInterval` or more after their recorded use: one
    /// statement per such token, at most one per token per interval; the statement itself skips a token another
    /// instance recorded meanwhile.
    func recordUses(logger: Logger) async {
        for use in cache.usesToRecord(interval: useRecordInterval) where !Task.isCancelled {
            do {
                try await database.query(
                    SQL("""
                        UPDATE auth_tokens SET last_used_at = \(use.usedAt)
                        WHERE user_id = \(use.userID) AND token_hash = \(use.tokenHash)
                          AND (last_used_at IS NULL
                               OR last_used_at <= \(use.usedAt) - make_interval(secs => \(useRecordInterval.wholeSeconds)))
                        """, name: "tokens.record_use"))
            } catch {
                logger.warning("recording a token's last use failed", metadata: ["error": "\(error)"])
                return
            }
        }
    }

    /// Asks the database which of `batch` are still live tokens, and tells the cache.
    func revalidate(_ batch: [TokenCache.Due]) async throws {
        let checkedAt = ContinuousClock.now
        // The pairs as two arrays joined as rows: a plain join, which a sharded database can push down to each shard
        // (a subquery with OFFSET 0 or LIMIT cannot be). Each array is read through a scalar subquery so the planner
        // does not see how many pairs there are: it then probes the primary key once per pair. Seeing 5,000, it
        // chose to hash every user and scan each one's tokens instead (5x slower on a million tokens), or to hash the
        // whole token table (RevalidationPlanTests).
        let rows = try await database.query(
            SQL("""
                SELECT t.token_hash, u.weight_unit, t.expires_at
                FROM unnest((SELECT \(PostgresArray(batch.map(\.userID)))),
                            (SELECT \(PostgresArray(batch.map(\.tokenHash))))) AS asked (user_id, token_hash)
                JOIN auth_tokens t ON t.user_id = asked.user_id AND t.token_hash = asked.token_hash
                JOIN users u ON u.id = t.user_id
                WHERE t.expires_at > now()
                """, name: "tokens.revalidate"))
        var confirmed: [[UInt8]: TokenCache.Confirmation] = [:]
        for row in rows {
            confirmed[try row.decode([UInt8].self, column: "token_hash")] = TokenCache.Confirmation(
                weightUnit: try row.decode(column: "weight_unit"), expiresAt: try row.decode(column: "expires_at"))
        }
        cache.revalidated(batch, confirmed: confirmed, checkedAt: checkedAt)
    }
}
