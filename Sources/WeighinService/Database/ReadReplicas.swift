import Foundation
import Logging
import Postgres
import Synchronization

/// Hot standbys that serve the read-only calls, and the bookkeeping that keeps those reads from showing a client
/// the past: the newest commit position of each user's writes on this instance, and how far the standby has
/// replayed.
///
/// Why a sampled replay position rather than a check inside each read: a read stays one statement, unchanged, on
/// the standby. The standby's replay position only moves forward, so once a sample has shown it at or past a
/// write's position, every later read there sees that write. The monitor samples the standby (and the primary's
/// position, for the lag) every `interval`; a read goes to the standby only when the newest sample is no older
/// than the lag limit, taken after the last failure there, the standby lags by no more than the limit, and it has
/// replayed the user's newest write on this instance and the position the client sent (`after`). Anything else
/// reads from the primary, which always has every acknowledged write.
///
/// With several standbys in one URL, libpq connects each pooled connection to the first that accepts
/// (`load_balance_hosts` left at `disable`): they all reach the same standby, and the sample describes it. When it
/// fails, its connections fail, the next sample (taken after the failure) describes the next standby, and reads
/// wait for that sample. Not covered: once the first standby is back, connections reopened then reach it while
/// the others stay on the second, so a read may reach a standby the samples do not describe (the README says so).
public final class ReadReplicas: Sendable {
    /// Where a read ran.
    public enum Target: String, Sendable, CaseIterable {
        case primary, replica
    }

    /// Reads per target since start, and the standby's state, for metrics.
    public struct Statistics: Sendable {
        public let primaryReads: Int
        public let replicaReads: Int
        /// Whether reads may go to the standby now (sampled recently, no failure since, lag within the limit).
        public let available: Bool
        /// How far the standby's replay is behind the primary, from the newest samples; nil before the first.
        public let lag: Duration?
    }

    /// How often the monitor samples the primary's and the standby's positions.
    public static let interval: Duration = .milliseconds(100)
    /// Users tracked at most; past it their positions fold into one floor that every read must clear.
    static let trackedUsersLimit = 100_000

    private struct Sample {
        let at: ContinuousClock.Instant
        let position: WALPosition
    }

    private struct State {
        /// The primary's positions, oldest first, for the lag: kept for twice the lag limit.
        var primarySamples: [Sample] = []
        /// The standby's newest replay position and when the statement that read it started.
        var replayed: Sample?
        var failedAt: ContinuousClock.Instant?
        var lag: Duration?
        /// The newest commit position of each user's writes through this instance that the standby may lack.
        var newest: [UUID: WALPosition] = [:]
        /// Positions dropped from `newest` to bound it: every read on the standby needs them.
        var floor: WALPosition?
        /// Writes whose position could not be read (the primary failed just after): until a primary sample taken
        /// after them gives one, the user reads from the primary.
        var pending: [UUID: ContinuousClock.Instant] = [:]
        var reads: [Target: Int] = [:]
        var reported = false

        func available(now: ContinuousClock.Instant, limit: Duration) -> Bool {
            guard let replayed, now - replayed.at <= limit, let lag, lag <= limit else { return false }
            return failedAt.map { $0 < replayed.at } ?? true
        }
    }

    /// Writes waiting for the primary's position, and whether a statement reading it is in flight.
    private struct PositionReads {
        var waiting: [CheckedContinuation<WALPosition?, Never>] = []
        var reading = false
    }

    /// The standbys' pool.
    public let pool: PostgresPool
    /// Standbys lagging more than this are skipped.
    public let lagLimit: Duration
    private let state = Mutex(State())
    private let positionReads = Mutex(PositionReads())

    public init(pool: PostgresPool, lagLimit: Duration) {
        self.pool = pool
        self.lagLimit = lagLimit
    }

