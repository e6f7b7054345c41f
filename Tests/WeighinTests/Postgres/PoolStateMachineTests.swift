import Testing

@testable import LoadTest
@testable import Postgres

/// The pool's decisions, without a database: each event at a made-up instant, and the actions it returns.
@Suite("Postgres: the pool's state machine")
struct PoolStateMachineTests {
    typealias Machine = PoolStateMachine
    let t0 = ContinuousClock.now
    let allOpen: (Int) -> Bool = { _ in true }

    func machine(
        size: Int = 2, maxWaiters: Int = 4, depth: Int = 4, acquireTimeout: Duration = .seconds(5)
    ) -> Machine {
        Machine(configuration: .init(
            size: size, maxWaiters: maxWaiters, acquireTimeout: acquireTimeout, pipelineDepth: depth,
            stallThreshold: .milliseconds(250)))
    }

    /// Records a statement granted on `slot` as sent, as `PostgresPool` does: the slot's counters outside the lock,
    /// and `drained` only when they say it was the last one a draining slot waited for.
    func send(_ pool: inout Machine, _ slot: Int) -> Machine.Actions {
        guard let counters = pool.counters(of: slot) else { return Machine.Actions() }
        return counters.sent() ? pool.drained(now: t0, isOpen: allOpen) : Machine.Actions()
    }

    /// A machine with `count` open connections (slot ids returned), nothing in flight, nobody waiting, and its
    /// timer (armed by the callers that waited for those connections) fired.
    func opened(
        _ count: Int, size: Int = 2, depth: Int = 4, acquireTimeout: Duration = .seconds(5)
    ) -> (Machine, [Int]) {
        var pool = machine(size: size, depth: depth, acquireTimeout: acquireTimeout)
        var slots: [Int] = []
        for _ in 0..<count {
            let waiter = pool.makeWaiterID()
            let asked = pool.acquire(waiter, .exclusive, now: t0, isOpen: { slots.contains($0) })
            let slot = asked.connects.first ?? asked.grants[0].slot
            if !asked.connects.isEmpty { _ = pool.connected(slot, now: t0, isOpen: allOpen) }
            slots.append(slot)
        }
        for slot in slots { _ = pool.release(slot, .exclusive, now: t0, isOpen: allOpen) }
        _ = pool.expireDue(now: t0, isOpen: allOpen)
        return (pool, slots)
    }

    @Test func theFirstCallerWaitsForTheFirstConnectionAndGetsItWhenItOpens() {
        var pool = machine()
        let waiter = pool.makeWaiterID()
        let asked = pool.acquire(waiter, .shared, now: t0, isOpen: allOpen)
        #expect(asked.grants.isEmpty && asked.failures.isEmpty)
        #expect(asked.connects.count == 1)
        #expect(asked.armTimer == t0 + .seconds(5))
        #expect(pool.statistics == .init(idle: 0, busy: 0, connecting: 1, waiting: 1))
        let opened = pool.connected(asked.connects[0], now: t0 + .milliseconds(10), isOpen: allOpen)
        #expect(opened.grants == [.init(waiter: waiter, slot: asked.connects[0], demand: .shared)])
        #expect(pool.statistics == .init(idle: 0, busy: 1, connecting: 0, waiting: 0))
    }

    @Test func statementsGoToTheLeastBusyConnectionUpToThePipelineDepth() {
        var (pool, slots) = opened(2, depth: 2)
        var granted: [Int] = []
        for _ in 0..<4 {
            let asked = pool.acquire(pool.makeWaiterID(), .shared, now: t0, isOpen: allOpen)
            granted += asked.grants.map(\.slot)
        }
        #expect(granted.sorted() == [slots[0], slots[0], slots[1], slots[1]])
        // Both pipelines are full and the pool is at its size: the fifth waits, and gets the first place freed.
        let fifth = pool.makeWaiterID()
        let waits = pool.acquire(fifth, .shared, now: t0, isOpen: allOpen)
        #expect(waits.grants.isEmpty && waits.connects.isEmpty && waits.armTimer == t0 + .seconds(5))
        let freed = pool.release(slots[1], .shared, now: t0 + .milliseconds(5), isOpen: allOpen)
        #expect(freed.grants == [.init(waiter: fifth, slot: slots[1], demand: .shared)])
    }

