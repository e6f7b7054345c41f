import Foundation
import Synchronization

/// Verified tokens kept in memory, so an authenticated request costs no database round trip for its token.
///
/// Revocation must still be immediate on every instance: logout, password change, profile change and account
/// deletion send a PostgreSQL NOTIFY that evicts the user's tokens everywhere (see `runInvalidationListener`), and
/// while the listener is disconnected the cache is off (a notification could be missed). As a safety net for rows
/// changed behind the service's back, an entry is trusted for `timeToLive` from its last check; a background sweep
/// re-checks recently used entries in small batches before their TTL runs out (see `runRevalidation`), so tokens in
/// use stay cached without a statement per request, and an entry the sweep could not confirm is checked again by
/// the next request that uses it.
///
/// The cache also remembers when each token was last used, so that `last_used_at` is written at most once per
/// `useRecordInterval` per token by the sweep (see `usesToRecord`), never by the requests themselves.
public final class TokenCache: Sendable {
    private struct Cached {
        var authentication: Authentication
        var expiresAt: Date
        /// When the database last confirmed the token (the start of that statement).
        var checkedAt: ContinuousClock.Instant
        var lastUsed: ContinuousClock.Instant
        /// When the token was last used, by the wall clock.
        var usedAt: Date
        /// The token's `last_used_at` in the database as far as this instance knows (nil: never used).
        var recordedUse: Date?
    }

    private struct State {
        var entries: [[UInt8]: Cached] = [:]
        var byUser: [UUID: Set<[UInt8]>] = [:]
        /// Bumped on every eviction: a lookup that started before an eviction must not store its stale answer.
        var generation: UInt64 = 0
        var enabled = false
        var hits = 0
        var misses = 0
        var revalidated = 0

        mutating func remove(_ hash: [UInt8]) {
            guard let cached = entries.removeValue(forKey: hash) else { return }
            byUser[cached.authentication.userID]?.remove(hash)
            if byUser[cached.authentication.userID]?.isEmpty == true { byUser[cached.authentication.userID] = nil }
        }
    }

    /// Counts since start, and whether the cache is on, for metrics.
    public struct Statistics: Sendable {
        public let enabled: Bool
        public let hits: Int
        public let misses: Int
        public let size: Int
        /// Entries confirmed by the background sweep.
        public let revalidated: Int
    }

    /// A token the sweep should confirm.
    struct Due: Sendable {
        let userID: UUID
        let tokenHash: [UInt8]
    }

    /// A use of a token that the database should record as its `last_used_at`.
    struct Use: Sendable, Equatable {
        let userID: UUID
        let tokenHash: [UInt8]
        let usedAt: Date
    }

    /// What the database says of a token the sweep asked about.
    struct Confirmation: Sendable {
        let weightUnit: WeightUnit
        let expiresAt: Date
    }

    let timeToLive: Duration
    /// Entries unused for this long are dropped by the sweep instead of re-checked.
    let idleLimit: Duration
    let capacity: Int
    private let state = Mutex(State())

    init(timeToLive: Duration, idleLimit: Duration = .seconds(60), capacity: Int = 100_000) {
        self.timeToLive = timeToLive
        self.idleLimit = idleLimit
        self.capacity = capacity
    }

    /// The cached authentication for a token hash, if fresh; and the generation to pass to `store` after a miss.
    func lookup(_ hash: [UInt8], now: Date = Date()) -> (Authentication?, generation: UInt64) {
        let instant = ContinuousClock.now
        return state.withLock { s in
            // One hash of the key per request: the entry is found by index and updated in place.
            guard s.enabled, let index = s.entries.index(forKey: hash) else {
                s.misses += 1
                return (nil, s.generation)
            }
            let cached = s.entries.values[index]
            guard cached.expiresAt > now, cached.checkedAt.duration(to: instant) < timeToLive else {
                s.remove(hash)
                s.misses += 1
                return (nil, s.generation)
            }
            s.hits += 1
            s.entries.values[index].lastUsed = instant
            s.entries.values[index].usedAt = now
            return (cached.authentication, s.generation)
        }
    }

