import NIOCore
import NIOPosix

// Over 300 lines on purpose: one event loop's whole run (connections, schedule, timeouts, results) is one class
// whose state is confined to that loop, and its steps are read best together.

/// A running total for the live progress line.
struct ProgressSnapshot: Sendable {
    /// Requests finished, warm-up included.
    var completed: Int
    /// The measured requests so far.
    var measured: LatencyStatistics
}

/// Drives the load connections of one event loop and measures their requests.
///
/// Everything it holds is touched only on its event loop, so the hot path takes no lock.
final class LoopWorker {
    private enum Phase {
        case connecting, running, draining, finished
    }

    let eventLoop: any EventLoop
    private let plan: WorkerPlan
    private let picker: ScenarioPicker
    private let bootstrap: ClientBootstrap
    private let finished: EventLoopPromise<Void>
    private var random: FastRandom
    private var phase = Phase.connecting
    private var schedule = RunSchedule(start: 0, measureStart: 0, measureEnd: 0, hardStop: 0)

    private(set) var statistics = RunStatistics()
    private var completed = 0

    /// Open connections; `idle` are those of the open loop waiting for a due request.
    private var connections: [LoadConnectionHandler] = []
    private var idle: [LoadConnectionHandler] = []
    private var connecting = 0
    private var inFlight = 0
    /// Due requests of the open loop waiting for a connection, as intended start times.
    private var queue = CircularBuffer<Int64>()
    private var nextIntendedIndex = 0
    private var scratch = ByteBuffer()
    private var timers: [Scheduled<Void>] = []
    private var sweeper: RepeatedTask?

    init(eventLoop: any EventLoop, plan: WorkerPlan, finished: EventLoopPromise<Void>) {
        self.eventLoop = eventLoop
        self.plan = plan
        self.finished = finished
        picker = ScenarioPicker(plan.mix)
        random = FastRandom(seed: plan.randomSeed)
        bootstrap = makeBootstrap(on: eventLoop, connectTimeout: .nanoseconds(plan.timeoutNanoseconds))
        scratch = ByteBufferAllocator().buffer(capacity: 1024)
    }

    private var bound: NIOLoopBound<LoopWorker> { NIOLoopBound(self, eventLoop: eventLoop) }

    // MARK: Phases

    /// Opens this loop's connections; the future completes when every attempt has succeeded or failed.
    func connectAll() -> EventLoopFuture<Void> {
        let attempts = (0..<plan.connections).map { _ in openConnection() }
        return EventLoopFuture.andAllComplete(attempts, on: eventLoop)
    }

    /// Starts sending on every open connection and arms the timers of `schedule`.
    func start(_ schedule: RunSchedule) {
        self.schedule = schedule
        phase = .running
        let bound = bound
        timers.append(eventLoop.scheduleTask(deadline: Self.deadline(schedule.measureEnd)) { bound.value.beginDrain() })
        timers.append(eventLoop.scheduleTask(deadline: Self.deadline(schedule.hardStop)) { bound.value.cutRemaining() })
        let sweepInterval = Swift.max(10_000_000, Swift.min(100_000_000, plan.timeoutNanoseconds / 10))
        sweeper = eventLoop.scheduleRepeatedTask(initialDelay: .nanoseconds(sweepInterval), delay: .nanoseconds(sweepInterval)) { _ in
            bound.value.sweepTimeouts()
        }
        for _ in 0..<(plan.connections - connections.count - connecting) {
            reconnect(after: 0)
        }
        if plan.requestsPerSecond == nil {
            for connection in connections { sendNext(on: connection) }
        } else {
            idle = connections
            tick()
        }
    }

    /// The progress so far.
    func progress() -> ProgressSnapshot {
        ProgressSnapshot(completed: completed, measured: statistics.overall)
    }

    private func beginDrain() {
        guard phase == .running else { return }
        if plan.requestsPerSecond != nil { tick() }
        phase = .draining
        finishIfDrained()
    }

