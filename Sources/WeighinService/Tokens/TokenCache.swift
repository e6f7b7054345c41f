import Foundation
import Synchronization

/// Verified tokens kept in memory for a few seconds, so an authenticated request usually costs no database round
/// trip for its token.
///
/// Revocation must still be immediate on every instance: logout, password change, profile change and account
/// deletion send a PostgreSQL NOTIFY that evicts the user's tokens everywhere (see `TokenInvalidationListener`),
/// the short TTL is a safety net, and while the listener is disconnected the cache is off (a notification could be
/// missed).
public final class TokenCache: Sendable {
    private struct Cached {
        let authentication: Authentication
        let expiresAt: Date
        let storedAt: ContinuousClock.Instant
    }

    private struct State {
        var entries: [[UInt8]: Cached] = [:]
        var byUser: [UUID: Set<[UInt8]>] = [:]
        /// Bumped on every eviction: a lookup that started before an eviction must not store its stale answer.
        var generation: UInt64 = 0
        var enabled = false
        var hits = 0
        var misses = 0
    }

    /// Counts since start, and whether the cache is on, for metrics.
    public struct Statistics: Sendable {
        public let enabled: Bool
        public let hits: Int
        public let misses: Int
        public let size: Int
    }

    let timeToLive: Duration
    let capacity: Int
    private let state = Mutex(State())

    init(timeToLive: Duration, capacity: Int = 100_000) {
        self.timeToLive = timeToLive
        self.capacity = capacity
    }

    /// The cached authentication for a token hash, if fresh; and the generation to pass to `store` after a miss.
    func lookup(_ hash: [UInt8], now: Date = Date()) -> (Authentication?, generation: UInt64) {
        state.withLock { s in
            guard s.enabled, let cached = s.entries[hash] else {
                s.misses += 1
                return (nil, s.generation)
            }
            guard cached.expiresAt > now, cached.storedAt.duration(to: .now) < timeToLive else {
                s.entries[hash] = nil
                s.byUser[cached.authentication.userID]?.remove(hash)
                s.misses += 1
                return (nil, s.generation)
            }
            s.hits += 1
            return (cached.authentication, s.generation)
        }
    }

    /// Remembers a verified token, unless something was evicted since `generation` was read.
    func store(_ authentication: Authentication, expiresAt: Date, generation: UInt64) {
        state.withLock { s in
            guard s.enabled, s.generation == generation, timeToLive > .zero else { return }
            if s.entries.count >= capacity {
                s.entries.removeAll(keepingCapacity: true)
                s.byUser.removeAll(keepingCapacity: true)
            }
            s.entries[authentication.tokenHash] = Cached(
                authentication: authentication, expiresAt: expiresAt, storedAt: .now)
            s.byUser[authentication.userID, default: []].insert(authentication.tokenHash)
        }
    }

    var statistics: Statistics {
        state.withLock { Statistics(enabled: $0.enabled, hits: $0.hits, misses: $0.misses, size: $0.entries.count) }
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
