import Testing

@testable import Postgres

/// The pool's queue of waiting callers: found by id, oldest first, borrowers counted.
@Suite("Postgres: the pool's wait queue")
struct PoolWaitQueueTests {
    @Test func findsEachWaiterByIDKeepsTheOrderAndCountsTheBorrowers() {
        var queue = PoolWaitQueue()
        for id in stride(from: 3, through: 60, by: 3) {
            queue.append(.init(id: id, demand: id % 2 == 0 ? .exclusive : .shared))
        }
        #expect(queue.count == 20 && queue.borrowers == 10)
        #expect(queue.remove(id: 4) == nil, "an id that never waited")
        #expect(queue.remove(id: 61) == nil && queue.remove(id: 1) == nil)
        #expect(queue.remove(id: 30)?.demand == .exclusive)
        #expect(queue.remove(id: 30) == nil, "gone already")
        #expect(queue.remove(id: 3)?.demand == .shared)
        #expect(queue.remove(id: 60)?.demand == .exclusive)
        #expect(queue.count == 17 && queue.borrowers == 8)
        #expect(queue.remove(at: 1).id == 9)
        var order: [Int] = []
        while let waiter = queue.popFirst() { order.append(waiter.id) }
        #expect(order == [6, 12, 15, 18, 21, 24, 27, 33, 36, 39, 42, 45, 48, 51, 54, 57])
        #expect(queue.isEmpty && queue.borrowers == 0)
    }
}
