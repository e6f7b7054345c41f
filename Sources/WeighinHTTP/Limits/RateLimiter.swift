import Foundation
import Synchronization

/// A token bucket per client (per bearer token, or per address for calls without one), on this instance.
///
/// Each bucket holds up to `burst` requests and refills at `rate` per second; a request takes one. The buckets live
/// in `shardCount` tables, each behind its own lock and chosen by the key's hash, so requests of different clients
/// rarely wait for one another and no lock is shared by all requests. Memory is bounded: a bucket that has refilled
/// to full is the same as none and is dropped by `sweep()`, and a table that reaches its share of `capacity` drops
/// its full buckets, then the half idle longest.
final class RateLimiter: Sendable {
    /// What the limiter decided for one request, with what the `RateLimit` header tells.
    struct Decision: Sendable, Equatable {
        let allowed: Bool
        /// Whole requests left in the bucket after this one.
        let remaining: Int
        /// Whole seconds until the bucket is full again.
        let resetSeconds: Int
        /// Whole seconds until one request is allowed again (0 when allowed).
        let retryAfter: Int
    }

    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private final class Shard: Sendable {
        let buckets = Mutex<[Int: Bucket]>([:])
    }

    /// Requests per second a bucket refills.
    let rate: Double
    /// Requests a full bucket holds.
    let burst: Double
    private let shards: [Shard]
    private let shardCapacity: Int
    /// A random seed per process, so clients cannot choose keys that share a table.
    private let seed = UInt64.random(in: .min ... .max)

    init(rate: Int, burst: Int, shardCount: Int = 64, capacity: Int = 200_000) {
        self.rate = Double(max(1, rate))
        self.burst = Double(max(1, burst))
        self.shards = (0..<max(1, shardCount)).map { _ in Shard() }
        self.shardCapacity = max(16, capacity / max(1, shardCount))
    }

    /// The key of a client: its bearer token's text, or its address. Hashed with the process's seed (the raw token
    /// is never kept).
    func key(_ text: some StringProtocol) -> Int {
        var hasher = Hasher()
        hasher.combine(seed)
        hasher.combine(text)
        return hasher.finalize()
    }

    /// Takes one request from the bucket of `key`.
    func take(_ key: Int, now: ContinuousClock.Instant = .now) -> Decision {
        let shard = shards[Int(UInt(bitPattern: key) % UInt(shards.count))]
        let (allowed, tokens) = shard.buckets.withLock { buckets -> (Bool, Double) in
            if buckets[key] == nil, buckets.count >= shardCapacity { makeRoom(in: &buckets, now: now) }
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = min(burst, bucket.tokens + Self.seconds(bucket.updated.duration(to: now)) * rate)
            bucket.updated = now
            let allowed = bucket.tokens >= 1
            if allowed { bucket.tokens -= 1 }
            buckets[key] = bucket
            return (allowed, bucket.tokens)
        }
        return Decision(
            allowed: allowed, remaining: Int(tokens), resetSeconds: Int(((burst - tokens) / rate).rounded(.up)),
            retryAfter: allowed ? 0 : max(1, Int(((1 - tokens) / rate).rounded(.up))))
    }

    /// Drops every bucket that has refilled to full (idle for `burst / rate` seconds or more).
    func sweep(now: ContinuousClock.Instant = .now) {
        for shard in shards {
            shard.buckets.withLock { buckets in buckets = buckets.filter { !isFull($0.value, now: now) } }
        }
    }

    /// Buckets held now, for tests and metrics.
    var count: Int {
        shards.reduce(0) { sum, shard in sum + shard.buckets.withLock { $0.count } }
    }

    private func isFull(_ bucket: Bucket, now: ContinuousClock.Instant) -> Bool {
        bucket.tokens + Self.seconds(bucket.updated.duration(to: now)) * rate >= burst
    }

    /// Frees room in a full table: its full buckets go, then if that was not enough the half idle longest.
    private func makeRoom(in buckets: inout [Int: Bucket], now: ContinuousClock.Instant) {
        buckets = buckets.filter { !isFull($0.value, now: now) }
        guard buckets.count >= shardCapacity else { return }
        let kept = buckets.sorted { $0.value.updated > $1.value.updated }.prefix(shardCapacity / 2)
        buckets = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
