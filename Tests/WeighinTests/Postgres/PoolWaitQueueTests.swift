import Testing

@testable import Postgres

/// The pool's queue of waiting callers: oldest first (so the first deadline first), borrowers counted.
@Suite("Postgres: the pool's wait queue")
struct PoolWaitQueueTests {
    @Test func keepsTheOrderOfArrivalAndCountsTheBorrowers() {
        let t0 = ContinuousClock.now
        var queue = PoolWaitQueue()
        for id in stride(from: 3, through: 60, by: 3) {
            queue.append(.init(id: id, demand: id % 2 == 0 ? .exclusive : .shared, deadline: t0 + .milliseconds(id)))
        }
        #expect(queue.count == 20 && queue.borrowers == 10)
        #expect(queue.first?.id == 3 && queue.first?.deadline == t0 + .milliseconds(3) && queue.last?.id == 60)
        #expect(queue.remove(at: 9).demand == .exclusive, "the waiter with id 30")
        #expect(queue.remove(at: 1).id == 6)
        #expect(queue.count == 18 && queue.borrowers == 8)
        var order: [Int] = []
        while let waiter = queue.popFirst() { order.append(waiter.id) }
        #expect(order == [3, 9, 12, 15, 18, 21, 24, 27, 33, 36, 39, 42, 45, 48, 51, 54, 57, 60])
        #expect(queue.isEmpty && queue.borrowers == 0 && queue.first == nil)
    }
}
