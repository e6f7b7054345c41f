import DequeModule

/// The pool's callers waiting for a connection, oldest first, each with what it wants and until when.
///
/// Every event of the pool runs under its lock, and a full queue holds `maxWaiters` (1,024) callers, so nothing here
/// walks the queue per event: callers join at the back, in the order of their ids and deadlines, so the oldest is
/// the next to expire, and the borrowers are counted as they join and leave.
struct PoolWaitQueue {
    typealias WaiterID = PoolStateMachine.WaiterID
    typealias Demand = PoolStateMachine.Demand

    struct Waiter {
        let id: WaiterID
        let demand: Demand
        /// When it fails with `poolTimeout` if still waiting.
        let deadline: ContinuousClock.Instant
    }

    private var waiters = Deque<Waiter>()
    /// How many of the waiters want a lent connection (`.exclusive`).
    private(set) var borrowers = 0

    var count: Int { waiters.count }
    var isEmpty: Bool { waiters.isEmpty }

    /// The oldest waiter: the first deadline, as every caller waits equally long and joins at the back.
    var first: Waiter? { waiters.first }

    /// The newest waiter.
    var last: Waiter? { waiters.last }

    /// The waiter at `position` (0 is the oldest).
    subscript(position: Int) -> Waiter { waiters[position] }

    /// Adds a caller at the back; its id is larger than every id already waiting, its deadline no earlier.
    mutating func append(_ waiter: Waiter) {
        precondition(
            waiters.last.map { $0.id < waiter.id && $0.deadline <= waiter.deadline } ?? true,
            "waiters join in the order of their ids and deadlines")
        waiters.append(waiter)
        if waiter.demand == .exclusive { borrowers += 1 }
    }

    /// Removes the waiter at `position`.
    mutating func remove(at position: Int) -> Waiter {
        let waiter = waiters.remove(at: position)
        if waiter.demand == .exclusive { borrowers -= 1 }
        return waiter
    }

    /// Removes the oldest waiter.
    mutating func popFirst() -> Waiter? {
        guard !waiters.isEmpty else { return nil }
        return remove(at: 0)
    }
}
