import CLibPQ
import DequeModule
import Foundation
import Primitives
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// One file over 300 lines on purpose: the driver is one loop (mailbox, send, poll, receive, terminate) whose steps
// share the thread-confined state and are read best together.

/// Drives one libpq connection on a thread of its own, in pipeline mode: the thread, the wake-up pipe, `poll`, and
/// the libpq calls; what was sent and what each result completes is `PipelineProtocol`'s business.
///
/// libpq blocks, so it never runs on Swift's cooperative pool: callers post statements to a mailbox and wake the
/// thread through a pipe; the thread sends every posted statement at once, waits on the socket with `poll`, and
/// completes statements in order as their results arrive. Many statements from concurrent callers are in flight at
/// once on one connection, which is why a small pool serves many clients. The handle, the queue and the pipeline
/// state are touched by the thread alone (checked in debug builds by `ThreadConfined`).
final class ConnectionWorker: @unchecked Sendable {
    typealias Completion = PipelineProtocol.Completion

    /// Work for the connection: a pipelined statement, or a closure that needs the connection to itself outside
    /// pipeline mode (COPY, multi-statement scripts).
    enum Item {
        case statement(SQL, Completion)
        case exclusive(run: @Sendable (ExclusiveAccess) -> Void, fail: @Sendable (PostgresError) -> Void)

        func fail(_ error: PostgresError) {
            switch self {
            case .statement(_, let completion): completion(.failure(error))
            case .exclusive(_, let fail): fail(error)
            }
        }
    }

    private struct Mailbox {
        var items: [Item] = []
        var closing = false
        /// Set once the connection is dead or closed; later submissions fail with it at once.
        var failure: PostgresError?
    }

    /// What only the connection's thread touches.
    private struct Confined {
        var handle: ConnectionHandle?
        var pending = Deque<Item>()
        var pipeline: PipelineProtocol
    }

    let configuration: PostgresConfiguration
    private let mailbox = Mutex(Mailbox())
    private let exited = OneTimeSignal()
    /// Set once connected: how another thread cancels the statement running or cuts the connection.
    private let interrupt = Mutex<ConnectionInterrupt?>(nil)
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let onNotification: (@Sendable (PostgresNotification) -> Void)?
    private let onTermination: @Sendable (PostgresError) -> Void

    private var confined: ThreadConfined<Confined>

