import DequeModule
import Synchronization

/// A bounded set of connections shared by the whole process.
///
/// Single statements (`query`) are pipelined onto the least busy connection, so a few connections serve many
/// concurrent callers; `withConnection` and `withTransaction` lend a connection to one caller alone. A caller that
/// finds no capacity waits at most `acquireTimeout` in a bounded queue, then gets `PostgresError.Code.poolTimeout`.
/// Dead connections (server restart, `pg_terminate_backend`) are dropped as soon as their socket closes and
/// replaced on demand, so the process recovers without a restart.
public final class PostgresPool: Sendable {
    public struct Configuration: Sendable {
        /// How to connect.
        public var connection: PostgresConfiguration
        /// The most connections the pool opens.
        public var size: Int
        /// How long a caller may wait for capacity before `poolTimeout`.
        public var acquireTimeout: Duration
        /// The most callers that may wait at once; more fail at once with `poolTimeout` (memory stays bounded).
        public var maxWaiters: Int
        /// The most statements in flight on one connection. Kept small: statements behind a slow one wait for it
        /// (a pipeline answers in order), and a few in flight per connection already keep the server busy.
        public var pipelineDepth: Int
        /// A connection whose oldest statement has run longer than this takes no more statements until it
        /// finishes: statements behind a slow one would wait for it (pipelines answer in order).
        public var stallThreshold: Duration

        public init(
            connection: PostgresConfiguration, size: Int = 8, acquireTimeout: Duration = .seconds(5),
            maxWaiters: Int = 1024, pipelineDepth: Int = 4, stallThreshold: Duration = .milliseconds(250)
        ) {
            self.connection = connection
            self.size = max(1, size)
            self.acquireTimeout = acquireTimeout
            self.maxWaiters = max(0, maxWaiters)
            self.pipelineDepth = max(1, pipelineDepth)
            self.stallThreshold = stallThreshold
        }
    }

    /// Connection counts for metrics.
    public struct Statistics: Sendable, Equatable {
        /// Open connections with nothing in flight and no borrower.
        public var idle: Int
        /// Open connections with statements in flight or a borrower.
        public var busy: Int
        /// Connections being opened.
        public var connecting: Int
        /// Callers waiting for capacity.
        public var waiting: Int
    }

    private typealias Demand = PoolStateMachine.Demand

    private struct Grant: Sendable {
        let slot: Int
        let connection: PostgresConnection
        let counters: PoolStateMachine.SlotCounters
    }

    /// The decisions, and what they refer to: open connections, waiting callers and the timer of their deadlines.
    private struct State {
        var machine: PoolStateMachine
        var connections: [Int: PostgresConnection] = [:]
        var waiters: [Int: CancellableContinuation<Grant>] = [:]
        /// Sleeps until the oldest waiter's deadline (`PoolStateMachine.expireDue`); cancelled when the pool closes.
        var timer: Task<Void, Never>?
        /// Every connection libpq has not freed yet, open or closing.
        var living: [Int: PostgresConnection] = [:]
    }

    /// Resolved actions of the state machine, performed once the lock is released.
    private struct Work {
        var grants: [(CancellableContinuation<Grant>, Grant, Demand)] = []
        var failures: [(CancellableContinuation<Grant>, any Error)] = []
        var connects: [Int] = []
        var armTimer: ContinuousClock.Instant?
        var closes: [PostgresConnection] = []
    }

    public let configuration: Configuration
    private let state: Mutex<State>

    public init(configuration: Configuration) {
        self.configuration = configuration
        state = Mutex(State(machine: PoolStateMachine(configuration: .init(
            size: configuration.size, maxWaiters: configuration.maxWaiters,
            acquireTimeout: configuration.acquireTimeout, pipelineDepth: configuration.pipelineDepth,
            stallThreshold: configuration.stallThreshold))))
    }

    // MARK: - Public API

    /// Runs one statement on the least busy connection and returns its rows. Throws `PostgresError`.
    ///
    /// A statement that finds its connection already closed is retried once on another: it was never sent.
    @discardableResult
    public func query(_ sql: SQL) async throws -> PostgresRows {
        do {
            return try await pipelined(sql)
        } catch PostgresError.Code.connectionDoesNotExist {
            return try await pipelined(sql)
        }
    }