    /// Remembers a token the database confirmed at `checkedAt`, whose `last_used_at` it then had as `recordedUse`,
    /// unless something was evicted since `generation`.
    func store(
        _ authentication: Authentication, expiresAt: Date, generation: UInt64, checkedAt: ContinuousClock.Instant,
        recordedUse: Date? = nil
    ) {
        state.withLock { s in
            guard s.enabled, s.generation == generation, timeToLive > .zero else { return }
            if s.entries.count >= capacity {
                s.entries.removeAll(keepingCapacity: true)
                s.byUser.removeAll(keepingCapacity: true)
            }
            s.entries[authentication.tokenHash] = Cached(
                authentication: authentication, expiresAt: expiresAt, checkedAt: checkedAt, lastUsed: .now,
                usedAt: Date(), recordedUse: recordedUse)
            s.byUser[authentication.userID, default: []].insert(authentication.tokenHash)
        }
    }

    /// Drops entries idle for `idleLimit`, and lists those last checked `age` ago or more, for the sweep.
    func due(checkedBefore age: Duration) -> [Due] {
        let now = ContinuousClock.now
        return state.withLock { s in
            var due: [Due] = []
            for (hash, cached) in s.entries {
                if cached.lastUsed.duration(to: now) >= idleLimit {
                    s.remove(hash)
                } else if cached.checkedAt.duration(to: now) >= age {
                    due.append(Due(userID: cached.authentication.userID, tokenHash: hash))
                }
            }
            return due
        }
    }

    /// Applies the sweep's answer for `asked`, confirmed as of `checkedAt`: confirmed entries are trusted again,
    /// the others forgotten. Entries evicted meanwhile stay evicted (only entries still present are touched).
    func revalidated(_ asked: [Due], confirmed: [[UInt8]: Confirmation], checkedAt: ContinuousClock.Instant) {
        state.withLock { s in
            for item in asked {
                guard let cached = s.entries[item.tokenHash] else { continue }
                if let confirmation = confirmed[item.tokenHash] {
                    guard cached.checkedAt < checkedAt else { continue }
                    s.entries[item.tokenHash]!.authentication = cached.authentication.with(
                        weightUnit: confirmation.weightUnit)
                    s.entries[item.tokenHash]!.expiresAt = confirmation.expiresAt
                    s.entries[item.tokenHash]!.checkedAt = checkedAt
                    s.revalidated += 1
                } else {
                    s.remove(item.tokenHash)
                }
            }
        }
    }

    /// The uses to write as `last_used_at`: of each cached token used `interval` or more after the use the database
    /// has. They are taken as recorded (a failed write is not retried; the next use after `interval` is).
    func usesToRecord(interval: Duration) -> [Use] {
        let seconds = Double(interval.wholeSeconds)
        return state.withLock { s in
            var uses: [Use] = []
            for (hash, cached) in s.entries {
                if let recorded = cached.recordedUse, cached.usedAt.timeIntervalSince(recorded) < seconds { continue }
                uses.append(Use(userID: cached.authentication.userID, tokenHash: hash, usedAt: cached.usedAt))
                s.entries[hash]!.recordedUse = cached.usedAt
            }
            return uses
        }
    }

    var statistics: Statistics {
        state.withLock {
            Statistics(
                enabled: $0.enabled, hits: $0.hits, misses: $0.misses, size: $0.entries.count,
                revalidated: $0.revalidated)
        }
    }

    /// Forgets every token of `userID`.
    func evict(userID: UUID) {
        state.withLock { s in
            s.generation &+= 1
            for hash in s.byUser.removeValue(forKey: userID) ?? [] { s.entries[hash] = nil }
        }
    }

    /// Turns the cache on or off; both forget everything (after a listener reconnects, notifications may have been
    /// missed).
    func setEnabled(_ enabled: Bool) {
        state.withLock { s in
            s.generation &+= 1
            s.enabled = enabled
            s.entries.removeAll()
            s.byUser.removeAll()
        }
    }
}
