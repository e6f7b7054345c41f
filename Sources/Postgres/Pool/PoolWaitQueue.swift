import DequeModule

/// The pool's callers waiting for a connection, oldest first, each with what it wants.
///
/// Every event of the pool runs under its lock, and a full queue holds `maxWaiters` (1,024) callers, so nothing here
/// walks the queue per event: ids are handed out in increasing order and callers join at the back, so a waiter is
/// found by binary search, and the borrowers are counted as they join and leave.
struct PoolWaitQueue {
    typealias WaiterID = PoolStateMachine.WaiterID
    typealias Demand = PoolStateMachine.Demand

    struct Waiter {
        let id: WaiterID
        let demand: Demand
    }

    private var waiters = Deque<Waiter>()
    /// How many of the waiters want a lent connection (`.exclusive`).
    private(set) var borrowers = 0

    var count: Int { waiters.count }
    var isEmpty: Bool { waiters.isEmpty }

    /// The waiter at `position` (0 is the oldest).
    subscript(position: Int) -> Waiter { waiters[position] }

    /// Adds a caller at the back; its id is larger than every id already waiting.
    mutating func append(_ waiter: Waiter) {
        precondition(waiters.last.map { $0.id < waiter.id } ?? true, "waiters join in the order of their ids")
        waiters.append(waiter)
        if waiter.demand == .exclusive { borrowers += 1 }
    }

    /// Removes the waiter with `id`, if it still waits.
    mutating func remove(id: WaiterID) -> Waiter? {
        var low = 0
        var high = waiters.count
        while low < high {
            let middle = (low + high) / 2
            if waiters[middle].id < id { low = middle + 1 } else { high = middle }
        }
        guard low < waiters.count, waiters[low].id == id else { return nil }
        return remove(at: low)
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