    /// Lends one connection to `body` alone; it returns to the pool when `body` ends. Leave no transaction open.
    @discardableResult
    public func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let grant = try await acquire(.exclusive)
        do {
            let value = try await body(grant.connection)
            release(grant.slot, demand: .exclusive)
            return value
        } catch {
            release(grant.slot, demand: .exclusive)
            throw error
        }
    }

    /// Runs `body` in a transaction on a lent connection: commits when it returns, rolls back when it throws.
    @discardableResult
    public func withTransaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection { connection in
            try await connection.queryToTheEnd("BEGIN")
            let value: T
            do {
                value = try await body(connection)
            } catch {
                // Queued behind anything still running on the connection, so the connection returns clean.
                _ = try? await connection.queryToTheEnd("ROLLBACK")
                throw error
            }
            try await connection.queryToTheEnd("COMMIT")
            return value
        }
    }

    /// Current connection counts.
    public var statistics: Statistics {
        let counts = state.withLock { $0.machine.statistics }
        return Statistics(idle: counts.idle, busy: counts.busy, connecting: counts.connecting, waiting: counts.waiting)
    }

    /// Fails waiting callers, refuses new ones and closes every connection once its statements are done.
    public func close() {
        update { machine, _, _ in machine.close() }
        state.withLock { $0.timer }?.cancel()
    }

    /// Closes the pool and returns once none of its connections is left (connects in progress ended, every
    /// connection freed by libpq): call it before the process exits, whose OpenSSL clean-up must not run under a
    /// connection still in libpq.
    public func closeAndWait() async {
        close()
        while true {
            let (connecting, living) = state.withLock { ($0.machine.statistics.connecting, Array($0.living.values)) }
            for connection in living { await connection.worker.waitUntilExited() }
            if connecting == 0, living.isEmpty { return }
            // A connect in progress ends within its connect timeout; what it opens is closed at once. The pause
            // is taken even in a cancelled task (after a drain timeout), so that this loop never spins.
            await Task.detached { try? await Task.sleep(for: .milliseconds(10)) }.value
        }
    }

    /// For a process stopping after its drain timeout, so that `closeAndWait` returns soon: closes the pool, asks
    /// the server to cancel every statement still running on its connections (`PQcancel`; their callers get
    /// `query_canceled`), and cuts any connection still open `grace` later. Returns how many connections were busy.
    @discardableResult
    public func abort(grace: Duration = .seconds(2)) -> Int {
        let busy = statistics.busy
        close()
        for connection in state.withLock({ Array($0.living.values) }) { connection.worker.abort(grace: grace) }
        return busy
    }

    // MARK: - Statements

    private func pipelined(_ sql: SQL) async throws -> PostgresRows {
        let grant = try await acquire(.shared)
        // Whoever comes first owns the place on the connection: the submission (its completion gives the place
        // back) or the cancellation (which gives it back here); a cancellation can land while `run` starts.
        let submission = Mutex(Submission.pending)
        do {
            return try await CancellableContinuation.run { box in
                guard submission.withLock({ $0.claim(.submitted) }) else { return }
                grant.connection.worker.submit(
                    .statement(sql, { [self] result in
                        release(grant.slot, demand: .shared)
                        box.resume(with: result.map(PostgresRows.init).mapError { $0 })
                    }))
                if grant.counters.sent() {
                    update { machine, _, isOpen in machine.drained(now: .now, isOpen: isOpen) }
                }
            }
        } catch is CancellationError {
            if submission.withLock({ $0.claim(.abandoned) }) { abandon(grant.slot) }
            throw CancellationError()
        }
    }

    /// The fate of a granted statement, decided once.
    private enum Submission {
        case pending, submitted, abandoned

        /// Moves a pending statement to `outcome`; false when its fate was decided already.
        mutating func claim(_ outcome: Submission) -> Bool {
            guard self == .pending else { return false }
            self = outcome
            return true
        }
    }

    // MARK: - Acquiring and releasing

    private func acquire(_ demand: Demand) async throws -> Grant {
        try await CancellableContinuation.run { continuation in
            update { machine, waiters, isOpen in
                let id = machine.makeWaiterID()
                waiters[id] = continuation
                return machine.acquire(id, demand, now: .now, isOpen: isOpen)
            }
        }
    }

    private func release(_ slot: Int, demand: Demand) {
        update { machine, _, isOpen in machine.release(slot, demand, now: .now, isOpen: isOpen) }
    }

    /// Gives back the place of a statement granted on `slot` that will never be sent.
    private func abandon(_ slot: Int) {
        update { machine, _, isOpen in machine.abandoned(slot, now: .now, isOpen: isOpen) }
    }

    private func expireDue() {
        update { machine, _, isOpen in machine.expireDue(now: .now, isOpen: isOpen) }
    }

    // MARK: - Connections

    private func connect(slotID: Int) async {
        do {
            let connection = try await PostgresConnection.connect(
                configuration.connection,
                onTermination: { [weak self] _ in self?.connectionTerminated(slotID) })
            state.withLock { $0.living[slotID] = connection }
            Task { [weak self] in
                await connection.worker.waitUntilExited()
                _ = self?.state.withLock { $0.living.removeValue(forKey: slotID) }
            }
            update(adding: (slotID, connection)) { machine, _, isOpen in machine.connected(slotID, now: .now, isOpen: isOpen) }
        } catch {
            let failure = error as? PostgresError ?? PostgresError(code: .unableToConnect, message: "\(error)")
            update { machine, _, _ in machine.connectFailed(failure, now: .now) }
        }
    }

    private func connectionTerminated(_ slotID: Int) {
        update(removing: slotID) { machine, _, isOpen in machine.connectionTerminated(slotID, now: .now, isOpen: isOpen) }
    }

    // MARK: - Running the state machine

    /// Runs one event of the state machine under the lock, resolves its actions to continuations and connections,
    /// and performs them after the lock is released.
    private func update(
        adding connection: (Int, PostgresConnection)? = nil, removing terminated: Int? = nil,
        _ event: (inout PoolStateMachine, inout [Int: CancellableContinuation<Grant>], (Int) -> Bool)
            -> PoolStateMachine.Actions
    ) {
        let work = state.withLock { s -> Work in
            if let (slot, connection) = connection { s.connections[slot] = connection }
            if let terminated { s.connections[terminated] = nil }
            // Whether a slot's connection is still open (it may die a moment before its termination event).
            let connections = s.connections
            let actions = event(&s.machine, &s.waiters) { slot in connections[slot].map { !$0.isClosed } ?? false }
            var work = Work()
            for grant in actions.grants {
                guard let continuation = s.waiters.removeValue(forKey: grant.waiter),
                    let connection = s.connections[grant.slot], let counters = s.machine.counters(of: grant.slot)
                else { continue }
                work.grants.append((
                    continuation, Grant(slot: grant.slot, connection: connection, counters: counters), grant.demand))
            }
            for failure in actions.failures {
                if let continuation = s.waiters.removeValue(forKey: failure.waiter) {
                    work.failures.append((continuation, failure.error))
                }
            }
            for slot in actions.closes {
                if let connection = s.connections.removeValue(forKey: slot) { work.closes.append(connection) }
            }
            work.connects = actions.connects
            work.armTimer = actions.armTimer
            return work
        }
        perform(work)
    }

    private func perform(_ work: Work) {
        if let deadline = work.armTimer { armTimer(until: deadline) }
        for id in work.connects {
            Task { await connect(slotID: id) }
        }
        for connection in work.closes { connection.close() }
        // A caller cancelled meanwhile gives its grant back: a statement it will never send, or a lent connection.
        for (continuation, grant, demand) in work.grants where !continuation.resume(with: .success(grant)) {
            switch demand {
            case .shared: abandon(grant.slot)
            case .exclusive: release(grant.slot, demand: .exclusive)
            }
        }
        for (continuation, error) in work.failures { continuation.resume(with: .failure(error)) }
    }

    /// Starts the pool's one timer: at `deadline`, the waiters whose time is up fail and it is armed again for the
    /// oldest one left (the state machine arms it once at a time).
    ///
    /// Made and recorded under the lock: a timer that fires at once arms the next one through the same lock, after
    /// this one is recorded, so `close` always finds the newest. Closed meanwhile, the waiters have failed already
    /// and there is nothing to time.
    private func armTimer(until deadline: ContinuousClock.Instant) {
        state.withLock { s in
            guard !s.machine.isClosed else { return }
            s.timer = Task { [weak self] in
                try? await Task.sleep(until: deadline, clock: .continuous)
                guard !Task.isCancelled else { return }
                self?.expireDue()
            }
        }
    }
}
