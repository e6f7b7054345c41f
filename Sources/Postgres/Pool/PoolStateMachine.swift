import DequeModule
import Synchronization

/// The pool's decisions, without I/O: which connection serves a caller, when a caller waits or is refused, when to
/// open a connection, and what a release, an expiry, a new or a lost connection changes.
///
/// Each event takes the current time and returns the actions the caller performs (grant, fail, connect, arm the
/// timer, close); nothing here blocks, sleeps, reads a clock or touches a connection, so every policy is
/// tested by unit tests with made-up instants (`PoolStateMachineTests`), as postgres-nio tests its `PoolStateMachine`.
/// `PostgresPool` runs it under a lock and performs the actions.
struct PoolStateMachine {
    typealias Instant = ContinuousClock.Instant
    typealias SlotID = Int
    typealias WaiterID = Int

    /// What a caller wants.
    enum Demand: Sendable {
        /// A pipelined statement: any connection that is not lent out and has room in its pipeline.
        case shared
        /// A lent connection: one that is not lent out and has no statement granted on it still unsent.
        ///
        /// Statements already sent are fine (the borrower's `BEGIN` queues behind them on the connection), but one
        /// granted and sent after the `BEGIN` would run inside the borrower's transaction and vanish with its
        /// rollback, though answered as done.
        case exclusive
    }

    struct Configuration {
        var size: Int
        var maxWaiters: Int
        var acquireTimeout: Duration
        var pipelineDepth: Int
        var stallThreshold: Duration
        /// After a failed connect, callers are refused at once for this long rather than queued behind a dead server.
        var failFastWindow: Duration = .milliseconds(250)
    }

    /// What to do once the state is updated.
    struct Actions: Equatable {
        var grants: [Grant] = []
        var failures: [Failure] = []
        /// Slot ids reserved for connections to open.
        var connects: [SlotID] = []
        /// When the pool's one timer must fire (then `expireDue`): set when a caller starts to wait and the timer is
        /// not armed, and by an expiry while callers still wait.
        var armTimer: Instant?
        /// Connections to close (opened after the pool closed, or every one when it closes).
        var closes: [SlotID] = []

        var isEmpty: Bool { self == Actions() }
    }

    struct Grant: Equatable {
        let waiter: WaiterID
        let slot: SlotID
        let demand: Demand
    }

    struct Failure: Equatable {
        let waiter: WaiterID
        let error: PostgresError
    }

    struct Statistics: Equatable {
        var idle: Int
        var busy: Int
        var connecting: Int
        var waiting: Int
    }

    /// What a caller changes on a slot without the pool's lock: the statements granted on it and not sent yet.
    ///
    /// Each pipelined statement is granted and then sent by its caller; counting it as sent under the pool's lock
    /// cost a third lock per statement (with the grant and the answer), and that lock is what the event loops and
    /// the connections' thread contend for. Only the last one a draining slot waits for takes the lock
    /// (`drained`), to lend the slot. The grant, a borrower's lending and `abandoned` change these under the lock.
    final class SlotCounters: Sendable {
        private let unsentCount = Atomic<Int>(0)
        private let drainingFlag = Atomic<Bool>(false)

        /// Statements granted on the slot whose callers have not handed them to the connection yet.
        var unsent: Int { unsentCount.load(ordering: .sequentiallyConsistent) }

        /// Set while the connection drains for a waiting borrower: it takes no new statement, and is lent once the
        /// ones granted are sent (so that a stream of statements cannot keep a borrower waiting forever).
        var draining: Bool {
            get { drainingFlag.load(ordering: .sequentiallyConsistent) }
            set { drainingFlag.store(newValue, ordering: .sequentiallyConsistent) }
        }

        /// A statement was granted here; called under the pool's lock.
        func granted() {
            unsentCount.wrappingAdd(1, ordering: .sequentiallyConsistent)
        }

        /// A statement granted here will never be sent; called under the pool's lock.
        func abandoned() {
            unsentCount.wrappingSubtract(1, ordering: .sequentiallyConsistent)
        }

