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

    private enum Demand {
        /// A pipelined statement: any connection that is not lent out and has room in its pipeline.
        case shared
        /// A lent connection: one that is not lent out already.
        case exclusive
    }

    private struct Grant: Sendable {
        let slot: Int
        let connection: PostgresConnection
    }

    private struct Slot {
        let id: Int
        let connection: PostgresConnection
        var lent = false
        /// When each statement in flight was sent, oldest first (a pipeline answers in order).
        var started = Deque<ContinuousClock.Instant>()
        /// How many statements this connection may carry now: one after a slow answer (statements are likely
        /// waiting on a lock), doubling back to the configured depth as answers come fast again.
        var depthLimit: Int

        var inflight: Int { started.count }
    }

    private struct Waiter {
        let id: Int
        let demand: Demand
        let continuation: CancellableContinuation<Grant>
    }

    private struct State {
        var slots: [Slot] = []
        var connecting = 0
        var waiters = Deque<Waiter>()
        var timers: [Int: Task<Void, Never>] = [:]
        var nextID = 0
        var closed = false
        var lastConnectFailure: (at: ContinuousClock.Instant, error: PostgresError)?
    }

    /// What to do once the lock is released.
    private struct Actions {
        var grants: [(CancellableContinuation<Grant>, Grant, Demand)] = []
        var failures: [(CancellableContinuation<Grant>, any Error)] = []
        var connects: [Int] = []
        var cancelledTimers: [Task<Void, Never>] = []
    }

    public let configuration: Configuration
    private let state = Mutex(State())

    public init(configuration: Configuration) {
        self.configuration = configuration
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
        state.withLock { s in
            let idle = s.slots.count { !$0.lent && $0.inflight == 0 }
            return Statistics(
                idle: idle, busy: s.slots.count - idle, connecting: s.connecting, waiting: s.waiters.count)
        }
    }

    /// Fails waiting callers, refuses new ones and closes every connection once its statements are done.
    public func close() {
        var actions = Actions()
        let connections: [PostgresConnection] = state.withLock { s in
            s.closed = true
            let error = PostgresError(code: .connectionClosed, message: "the connection pool is closed")
            while let waiter = s.waiters.popFirst() { actions.failures.append((waiter.continuation, error)) }
            actions.cancelledTimers = Array(s.timers.values)
            s.timers = [:]
            return s.slots.map(\.connection)
        }
        connections.forEach { $0.close() }
        perform(actions)
    }

    // MARK: - Statements

    private func pipelined(_ sql: SQL) async throws -> PostgresRows {
        let grant = try await acquire(.shared)
        let submitted = Mutex(false)
        do {
            return try await CancellableContinuation.run { box in
                submitted.withLock { $0 = true }
                grant.connection.worker.submit(
                    .statement(sql, { [self] result in
                        release(grant.slot, demand: .shared)
                        box.resume(with: result.map(PostgresRows.init).mapError { $0 })
                    }))
            }
        } catch is CancellationError {
            // Cancelled before it was submitted: its place on the connection is given back here (a submitted
            // statement gives it back when it completes).
            if !submitted.withLock({ $0 }) { release(grant.slot, demand: .shared) }
            throw CancellationError()
        }
    }

    // MARK: - Acquiring and releasing

    private func acquire(_ demand: Demand) async throws -> Grant {
        try await CancellableContinuation.run { continuation in
            var actions = Actions()
            var timerFor: Int?
            state.withLock { s in
                if s.closed {
                    actions.failures.append(
                        (continuation, PostgresError(code: .connectionClosed, message: "the connection pool is closed")))
                    return
                }
                if let index = pick(demand, in: s) {
                    actions.grants.append((continuation, take(index, demand, in: &s), demand))
                    growIfBusy(&s, &actions)
                    return
                }
                if s.slots.isEmpty, s.connecting == 0, let failure = s.lastConnectFailure,
                    failure.at.duration(to: .now) < .milliseconds(250)
                {
                    // The server refused us a moment ago: answer at once rather than queue behind a dead server.
                    actions.failures.append((continuation, failure.error))
                    return
                }
                guard s.waiters.count < configuration.maxWaiters else {
                    actions.failures.append(
                        (continuation, PostgresError(
                            code: .poolTimeout,
                            message: "too many callers waiting for a database connection (\(configuration.maxWaiters))")))
                    return
                }
                if s.slots.count + s.connecting < configuration.size {
                    actions.connects.append(reserveConnect(&s))
                }
                s.nextID += 1
                s.waiters.append(Waiter(id: s.nextID, demand: demand, continuation: continuation))
                timerFor = s.nextID
            }
            if let id = timerFor { startTimer(for: id) }
            perform(actions)
        }
    }

    private func startTimer(for waiter: Int) {
        let timeout = configuration.acquireTimeout
        let task = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled else { return }
            self?.expire(waiter)
        }
        let stale = state.withLock { s -> Bool in
            guard s.waiters.contains(where: { $0.id == waiter }) else { return true }
            s.timers[waiter] = task
            return false
        }
        if stale { task.cancel() }
    }

    private func expire(_ waiter: Int) {
        var actions = Actions()
        state.withLock { s in
            s.timers[waiter] = nil
            guard let index = s.waiters.firstIndex(where: { $0.id == waiter }) else { return }
            let removed = s.waiters.remove(at: index)
            actions.failures.append(
                (removed.continuation, PostgresError(
                    code: .poolTimeout,
                    message: "no database connection became free within \(configuration.acquireTimeout)")))
        }
        perform(actions)
    }

    private func release(_ slotID: Int, demand: Demand) {
        var actions = Actions()
        state.withLock { s in
            if let index = s.slots.firstIndex(where: { $0.id == slotID }) {
                switch demand {
                case .shared:
                    let elapsed = s.slots[index].started.removeFirst().duration(to: .now)
                    s.slots[index].depthLimit = elapsed > configuration.stallThreshold
                        ? 1 : min(configuration.pipelineDepth, s.slots[index].depthLimit * 2)
                case .exclusive:
                    s.slots[index].lent = false
                }
            }
            serveWaiters(&s, &actions)
        }
        perform(actions)
    }

    /// The best connection for `demand`: not lent out, not stalled behind a slow statement, fewest statements in
    /// flight.
    private func pick(_ demand: Demand, in s: State) -> Int? {
        var best: Int?
        let stalledBefore = ContinuousClock.now - configuration.stallThreshold
        for (index, slot) in s.slots.enumerated() where !slot.lent && !slot.connection.isClosed {
            if demand == .shared, slot.inflight >= slot.depthLimit { continue }
            if let oldest = slot.started.first, oldest < stalledBefore { continue }
            if best == nil || slot.inflight < s.slots[best!].inflight { best = index }
        }
        return best
    }

    private func take(_ index: Int, _ demand: Demand, in s: inout State) -> Grant {
        switch demand {
        case .shared: s.slots[index].started.append(.now)
        case .exclusive: s.slots[index].lent = true
        }
        return Grant(slot: s.slots[index].id, connection: s.slots[index].connection)
    }

    /// Opens another connection when every open one is busy, so load spreads over the server's processes.
    private func growIfBusy(_ s: inout State, _ actions: inout Actions) {
        guard s.connecting == 0, s.slots.count < configuration.size,
            s.slots.allSatisfy({ $0.lent || $0.inflight > 0 })
        else { return }
        actions.connects.append(reserveConnect(&s))
    }

    private func serveWaiters(_ s: inout State, _ actions: inout Actions) {
        var index = 0
        while index < s.waiters.count {
            guard let slot = pick(s.waiters[index].demand, in: s) else {
                index += 1
                continue
            }
            let waiter = s.waiters.remove(at: index)
            actions.grants.append((waiter.continuation, take(slot, waiter.demand, in: &s), waiter.demand))
            if let timer = s.timers.removeValue(forKey: waiter.id) { actions.cancelledTimers.append(timer) }
        }
        if !s.waiters.isEmpty, s.slots.count + s.connecting < configuration.size {
            actions.connects.append(reserveConnect(&s))
        }
    }

    // MARK: - Connections

    private func reserveConnect(_ s: inout State) -> Int {
        s.connecting += 1
        s.nextID += 1
        return s.nextID
    }

    private func connect(slotID: Int) async {
        do {
            let connection = try await PostgresConnection.connect(
                configuration.connection,
                onTermination: { [weak self] _ in self?.connectionTerminated(slotID) })
            var actions = Actions()
            let closed = state.withLock { s -> Bool in
                s.connecting -= 1
                guard !s.closed else { return true }
                s.lastConnectFailure = nil
                s.slots.append(Slot(id: slotID, connection: connection, depthLimit: configuration.pipelineDepth))
                serveWaiters(&s, &actions)
                return false
            }
            if closed { connection.close() }
            perform(actions)
        } catch {
            let failure = error as? PostgresError
                ?? PostgresError(code: .unableToConnect, message: "\(error)")
            var actions = Actions()
            state.withLock { s in
                s.connecting -= 1
                s.lastConnectFailure = (.now, failure)
                // With no open connection nothing will free up: fail the waiters now rather than at their timeout.
                guard s.slots.isEmpty, s.connecting == 0 else { return }
                while let waiter = s.waiters.popFirst() {
                    actions.failures.append((waiter.continuation, failure))
                    if let timer = s.timers.removeValue(forKey: waiter.id) { actions.cancelledTimers.append(timer) }
                }
            }
            perform(actions)
        }
    }

    private func connectionTerminated(_ slotID: Int) {
        var actions = Actions()
        state.withLock { s in
            s.slots.removeAll { $0.id == slotID }
            if !s.closed { serveWaiters(&s, &actions) }
        }
        perform(actions)
    }

    private func perform(_ actions: Actions) {
        for timer in actions.cancelledTimers { timer.cancel() }
        for id in actions.connects {
            Task { await connect(slotID: id) }
        }
        for (continuation, grant, demand) in actions.grants where !continuation.resume(with: .success(grant)) {
            release(grant.slot, demand: demand)  // its caller was cancelled meanwhile
        }
        for (continuation, error) in actions.failures { continuation.resume(with: .failure(error)) }
    }
}