    @Test func aLentConnectionTakesNothingElseUntilItReturns() {
        var (pool, slots) = opened(1, size: 1)
        let lent = pool.acquire(pool.makeWaiterID(), .exclusive, now: t0, isOpen: allOpen)
        #expect(lent.grants.map(\.slot) == slots)
        let statement = pool.makeWaiterID()
        #expect(pool.acquire(statement, .shared, now: t0, isOpen: allOpen).grants.isEmpty)
        let back = pool.release(slots[0], .exclusive, now: t0, isOpen: allOpen)
        #expect(back.grants == [.init(waiter: statement, slot: slots[0], demand: .shared)])
    }

    @Test func aBorrowerWaitsUntilTheStatementsGrantedOnItsConnectionAreSentAndNoNewOneIsGrantedMeanwhile() {
        var (pool, slots) = opened(1, size: 1)
        _ = pool.acquire(pool.makeWaiterID(), .shared, now: t0, isOpen: allOpen)
        let borrower = pool.makeWaiterID()
        #expect(pool.acquire(borrower, .exclusive, now: t0, isOpen: allOpen).grants.isEmpty,
                "a statement granted but not yet sent would land inside the borrower's transaction")
        let statement = pool.makeWaiterID()
        #expect(pool.acquire(statement, .shared, now: t0, isOpen: allOpen).grants.isEmpty, "the connection drains")
        let sent = send(&pool, slots[0])
        #expect(sent.grants == [.init(waiter: borrower, slot: slots[0], demand: .exclusive)],
                "lent while the statement is still answered: the BEGIN queues behind it")
        _ = pool.release(slots[0], .shared, now: t0, isOpen: allOpen)
        let back = pool.release(slots[0], .exclusive, now: t0, isOpen: allOpen)
        #expect(back.grants == [.init(waiter: statement, slot: slots[0], demand: .shared)])
    }

    /// The race `SlotCounters.sent` leaves open: its caller lowered the count after the borrower looked at it, and
    /// read the draining flag before the borrower set it, so it did not serve the borrower. The statement's answer
    /// does.
    @Test func aBorrowerMissedByTheLastSentStatementGetsTheConnectionWithItsAnswer() {
        var (pool, slots) = opened(1, size: 1)
        _ = pool.acquire(pool.makeWaiterID(), .shared, now: t0, isOpen: allOpen)
        let borrower = pool.makeWaiterID()
        #expect(pool.acquire(borrower, .exclusive, now: t0, isOpen: allOpen).grants.isEmpty)
        let counters = try! #require(pool.counters(of: slots[0]))
        #expect(counters.sent(), "the last statement a draining slot waited for")
        #expect(counters.unsent == 0)
        // As if the flag had been read before it was set: `drained` is not run.
        let answered = pool.release(slots[0], .shared, now: t0, isOpen: allOpen)
        #expect(answered.grants == [.init(waiter: borrower, slot: slots[0], demand: .exclusive)])
    }

    @Test func aBorrowerTakesAConnectionWithNothingUnsentAndOnlyOneConnectionDrainsPerBorrower() {
        var (pool, slots) = opened(3, size: 3)
        for _ in 0..<3 {
            let granted = pool.acquire(pool.makeWaiterID(), .shared, now: t0, isOpen: allOpen).grants[0].slot
            _ = send(&pool, granted)
        }
        // Two more statements, granted and not sent yet, on two of the three connections.
        let unsent = (0..<2).map { _ in pool.acquire(pool.makeWaiterID(), .shared, now: t0, isOpen: allOpen).grants[0].slot }
        #expect(Set(unsent).count == 2)
        let free = slots.first { !unsent.contains($0) }!
        let lent = pool.acquire(pool.makeWaiterID(), .exclusive, now: t0, isOpen: allOpen)
        #expect(lent.grants.map(\.slot) == [free], "its statement in flight was sent: the BEGIN queues behind it")
        let borrower = pool.makeWaiterID()
        #expect(pool.acquire(borrower, .exclusive, now: t0, isOpen: allOpen).grants.isEmpty)
        // One of the two drains for the borrower; the other still takes statements.
        let statement = pool.acquire(pool.makeWaiterID(), .shared, now: t0, isOpen: allOpen)
        #expect(statement.grants.count == 1)
        let open = statement.grants[0].slot
        let draining = unsent.first { $0 != open }!
        #expect(unsent.contains(open))
        #expect(send(&pool, open).grants.isEmpty, "the borrower waits for the draining one")
        let drained = send(&pool, draining)
        #expect(drained.grants == [.init(waiter: borrower, slot: draining, demand: .exclusive)])
    }

    @Test func aConnectionDrainingForABorrowerWhoGaveUpTakesStatementsAgain() {
        // A timeout shorter than the stall threshold: the statement in flight is not slow when the borrower gives up.
        var (pool, slots) = opened(1, size: 1, acquireTimeout: .milliseconds(100))
        _ = pool.acquire(pool.makeWaiterID(), .shared, now: t0, isOpen: allOpen)
        let borrower = pool.makeWaiterID()
        _ = pool.acquire(borrower, .exclusive, now: t0, isOpen: allOpen)
        let statement = pool.makeWaiterID()
        #expect(pool.acquire(statement, .shared, now: t0 + .milliseconds(1), isOpen: allOpen).grants.isEmpty)
        let expired = pool.expireDue(now: t0 + .milliseconds(100), isOpen: allOpen)
        #expect(expired.failures.map(\.waiter) == [borrower])
        #expect(expired.grants == [.init(waiter: statement, slot: slots[0], demand: .shared)])
    }

    @Test func anAbandonedStatementFreesItsPlaceForABorrower() {
        var (pool, slots) = opened(1, size: 1)
        _ = pool.acquire(pool.makeWaiterID(), .shared, now: t0, isOpen: allOpen)
        let borrower = pool.makeWaiterID()
        _ = pool.acquire(borrower, .exclusive, now: t0, isOpen: allOpen)
        let abandoned = pool.abandoned(slots[0], now: t0, isOpen: allOpen)
        #expect(abandoned.grants == [.init(waiter: borrower, slot: slots[0], demand: .exclusive)])
        _ = pool.release(slots[0], .exclusive, now: t0, isOpen: allOpen)
        #expect(pool.statistics == .init(idle: 1, busy: 0, connecting: 0, waiting: 0))
    }

    /// Random statements (granted, sent, answered, some abandoned) and borrowers on three connections: no statement
    /// is sent on a lent connection, no connection is lent with a statement unsent, and every caller is served.
    ///
    /// A statement sent after a borrower's BEGIN runs inside its transaction (answered as done, gone with a
    /// rollback): this is the invariant that prevents it.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func neverSendsAStatementOnALentConnectionAndServesEveryone(seed: UInt64) {
        var random = FastRandom(seed: seed)
        var (pool, _) = opened(3, size: 3, depth: 3)
        var lent: Set<Int> = []
        var unsent: [Int] = []  // slots of statements granted, not sent yet
        var answering: [Int] = []  // slots of statements sent, not answered yet
        var borrowed: [Int] = []
        var waiting = 0
        var violations: [String] = []
        func apply(_ actions: Machine.Actions) {
            for grant in actions.grants {
                waiting -= 1
                if lent.contains(grant.slot) { violations.append("\(grant.demand) granted on lent slot \(grant.slot)") }
                switch grant.demand {
                case .exclusive:
                    if unsent.contains(grant.slot) { violations.append("slot \(grant.slot) lent with a statement unsent") }
                    lent.insert(grant.slot)
                    borrowed.append(grant.slot)
                case .shared:
                    unsent.append(grant.slot)
                }
            }
        }
        for _ in 0..<3_000 {
            switch random.next(below: 5) {
            case 0 where waiting < 4, 1 where waiting < 4:
                waiting += 1
                apply(pool.acquire(pool.makeWaiterID(), random.next(below: 4) == 0 ? .exclusive : .shared, now: t0,
                                   isOpen: allOpen))
            case 2 where !unsent.isEmpty:
                let slot = unsent.remove(at: random.next(below: unsent.count))
                if lent.contains(slot) { violations.append("a statement sent on lent slot \(slot)") }
                if random.next(below: 10) == 0 {
                    apply(pool.abandoned(slot, now: t0, isOpen: allOpen))
                } else {
                    answering.append(slot)
                    apply(send(&pool, slot))
                }
            case 3 where !answering.isEmpty:
                let slot = answering.remove(at: random.next(below: answering.count))
                apply(pool.release(slot, .shared, now: t0, isOpen: allOpen))
            case 4 where !borrowed.isEmpty:
                let slot = borrowed.remove(at: random.next(below: borrowed.count))
                lent.remove(slot)
                apply(pool.release(slot, .exclusive, now: t0, isOpen: allOpen))
            default:
                break
            }
        }
        while !(unsent.isEmpty && answering.isEmpty && borrowed.isEmpty) {
            if let slot = unsent.popLast() {
                answering.append(slot)
                apply(send(&pool, slot))
            } else if let slot = answering.popLast() {
                apply(pool.release(slot, .shared, now: t0, isOpen: allOpen))
            } else if let slot = borrowed.popLast() {
                lent.remove(slot)
                apply(pool.release(slot, .exclusive, now: t0, isOpen: allOpen))
            }
        }
        #expect(violations.isEmpty, "\(violations.prefix(3))")
        #expect(waiting == 0, "every caller was served")
        #expect(pool.statistics == .init(idle: 3, busy: 0, connecting: 0, waiting: 0))
    }

    @Test func aSlowAnswerDropsTheDepthToOneAndFastAnswersDoubleItBack() {
        var (pool, slots) = opened(1, size: 1, depth: 4)
        _ = pool.acquire(pool.makeWaiterID(), .shared, now: t0, isOpen: allOpen)
        _ = pool.release(slots[0], .shared, now: t0 + .milliseconds(400), isOpen: allOpen)  // slow
        let now = t0 + .milliseconds(500)
        #expect(pool.acquire(pool.makeWaiterID(), .shared, now: now, isOpen: allOpen).grants.count == 1)
        #expect(pool.acquire(pool.makeWaiterID(), .shared, now: now, isOpen: allOpen).grants.isEmpty, "depth 1")
        // A fast answer doubles the depth (1 → 2): the waiter and one more fit.
        let fast = pool.release(slots[0], .shared, now: now + .milliseconds(1), isOpen: allOpen)
        #expect(fast.grants.count == 1)
        #expect(pool.acquire(pool.makeWaiterID(), .shared, now: now, isOpen: allOpen).grants.count == 1)
    }

    @Test func aConnectionStalledBehindASlowStatementIsPassedOver() {
        var (pool, slots) = opened(2)
        let first = pool.acquire(pool.makeWaiterID(), .shared, now: t0, isOpen: allOpen)
        let stalled = first.grants[0].slot
        // 300 ms later the statement on `stalled` has run past the threshold: new statements go elsewhere, even
        // though the other connection is equally free.
        let later = t0 + .milliseconds(300)
        for _ in 0..<3 {
            let asked = pool.acquire(pool.makeWaiterID(), .shared, now: later, isOpen: allOpen)
            #expect(asked.grants.map(\.slot) == slots.filter { $0 != stalled })
        }
    }

    @Test func waitersFailWithPoolTimeoutAtTheirDeadlinesUnderOneTimer() {
        var (pool, _) = opened(1, size: 1)
        _ = pool.acquire(pool.makeWaiterID(), .exclusive, now: t0, isOpen: allOpen)
        let first = pool.makeWaiterID()
        #expect(pool.acquire(first, .exclusive, now: t0, isOpen: allOpen).armTimer == t0 + .seconds(5))
        let second = pool.makeWaiterID()
        #expect(pool.acquire(second, .exclusive, now: t0 + .seconds(1), isOpen: allOpen).armTimer == nil, "armed already")
        #expect(pool.expireDue(now: t0 + .seconds(4), isOpen: allOpen) == .init(armTimer: t0 + .seconds(5)),
            "early: nobody's time is up, and the timer is armed again")
        let expired = pool.expireDue(now: t0 + .seconds(5), isOpen: allOpen)
        #expect(expired.failures.map(\.waiter) == [first])
        #expect(expired.failures.first?.error.code == .poolTimeout)
        #expect(expired.armTimer == t0 + .seconds(6), "for the waiter left")
        let last = pool.expireDue(now: t0 + .seconds(7), isOpen: allOpen)
        #expect(last.failures.map(\.waiter) == [second] && last.armTimer == nil)
        #expect(pool.expireDue(now: t0 + .seconds(8), isOpen: allOpen).isEmpty, "a later firing finds nobody")
        #expect(pool.statistics.waiting == 0)
        let next = pool.makeWaiterID()
        #expect(pool.acquire(next, .exclusive, now: t0 + .seconds(9), isOpen: allOpen).armTimer == t0 + .seconds(14),
            "the next caller to wait arms it again")
    }

    @Test func theWaitQueueIsBoundedAndTheExcessIsRefusedAtOnce() {
        var (pool, _) = opened(1, size: 1)
        _ = pool.acquire(pool.makeWaiterID(), .exclusive, now: t0, isOpen: allOpen)
        for _ in 0..<4 { _ = pool.acquire(pool.makeWaiterID(), .exclusive, now: t0, isOpen: allOpen) }
        let refused = pool.acquire(pool.makeWaiterID(), .exclusive, now: t0, isOpen: allOpen)
        #expect(refused.failures.first?.error.code == .poolTimeout)
        #expect(refused.armTimer == nil)
        #expect(pool.statistics.waiting == 4)
    }

    /// Each event runs under the pool's lock: with a full queue and every connection busy, an expiry must not look
    /// for a connection once per waiter (1,024 expiries in a row made that a million lookups).
    @Test func anExpiryInAFullQueueLooksForAConnectionOnceAndTheOthersKeepTheirPlaces() {
        var pool = machine(size: 1, maxWaiters: 1_000, depth: 1)
        let first = pool.acquire(pool.makeWaiterID(), .shared, now: t0, isOpen: allOpen)
        let slot = first.connects[0]
        #expect(pool.connected(slot, now: t0, isOpen: allOpen).grants.map(\.slot) == [slot])
        var queued: [Int] = []
        for index in 0..<1_000 {
            let waiter = pool.makeWaiterID()
            _ = pool.acquire(waiter, index % 100 == 99 ? .exclusive : .shared, now: t0 + .milliseconds(index), isOpen: allOpen)
            queued.append(waiter)
        }
        var lookups = 0
        let counting: (Int) -> Bool = { _ in
            lookups += 1
            return true
        }
        for (index, count) in [(0, 1), (3, 3), (103, 100)] {
            lookups = 0
            let expired = pool.expireDue(now: t0 + .seconds(5) + .milliseconds(index), isOpen: counting)
            #expect(expired.failures.map(\.waiter) == Array(queued[(index + 1 - count)...index]))
            #expect(expired.grants.isEmpty)
            #expect(expired.armTimer == t0 + .seconds(5) + .milliseconds(index + 1))
            #expect(lookups <= 4, "looked at the connection \(lookups) times for \(count) expiries")
        }
        #expect(pool.statistics.waiting == 896)
        // Once its statement is sent, the connection (drained meanwhile) is lent to the first borrower left; once
        // it is back, it goes to the oldest statement still waiting.
        let sent = send(&pool, slot)
        #expect(sent.grants.map(\.waiter) == [queued[199]])
        #expect(pool.release(slot, .shared, now: t0 + .seconds(5), isOpen: allOpen).grants.isEmpty)
        let back = pool.release(slot, .exclusive, now: t0 + .seconds(5), isOpen: allOpen)
        #expect(back.grants.map(\.waiter) == [queued[104]])
    }

    @Test func whenTheServerRefusesWaitersFailAtOnceAndCallersAreRefusedBrieflyThenQueuedAgain() {
        var pool = machine()
        let waiter = pool.makeWaiterID()
        let asked = pool.acquire(waiter, .shared, now: t0, isOpen: allOpen)
        let refusal = PostgresError(code: .unableToConnect, message: "connection refused")
        let failed = pool.connectFailed(refusal, now: t0 + .milliseconds(1))
        #expect(failed.failures == [.init(waiter: waiter, error: refusal)])
        #expect(!asked.connects.isEmpty)
        let soon = pool.acquire(pool.makeWaiterID(), .shared, now: t0 + .milliseconds(100), isOpen: allOpen)
        #expect(soon.failures.first?.error == refusal, "within the fail-fast window")
        let later = pool.acquire(pool.makeWaiterID(), .shared, now: t0 + .milliseconds(400), isOpen: allOpen)
        #expect(later.failures.isEmpty && later.connects.count == 1, "after it, a new attempt")
    }

    @Test func aDeadConnectionIsNeitherPickedNorKeptAndWaitersGetANewOne() {
        var (pool, slots) = opened(1, size: 1)
        let waiter = pool.makeWaiterID()
        let asked = pool.acquire(waiter, .shared, now: t0, isOpen: { _ in false })
        #expect(asked.grants.isEmpty, "its socket closed before its termination event")
        let gone = pool.connectionTerminated(slots[0], now: t0, isOpen: allOpen)
        #expect(gone.connects.count == 1, "the waiter needs a connection")
        let replaced = pool.connected(gone.connects[0], now: t0, isOpen: allOpen)
        #expect(replaced.grants == [.init(waiter: waiter, slot: gone.connects[0], demand: .shared)])
    }

    @Test func closingFailsWaitersClosesConnectionsAndRefusesEveryoneAfter() {
        var (pool, slots) = opened(1, size: 2)
        let lent = pool.acquire(pool.makeWaiterID(), .exclusive, now: t0, isOpen: allOpen)
        #expect(lent.connects.count == 1, "every open connection is busy: another is being opened")
        let waiter = pool.makeWaiterID()
        let waits = pool.acquire(waiter, .exclusive, now: t0, isOpen: allOpen)
        #expect(waits.connects.isEmpty && waits.armTimer != nil)
        let closed = pool.close()
        #expect(closed.failures.map(\.waiter) == [waiter])
        #expect(closed.failures.first?.error.code == .connectionClosed)
        #expect(closed.closes == slots)
        #expect(pool.acquire(pool.makeWaiterID(), .shared, now: t0, isOpen: allOpen).failures.first?.error.code
            == .connectionClosed)
        let late = pool.connected(lent.connects[0], now: t0, isOpen: allOpen)
        #expect(late.closes == lent.connects, "a connection that opens after the close is closed")
    }

    @Test func anotherConnectionOpensOnlyWhenEveryOpenOneIsBusy() {
        var (pool, slots) = opened(1, size: 3)
        let first = pool.acquire(pool.makeWaiterID(), .shared, now: t0, isOpen: allOpen)
        #expect(first.grants.map(\.slot) == slots)
        #expect(first.connects.count == 1, "the only connection is now busy: grow")
        let second = pool.acquire(pool.makeWaiterID(), .shared, now: t0, isOpen: allOpen)
        #expect(second.connects.isEmpty, "one is being opened already")
        _ = pool.connected(first.connects[0], now: t0, isOpen: allOpen)
        let third = pool.acquire(pool.makeWaiterID(), .shared, now: t0, isOpen: allOpen)
        #expect(third.grants.map(\.slot) == first.connects, "the new, idle one")
    }
}