    private func cutRemaining() {
        guard phase != .finished else { return }
        let now = monotonicNanoseconds()
        for connection in connections {
            if let request = connection.takeInFlight() { fail(request, .timeout, now: now) }
        }
        while let intended = queue.popFirst() {
            record(InFlightRequest(scenario: picker.pick(&random), start: intended, measured: isMeasured(intended)), .timeout, now: now)
        }
        finish()
    }

    private func finishIfDrained() {
        if phase == .draining, inFlight == 0, queue.isEmpty { finish() }
    }

    private func finish() {
        phase = .finished
        timers.forEach { $0.cancel() }
        timers = []
        sweeper?.cancel()
        sweeper = nil
        let open = connections
        connections = []
        idle = []
        open.forEach { $0.close() }
        finished.succeed(())
    }

    // MARK: Connections

    private func openConnection() -> EventLoopFuture<Void> {
        connecting += 1
        let bound = bound
        return bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(LoadConnectionHandler(worker: bound.value))
                }
            }
            .connect(to: plan.address)
            .map { _ in bound.value.connecting -= 1 }
            .recover { _ in bound.value.connectFailed() }
    }

    private func reconnect(after nanoseconds: Int64) {
        guard phase == .running || (phase == .draining && !queue.isEmpty) else { return }
        if nanoseconds == 0 {
            _ = openConnection()
        } else {
            let bound = bound
            connecting += 1
            eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) {
                let worker = bound.value
                worker.connecting -= 1
                worker.reconnect(after: 0)
            }
        }
    }

    private func connectFailed() {
        connecting -= 1
        guard phase == .running || phase == .draining else { return }
        let now = monotonicNanoseconds()
        if plan.requestsPerSecond == nil {
            if now < schedule.measureEnd {
                record(InFlightRequest(scenario: picker.pick(&random), start: now, measured: isMeasured(now)), .connect, now: now)
            }
        } else if connections.isEmpty {
            // No connection can take the due requests: they fail now rather than wait for a timeout.
            while let intended = queue.popFirst() {
                record(InFlightRequest(scenario: picker.pick(&random), start: intended, measured: isMeasured(intended)), .connect, now: now)
            }
        }
        reconnect(after: 100_000_000)
        finishIfDrained()
    }

    func connectionBecameActive(_ connection: LoadConnectionHandler) {
        guard phase != .finished else {
            connection.close()
            return
        }
        connections.append(connection)
        guard phase != .connecting else { return }
        if plan.requestsPerSecond == nil {
            sendNext(on: connection)
        } else {
            takeNextDue(on: connection)
        }
    }

    func connectionClosed(_ connection: LoadConnectionHandler, failure: RequestFailure) {
        guard phase != .finished else { return }
        if let index = connections.firstIndex(where: { $0 === connection }) { connections.remove(at: index) }
        if let index = idle.firstIndex(where: { $0 === connection }) { idle.remove(at: index) }
        let failed = connection.takeInFlight()
        if let failed { fail(failed, failure, now: monotonicNanoseconds()) }
        reconnect(after: failed == nil ? 0 : 10_000_000)
        finishIfDrained()
    }

    // MARK: Requests

    func responseReceived(on connection: LoadConnectionHandler, for request: InFlightRequest, status: Int, keepAlive: Bool) {
        guard phase != .finished else { return }
        let now = monotonicNanoseconds()
        inFlight -= 1
        completed += 1
        if request.measured {
            statistics.record(
                request.scenario, status: status, latencyNanoseconds: now - request.start, completedAt: now - schedule.measureStart
            )
        }
        if !keepAlive {
            connection.close()
        } else if plan.requestsPerSecond == nil {
            sendNext(on: connection)
        } else {
            takeNextDue(on: connection)
        }
        finishIfDrained()
    }

    /// Closed loop: the connection sends its next request at once, until the measured period ends.
    private func sendNext(on connection: LoadConnectionHandler) {
        guard phase == .running else { return }
        let now = monotonicNanoseconds()
        guard now < schedule.measureEnd else { return }
        send(on: connection, start: now)
    }

    /// Open loop: the connection takes the oldest due request, or waits for one.
    private func takeNextDue(on connection: LoadConnectionHandler) {
        if let intended = queue.popFirst() {
            send(on: connection, start: intended)
        } else if phase == .running {
            idle.append(connection)
        }
    }

    private func send(on connection: LoadConnectionHandler, start: Int64) {
        let scenario = picker.pick(&random)
        let request = plan.catalog.request(scenario, random: &random, scratch: &scratch)
        inFlight += 1
        connection.send(request, as: InFlightRequest(scenario: scenario, start: start, measured: isMeasured(start)))
    }

    /// Open loop: queues every request whose intended time has come, hands them to idle connections,
    /// and schedules itself for the next intended time.
    private func tick() {
        guard phase == .running, let rate = plan.requestsPerSecond else { return }
        let now = monotonicNanoseconds()
        let interval = 1e9 / rate
        var intended = intendedTime(nextIntendedIndex, interval: interval)
        while intended <= now, intended < schedule.measureEnd {
            if queue.count < plan.maxQueuedRequests {
                queue.append(intended)
            } else {
                record(InFlightRequest(scenario: picker.pick(&random), start: intended, measured: isMeasured(intended)), .queueFull, now: now)
            }
            nextIntendedIndex += 1
            intended = intendedTime(nextIntendedIndex, interval: interval)
        }
        while !queue.isEmpty, let connection = idle.popLast() {
            send(on: connection, start: queue.removeFirst())
        }
        if intended < schedule.measureEnd {
            // It throws only once the event loop shuts down, and then the run is over anyway.
            _ = try? eventLoop.scheduleCallback(at: Self.deadline(intended), handler: TickCallback(worker: bound))
        }
    }

    private func intendedTime(_ index: Int, interval: Double) -> Int64 {
        schedule.start + Int64((Double(index) + plan.intervalOffset) * interval)
    }

    /// Counts requests that have waited longer than the timeout, in flight or in the queue, as `timeout`.
    private func sweepTimeouts() {
        guard phase == .running || phase == .draining else { return }
        let now = monotonicNanoseconds()
        let limit = plan.timeoutNanoseconds
        for connection in connections {
            if let request = connection.inFlight, now - request.start >= limit {
                _ = connection.takeInFlight()
                fail(request, .timeout, now: now)
                connection.close(because: .timeout)
            }
        }
        while let intended = queue.first, now - intended >= limit {
            queue.removeFirst()
            record(InFlightRequest(scenario: picker.pick(&random), start: intended, measured: isMeasured(intended)), .timeout, now: now)
        }
        finishIfDrained()
    }

    /// Counts a request that was sent and failed.
    private func fail(_ request: InFlightRequest, _ failure: RequestFailure, now: Int64) {
        inFlight -= 1
        record(request, failure, now: now)
    }

    /// Counts a failed request, sent or not.
    private func record(_ request: InFlightRequest, _ failure: RequestFailure, now: Int64) {
        completed += 1
        if request.measured {
            statistics.record(
                request.scenario, failure: failure, latencyNanoseconds: now - request.start, completedAt: now - schedule.measureStart
            )
        }
    }

    private func isMeasured(_ start: Int64) -> Bool {
        start >= schedule.measureStart && start < schedule.measureEnd
    }

    private static func deadline(_ nanoseconds: Int64) -> NIODeadline {
        .uptimeNanoseconds(UInt64(Swift.max(0, nanoseconds)))
    }

    private struct TickCallback: NIOScheduledCallbackHandler, Sendable {
        let worker: NIOLoopBound<LoopWorker>

        func handleScheduledCallback(eventLoop: some EventLoop) {
            worker.value.tick()
        }
    }
}