        /// Records that a statement granted on the slot has been handed to its connection, in order (a borrower's
        /// `BEGIN` can no longer overtake it); true when it was the last one of a draining slot, whose borrower
        /// `drained` then serves under the pool's lock.
        ///
        /// A borrower that looked at the count just before it was lowered, and set the flag just after it was read,
        /// still gets the slot: the statement is in flight, and its answer (`release`, under the lock, so after the
        /// borrower's look) serves the waiters.
        func sent() -> Bool {
            unsentCount.wrappingSubtract(1, ordering: .sequentiallyConsistent).newValue == 0 && draining
        }
    }

    private struct Slot {
        let id: SlotID
        var lent = false
        /// When each statement in flight was sent, oldest first (a pipeline answers in order).
        var started = Deque<Instant>()
        /// How many statements this connection may carry now: one after a slow answer (statements are likely
        /// waiting on a lock), doubling back to the configured depth as answers come fast again.
        var depthLimit: Int
        let counters = SlotCounters()

        var inflight: Int { started.count }
        var unsent: Int { counters.unsent }
        var draining: Bool {
            get { counters.draining }
            nonmutating set { counters.draining = newValue }
        }
    }

    let configuration: Configuration
    private var slots: [Slot] = []
    private var connecting = 0
    private var waiters = PoolWaitQueue()
    private var nextID = 0
    /// Whether the timer is armed, for the deadline of the oldest waiter at the time (`Actions.armTimer`).
    private var timerArmed = false
    private(set) var isClosed = false
    private var lastConnectFailure: (at: Instant, error: PostgresError)?

    init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// A new id for a caller: its `acquire` answer and later grant or failure name it.
    mutating func makeWaiterID() -> WaiterID {
        nextID += 1
        return nextID
    }

    // MARK: - Events

    /// A caller (`waiter`) wants a connection for `demand`: granted at once, refused, or queued until
    /// `acquireTimeout` from `now`.
    /// `isOpen` tells whether a slot's connection still lives (it may have died a moment before its termination
    /// event arrives).
    mutating func acquire(_ waiter: WaiterID, _ demand: Demand, now: Instant, isOpen: (SlotID) -> Bool) -> Actions {
        var actions = Actions()
        if isClosed {
            actions.failures.append(Failure(waiter: waiter, error: Self.closedError))
            return actions
        }
        if let index = pick(demand, now: now, isOpen: isOpen) {
            actions.grants.append(Grant(waiter: waiter, slot: take(index, demand, now: now), demand: demand))
            growIfBusy(&actions)
            return actions
        }
        if slots.isEmpty, connecting == 0, let failure = lastConnectFailure,
            failure.at.duration(to: now) < configuration.failFastWindow
        {
            actions.failures.append(Failure(waiter: waiter, error: failure.error))
            return actions
        }
        guard waiters.count < configuration.maxWaiters else {
            actions.failures.append(Failure(waiter: waiter, error: PostgresError(
                code: .poolTimeout,
                message: "too many callers waiting for a database connection (\(configuration.maxWaiters))")))
            return actions
        }
        if slots.count + connecting < configuration.size {
            actions.connects.append(reserveConnect())
        }
        // Never before the last waiter's: with the pool's monotonic clock it never is, and the queue stays in order.
        let deadline = max(now + configuration.acquireTimeout, waiters.last?.deadline ?? now)
        waiters.append(.init(id: waiter, demand: demand, deadline: deadline))
        if !timerArmed {
            timerArmed = true
            actions.armTimer = deadline
        }
        drainForBorrowers(isOpen: isOpen)
        return actions
    }

    /// A caller gives back what it was granted: a statement answered (its answer time tunes the slot's depth), or a
    /// lent connection returned.
    mutating func release(_ slotID: SlotID, _ demand: Demand, now: Instant, isOpen: (SlotID) -> Bool) -> Actions {
        if let index = slots.firstIndex(where: { $0.id == slotID }) {
            switch demand {
            case .shared:
                let elapsed = slots[index].started.removeFirst().duration(to: now)
                slots[index].depthLimit = elapsed > configuration.stallThreshold
                    ? 1 : min(configuration.pipelineDepth, slots[index].depthLimit * 2)
            case .exclusive:
                slots[index].lent = false
            }
        }
        var actions = Actions()
        serveWaiters(&actions, now: now, isOpen: isOpen)
        return actions
    }