    private init(
        configuration: PostgresConfiguration, wakeRead: Int32, wakeWrite: Int32,
        onNotification: (@Sendable (PostgresNotification) -> Void)?,
        onTermination: @escaping @Sendable (PostgresError) -> Void
    ) {
        self.configuration = configuration
        self.wakeRead = wakeRead
        self.wakeWrite = wakeWrite
        self.onNotification = onNotification
        self.onTermination = onTermination
        confined = ThreadConfined(Confined(pipeline: PipelineProtocol(preparedStatements: configuration.preparedStatements)))
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    /// Connects on a new thread and returns once the connection is ready (or throws libpq's reason).
    static func start(
        configuration: PostgresConfiguration,
        onNotification: (@Sendable (PostgresNotification) -> Void)? = nil,
        onTermination: @escaping @Sendable (PostgresError) -> Void = { _ in }
    ) async throws -> ConnectionWorker {
        var fds: [Int32] = [0, 0]
        // A socket pair, close-on-exec from birth, so no process spawned meanwhile inherits it.
        let type = Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue)
        guard socketpair(AF_UNIX, type, 0, &fds) == 0 else {
            throw PostgresError(code: .unableToConnect, message: "cannot create a wake-up pipe: errno \(errno)")
        }
        let worker = ConnectionWorker(
            configuration: configuration, wakeRead: fds[0], wakeWrite: fds[1], onNotification: onNotification,
            onTermination: onTermination)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let thread = Thread { worker.threadMain(ready: continuation) }
            thread.name = "postgres-connection"
            thread.stackSize = 512 * 1024
            thread.start()
        }
        return worker
    }

    /// Posts work; fails it at once when the connection is already dead or closed.
    func submit(_ item: Item) {
        let outcome: (wake: Bool, failure: PostgresError?) = mailbox.withLock { box in
            if let failure = box.failure { return (false, failure) }
            box.items.append(item)
            return (box.items.count == 1, nil)
        }
        if let failure = outcome.failure {
            item.fail(failure)
        } else if outcome.wake {
            wake()
        }
    }

    /// Finishes the work already posted, then closes the connection.
    func shutdown() {
        mailbox.withLock { $0.closing = true }
        wake()
    }

    /// Returns once the connection's thread has ended, its libpq connection freed.
    ///
    /// A process must not exit while a connection thread is still inside libpq: OpenSSL's clean-up at exit frees
    /// what a SCRAM handshake or a TLS connection in progress is using.
    func waitUntilExited() async {
        await exited.wait()
    }

    /// Whether the connection has died or been closed.
    var isTerminated: Bool {
        mailbox.withLock { $0.failure != nil }
    }

    /// For a process that stops after its drain timeout: asks the server to cancel the statement it runs for this
    /// connection, again every `abortInterval` while the connection stays open (the statements pipelined behind a
    /// cancelled one run next), and cuts the connection if it is still open `grace` later (a server that does not
    /// answer). The work in flight fails, and a closing connection ends. Returns at once: `PQcancel` blocks, so
    /// this runs on a thread of its own.
    func abort(grace: Duration) {
        guard let interrupt = interrupt.withLock({ $0 }) else { return }
        let thread = Thread {
            let deadline = ContinuousClock.now + grace
            // When the server cannot even be asked, there is nothing to wait for.
            while interrupt.isOpen, ContinuousClock.now < deadline, interrupt.cancelStatement() {
                Thread.sleep(forTimeInterval: Self.abortInterval.inSeconds)
            }
            interrupt.cut()
        }
        thread.name = "postgres-abort"
        thread.start()
    }

    /// How often `abort` asks again for the statement running to be cancelled.
    static let abortInterval: Duration = .milliseconds(50)

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    // MARK: - The thread

    private func threadMain(ready: CheckedContinuation<Void, any Error>) {
        confined.bindToCurrentThread()
        serve(ready: ready)
        // The handle is released (PQfinish done) by now: the process may exit without this thread in libpq.
        exited.fire()
    }

    /// Connects, then runs the connection until it ends; the handle does not outlive this call.
    private func serve(ready: CheckedContinuation<Void, any Error>) {
        let handle: ConnectionHandle
        switch ConnectionHandle.connect(configuration.connectParameters) {
        case .success(let connected):
            handle = connected
        case .failure(let error):
            terminate(error, notify: false)
            ready.resume(throwing: error)
            return
        }
        confined.value.handle = handle
        interrupt.withLock { $0 = ConnectionInterrupt(handle) }
        ready.resume()
        runLoop(handle)
        confined.value.handle = nil
    }

    private func runLoop(_ handle: ConnectionHandle) {
        let conn = handle.raw
        let socket = PQsocket(conn)
        while true {
            let posted = mailbox.withLock { box -> (items: [Item], closing: Bool) in
                defer { box.items.removeAll(keepingCapacity: true) }
                return (box.items, box.closing)
            }
            let closing = posted.closing
            confined.value.pending.append(contentsOf: posted.items)
            if let error = sendPending(handle) {
                terminate(error)
                return
            }
            if closing, confined.value.pending.isEmpty, confined.value.pipeline.isIdle {
                terminate(PostgresError(code: .connectionClosed, message: "the connection was closed"))
                return
            }
            let flush = PQflush(conn)
            if flush < 0 {
                terminate(connectionLost(handle))
                return
            }
            var fds = [
                pollfd(fd: socket, events: Int16(POLLIN) | (flush == 1 ? Int16(POLLOUT) : 0), revents: 0),
                pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&fds, 2, pollTimeout())
            if ready < 0, errno != EINTR {
                terminate(PostgresError(code: .connectionFailure, message: "poll failed: errno \(errno)"))
                return
            }
            if fds[1].revents != 0 { drainWakePipe() }
            if fds[0].revents != 0 {
                let consumed = PQconsumeInput(conn) == 1
                deliverNotifications(conn)
                readResults(handle)
                if !consumed || handle.isBad {
                    terminate(connectionLost(handle))
                    return
                }
            }
            if let deadline = headDeadline, ContinuousClock.now >= deadline {
                terminate(PostgresError(
                    code: .clientTimeout,
                    message: "no answer from the server within \(configuration.clientTimeout!); connection dropped",
                    statement: confined.value.pipeline.headLabel))
                return
            }
        }
    }

    /// When the head statement's answer is overdue (nil: nothing in flight, or no client timeout).
    private var headDeadline: ContinuousClock.Instant? {
        guard let since = confined.value.pipeline.headSince, let timeout = configuration.clientTimeout else { return nil }
        return since + timeout
    }

    private func pollTimeout() -> Int32 {
        guard let deadline = headDeadline else { return -1 }
        return Int32(clamping: max(1, ContinuousClock.now.duration(to: deadline).milliseconds + 1))
    }

    private func drainWakePipe() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &buffer, buffer.count) > 0 {}
    }

    private func connectionLost(_ handle: ConnectionHandle) -> PostgresError {
        let message = handle.errorMessage
        return PostgresError(code: .connectionFailure, message: message.isEmpty ? "connection to the server lost" : message)
    }

    /// Fails everything in flight and queued, refuses later work, and tells the owner.
    ///
    /// Statements that were never sent fail with `connectionDoesNotExist` (08003), so a caller knows they can be
    /// retried on another connection without risk of running twice.
    private func terminate(_ error: PostgresError, notify: Bool = true) {
        var unsent = error
        if unsent.isConnectionFailure { unsent.code = .connectionDoesNotExist }
        let late = mailbox.withLock { box -> [Item] in
            if box.failure == nil { box.failure = unsent }
            defer { box.items.removeAll() }
            return box.items
        }
        for (completion, outcome) in confined.value.pipeline.failAll(error) { completion(outcome) }
        while let item = confined.value.pending.popFirst() { item.fail(unsent) }
        for item in late { item.fail(unsent) }
        interrupt.withLock { $0?.detachSocket() }
        confined.value.handle = nil
        if notify { onTermination(error) }
    }

    // MARK: - Sending

    /// Sends every pending statement; an exclusive item waits until nothing is in flight, then runs.
    private func sendPending(_ handle: ConnectionHandle) -> PostgresError? {
        while let item = confined.value.pending.first {
            switch item {
            case .statement(let sql, let completion):
                let plan = confined.value.pipeline.plan(sql)
                if let error = send(sql, plan, on: handle.raw) {
                    confined.value.pipeline.unsent(sql, plan)
                    return error
                }
                confined.value.pipeline.sent(sql, plan, completion: completion, now: .now)
            case .exclusive(let run, _):
                guard confined.value.pipeline.isIdle else { return nil }
                // Nothing is in flight, so every result (and the output buffer) has been consumed.
                guard PQexitPipelineMode(handle.raw) == 1 else { return connectionLost(handle) }
                PQsetnonblocking(handle.raw, 0)
                run(ExclusiveAccess(handle: handle))
                // A script's own commits are not pipelined statements: no warning of theirs may reach one.
                handle.replicationWaitCancelled = false
                if handle.isBad { confined.value.pending.removeFirst(); return connectionLost(handle) }
                guard PQsetnonblocking(handle.raw, 1) == 0, PQenterPipelineMode(handle.raw) == 1 else {
                    confined.value.pending.removeFirst()
                    return connectionLost(handle)
                }
            }
            confined.value.pending.removeFirst()
        }
        return nil
    }

    /// Queues one statement as `plan` says, and its sync point; nil when libpq took it.
    private func send(_ sql: SQL, _ plan: PipelineProtocol.SendPlan, on conn: OpaquePointer) -> PostgresError? {
        configuration.onStatement?(sql)
        let types = sql.binds.map { Oid($0.type.rawValue) }
        return withParameters(sql.binds) { values, lengths, formats -> PostgresError? in
            let count = Int32(sql.binds.count)
            let sent: Int32
            switch plan {
            case .prepareAndRun(let name):
                guard PQsendPrepare(conn, name, sql.text, count, types) == 1 else { return sendFailure(conn) }
                sent = PQsendQueryPrepared(conn, name, count, values, lengths, formats, 0)
            case .run(let name):
                sent = PQsendQueryPrepared(conn, name, count, values, lengths, formats, 0)
            case .unprepared:
                sent = PQsendQueryParams(conn, sql.text, count, types, values, lengths, formats, 0)
            }
            guard sent == 1, PQpipelineSync(conn) == 1 else { return sendFailure(conn) }
            return nil
        }
    }

    private func sendFailure(_ conn: OpaquePointer) -> PostgresError {
        PostgresError(code: .connectionFailure, message: String(cString: PQerrorMessage(conn)))
    }

    // MARK: - Receiving

    /// Hands every complete result to the pipeline, in order, and runs the completions it finishes.
    private func readResults(_ handle: ConnectionHandle) {
        let conn = handle.raw
        var nullsInARow = 0
        while !confined.value.pipeline.isIdle, PQisBusy(conn) == 0 {
            guard let result = PQgetResult(conn) else {
                // The end of one statement's results; two in a row means nothing more has arrived.
                nullsInARow += 1
                if nullsInARow >= 2 { break }
                continue
            }
            nullsInARow = 0
            if handle.replicationWaitCancelled {
                handle.replicationWaitCancelled = false
                confined.value.pipeline.headCommitNotReplicated()
            }
            let event: PipelineProtocol.Event
            switch PQresultStatus(result) {
            case PGRES_PIPELINE_SYNC:
                PQclear(result)
                event = .sync
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                event = .result(PostgresResult(taking: result))
            case PGRES_PIPELINE_ABORTED:
                PQclear(result)
                event = .aborted
            default:
                event = .error(handle.error(from: result, statement: confined.value.pipeline.headLabel))
                PQclear(result)
            }
            if let (completion, outcome) = confined.value.pipeline.receive(event, now: .now) { completion(outcome) }
        }
    }

    private func deliverNotifications(_ conn: OpaquePointer) {
        while let notify = PQnotifies(conn) {
            let notification = PostgresNotification(
                channel: String(cString: notify.pointee.relname), payload: String(cString: notify.pointee.extra),
                processID: notify.pointee.be_pid)
            PQfreemem(notify)
            onNotification?(notification)
        }
    }
}