    /// Where a read of `user` that must see `after` (sent by the client; nil: nothing) goes now.
    func target(for user: UUID, after: WALPosition?) -> Target {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard state.available(now: now, limit: lagLimit), let replayed = state.replayed?.position,
                state.pending[user] == nil
            else { return .primary }
            let needed = [state.newest[user], after, state.floor].compactMap { $0 }.max()
            return needed.map { $0 <= replayed } ?? true ? .replica : .primary
        }
    }

    /// Counts a read served by `target`.
    func count(_ target: Target) {
        state.withLock { $0.reads[target, default: 0] += 1 }
    }

    /// A read on the standby failed: reads go to the primary until a sample taken after now succeeds.
    func failed() {
        let now = ContinuousClock.now
        state.withLock { $0.failedAt = now }
    }

    /// Records an acknowledged write of `user` committed at or before `position`.
    func wrote(_ user: UUID, at position: WALPosition) {
        state.withLock { state in
            state.newest[user] = max(state.newest[user] ?? position, position)
            if state.newest.count > Self.trackedUsersLimit {
                state.floor = [state.floor, state.newest.values.max()].compactMap { $0 }.max()
                state.newest.removeAll()
            }
        }
    }

    /// Records a write of `user` whose position could not be read.
    func wrotePending(_ user: UUID) {
        let now = ContinuousClock.now
        state.withLock { $0.pending[user] = now }
    }

    /// The primary's WAL position read by a statement sent after this call, so at or past the commit of every
    /// write acknowledged before it; nil when the primary did not answer.
    ///
    /// Why batched: the writes that call while a read is in flight share the next one, so under load the writes
    /// cost far fewer than one more statement each (one per write halved the throughput of a write-only load).
    func primaryPosition(_ primary: PostgresPool) async -> WALPosition? {
        await withCheckedContinuation { continuation in
            let start = positionReads.withLock { reads in
                reads.waiting.append(continuation)
                defer { reads.reading = true }
                return !reads.reading
            }
            if start { Task { await readPositions(primary) } }
        }
    }

    /// Reads the primary's position for the writes waiting, one statement per batch, until none waits.
    private func readPositions(_ primary: PostgresPool) async {
        while true {
            let batch = positionReads.withLock { reads in
                defer { reads.waiting = [] }
                reads.reading = !reads.waiting.isEmpty
                return reads.waiting
            }
            guard !batch.isEmpty else { return }
            // Sent after every write of the batch was acknowledged.
            let position = try? await Self.currentPosition(of: primary)
            for continuation in batch { continuation.resume(returning: position) }
        }
    }

    /// Counts and state for metrics.
    public var statistics: Statistics {
        let now = ContinuousClock.now
        return state.withLock { state in
            Statistics(
                primaryReads: state.reads[.primary] ?? 0, replicaReads: state.reads[.replica] ?? 0,
                available: state.available(now: now, limit: lagLimit), lag: state.lag)
        }
    }

    /// Samples the primary's and the standby's positions every `interval` until cancelled.
    public func runMonitor(primary: Database, logger: Logger) async {
        while !Task.isCancelled {
            await sample(primary: primary, logger: logger)
            try? await Task.sleep(for: Self.interval)
        }
    }

    /// One round: the primary's position (the lag's reference, and the position of writes still pending), then
    /// the standby's replay position.
    func sample(primary: Database, logger: Logger) async {
        let start = ContinuousClock.now
        if let position = try? await Self.currentPosition(of: primary.pool) {
            state.withLock { state in
                state.primarySamples.append(Sample(at: start, position: position))
                let old = state.primarySamples.prefix { start - $0.at > lagLimit * 2 }.count
                state.primarySamples.removeFirst(min(old, state.primarySamples.count - 1))
                // Every write acknowledged before `start` committed at or before `position`.
                for (user, at) in state.pending where at < start {
                    state.newest[user] = max(state.newest[user] ?? position, position)
                    state.pending[user] = nil
                }
            }
        }
        do {
            // On a standby, how far it has replayed; a server out of recovery (`prefer-standby` fell back to a
            // primary) has everything it wrote.
            let replayed = try await Self.position(
                of: pool,
                SQL("""
                    SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                                 ELSE pg_current_wal_insert_lsn() END)::text AS position
                    """, name: "replicas.replay_position"))
            let available = state.withLock { state in
                state.replayed = Sample(at: start, position: replayed)
                state.lag = Self.lag(of: replayed, behind: state.primarySamples, now: .now)
                state.newest = state.newest.filter { $0.value > replayed }
                if let floor = state.floor, floor <= replayed { state.floor = nil }
                return state.available(now: .now, limit: lagLimit)
            }
            report(available: available, logger: logger, error: nil)
        } catch {
            failed()
            report(available: false, logger: logger, error: error)
        }
    }

    /// How long ago the primary was where the standby is now: zero when the standby has the newest primary
    /// position, else the age of the newest sample it has reached (the oldest kept when it reached none).
    private static func lag(of replayed: WALPosition, behind samples: [Sample], now: ContinuousClock.Instant)
        -> Duration?
    {
        guard let newest = samples.last else { return nil }
        guard replayed < newest.position else { return .zero }
        let reached = samples.last { $0.position <= replayed } ?? samples[0]
        return now - reached.at
    }

    /// Logs when the standby becomes available for reads or stops being so.
    private func report(available: Bool, logger: Logger, error: (any Error)?) {
        let changed = state.withLock { state in
            defer { state.reported = available }
            return state.reported != available
        }
        guard changed else { return }
        if available {
            logger.info("read replica in use")
        } else {
            var metadata: Logger.Metadata = ["lag_limit": "\(lagLimit)"]
            if let lag = statistics.lag { metadata["lag"] = "\(lag)" }
            if let error { metadata["error"] = "\(error)" }
            logger.warning("read replica skipped: reads go to the primary", metadata: metadata)
        }
    }

    /// The primary's WAL position now: at or past the commit of every write acknowledged before the statement.
    private static func currentPosition(of primary: PostgresPool) async throws -> WALPosition {
        try await position(
            of: primary, SQL("SELECT pg_current_wal_insert_lsn()::text AS position", name: "replicas.primary_position"))
    }

    private static func position(of pool: PostgresPool, _ sql: SQL) async throws -> WALPosition {
        let text = try await pool.query(sql)[0].decode(String.self, column: "position")
        guard let position = WALPosition(text: text) else {
            throw ServiceError.unavailable(retryAfter: 1, reason: "The database answered an unreadable WAL position.")
        }
        return position
    }
}