    /// The counters a caller updates without the lock for statements granted on `slotID` (`SlotCounters.sent`).
    func counters(of slotID: SlotID) -> SlotCounters? {
        slots.first { $0.id == slotID }?.counters
    }

    /// The last statement granted on a draining slot has been sent (`SlotCounters.sent` returned true): the
    /// borrower it drains for can have it.
    mutating func drained(now: Instant, isOpen: (SlotID) -> Bool) -> Actions {
        var actions = Actions()
        serveWaiters(&actions, now: now, isOpen: isOpen)
        return actions
    }

    /// A statement granted on `slotID` will never be sent (its caller was cancelled first): its place is free.
    mutating func abandoned(_ slotID: SlotID, now: Instant, isOpen: (SlotID) -> Bool) -> Actions {
        if let index = slots.firstIndex(where: { $0.id == slotID }) {
            slots[index].counters.abandoned()
            slots[index].started.removeLast()
        }
        var actions = Actions()
        serveWaiters(&actions, now: now, isOpen: isOpen)
        return actions
    }

    /// The timer fired: every waiter whose deadline has come fails with `poolTimeout`, and the timer is armed again
    /// for the oldest waiter left.
    ///
    /// One timer serves every waiter: the timeout is the same for all and the clock only moves on, so the oldest
    /// waiter's deadline comes first. A timer per waiter cost a task and a sleep for each caller that waited
    /// (17,711 in 15 s with 1,000 connections).
    mutating func expireDue(now: Instant, isOpen: (SlotID) -> Bool) -> Actions {
        timerArmed = false
        var actions = Actions()
        var expired: [WaiterID] = []
        while let oldest = waiters.first, oldest.deadline <= now {
            expired.append(oldest.id)
            _ = waiters.popFirst()
        }
        if !expired.isEmpty, !isClosed {
            drainForBorrowers(isOpen: isOpen)  // before serving: a connection drained for these borrowers is free again
            serveWaiters(&actions, now: now, isOpen: isOpen)
        }
        for waiter in expired {
            actions.failures.append(Failure(waiter: waiter, error: PostgresError(
                code: .poolTimeout,
                message: "no database connection became free within \(configuration.acquireTimeout)")))
        }
        if let next = waiters.first?.deadline {
            timerArmed = true
            actions.armTimer = next
        }
        return actions
    }

    /// A connection reserved by a `connects` action is open.
    mutating func connected(_ slotID: SlotID, now: Instant, isOpen: (SlotID) -> Bool) -> Actions {
        connecting -= 1
        var actions = Actions()
        guard !isClosed else {
            actions.closes.append(slotID)
            return actions
        }
        lastConnectFailure = nil
        slots.append(Slot(id: slotID, depthLimit: configuration.pipelineDepth))
        serveWaiters(&actions, now: now, isOpen: isOpen)
        return actions
    }

    /// A connection reserved by a `connects` action could not be opened.
    mutating func connectFailed(_ error: PostgresError, now: Instant) -> Actions {
        connecting -= 1
        lastConnectFailure = (now, error)
        var actions = Actions()
        // With no open connection nothing will free up: fail the waiters now rather than at their timeout.
        guard slots.isEmpty, connecting == 0 else { return actions }
        while let waiter = waiters.popFirst() {
            actions.failures.append(Failure(waiter: waiter.id, error: error))
        }
        return actions
    }

    /// An open connection died (server restart, `pg_terminate_backend`) or was closed.
    mutating func connectionTerminated(_ slotID: SlotID, now: Instant, isOpen: (SlotID) -> Bool) -> Actions {
        slots.removeAll { $0.id == slotID }
        var actions = Actions()
        if !isClosed { serveWaiters(&actions, now: now, isOpen: isOpen) }
        return actions
    }

    /// Fails every waiter, refuses later callers and closes every connection.
    mutating func close() -> Actions {
        isClosed = true
        var actions = Actions()
        while let waiter = waiters.popFirst() {
            actions.failures.append(Failure(waiter: waiter.id, error: Self.closedError))
        }
        actions.closes = slots.map(\.id)
        return actions
    }

    var statistics: Statistics {
        let idle = slots.count { !$0.lent && $0.inflight == 0 }
        return Statistics(idle: idle, busy: slots.count - idle, connecting: connecting, waiting: waiters.count)
    }

    // MARK: - Policy

    private static let closedError = PostgresError(code: .connectionClosed, message: "the connection pool is closed")

    /// The best connection for `demand`, open and not lent out: for a statement, one not draining, with room in its
    /// pipeline, not stalled behind a slow statement, with the fewest statements in flight; for a borrower, one with
    /// no statement unsent, a drained one first, then the least busy.
    private func pick(_ demand: Demand, now: Instant, isOpen: (SlotID) -> Bool) -> Int? {
        var best: Int?
        let stalledBefore = now - configuration.stallThreshold
        for (index, slot) in slots.enumerated() where !slot.lent && isOpen(slot.id) {
            switch demand {
            case .shared:
                if slot.draining || slot.inflight >= slot.depthLimit { continue }
                if let oldest = slot.started.first, oldest < stalledBefore { continue }
                if best == nil || slot.inflight < slots[best!].inflight { best = index }
            case .exclusive:
                if slot.unsent > 0 { continue }
                if best == nil || Self.lendingOrder(slot) < Self.lendingOrder(slots[best!]) { best = index }
            }
        }
        return best
    }

    /// Which connection a borrower prefers, lowest first: one drained for a borrower, then the least busy.
    private static func lendingOrder(_ slot: Slot) -> (Int, Int) {
        (slot.draining ? 0 : 1, slot.inflight)
    }

    private mutating func take(_ index: Int, _ demand: Demand, now: Instant) -> SlotID {
        switch demand {
        case .shared:
            slots[index].started.append(now)
            slots[index].counters.granted()
        case .exclusive:
            slots[index].lent = true
            slots[index].draining = false
        }
        return slots[index].id
    }

    /// Keeps one draining connection per waiting borrower: the least busy ones start to drain, and a connection no
    /// borrower waits for any more takes statements again.
    private mutating func drainForBorrowers(isOpen: (SlotID) -> Bool) {
        let borrowers = waiters.borrowers
        var draining = slots.count { $0.draining }
        while draining > borrowers, let index = slots.lastIndex(where: \.draining) {
            slots[index].draining = false
            draining -= 1
        }
        while draining < borrowers {
            let candidates = slots.indices.filter { !slots[$0].lent && !slots[$0].draining && isOpen(slots[$0].id) }
            guard let index = candidates.min(by: { slots[$0].inflight < slots[$1].inflight }) else { return }
            slots[index].draining = true
            draining += 1
        }
    }

    /// Opens another connection when every open one is busy, so load spreads over the server's processes.
    private mutating func growIfBusy(_ actions: inout Actions) {
        guard connecting == 0, slots.count < configuration.size, slots.allSatisfy({ $0.lent || $0.inflight > 0 })
        else { return }
        actions.connects.append(reserveConnect())
    }

    /// Grants what it can to the waiters, oldest first.
    ///
    /// A grant only takes capacity, so a demand that finds no connection finds none for a later waiter in the same
    /// pass either: each demand is looked up until it first fails, and the pass ends when no waiter left can be
    /// served. With a full queue and every connection busy, each expiry then costs a lookup, not one per waiter.
    private mutating func serveWaiters(_ actions: inout Actions, now: Instant, isOpen: (SlotID) -> Bool) {
        var sharedServable = waiters.count > waiters.borrowers
        var exclusiveServable = waiters.borrowers > 0
        var index = 0
        while index < waiters.count, sharedServable || exclusiveServable {
            let demand = waiters[index].demand
            guard demand == .shared ? sharedServable : exclusiveServable,
                let slot = pick(demand, now: now, isOpen: isOpen)
            else {
                switch demand {
                case .shared: sharedServable = false
                case .exclusive: exclusiveServable = false
                }
                index += 1
                continue
            }
            let waiter = waiters.remove(at: index)
            actions.grants.append(Grant(waiter: waiter.id, slot: take(slot, waiter.demand, now: now), demand: waiter.demand))
        }
        if !waiters.isEmpty, slots.count + connecting < configuration.size {
            actions.connects.append(reserveConnect())
        }
        drainForBorrowers(isOpen: isOpen)
    }

    private mutating func reserveConnect() -> SlotID {
        connecting += 1
        nextID += 1
        return nextID
    }
}
