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

// One file over 300 lines on purpose: the driver's steps (submit, send, read, exclusive work, terminate) share the
// locked state and are read best together.

/// Drives one libpq connection in non-blocking pipeline mode without a thread of its own: the lock, the libpq
/// calls and the socket's place in `ConnectionEventLoop`; what was sent and what each result completes is
/// `PipelineProtocol`'s business.
///
/// A statement is sent by the thread that submits it (`PQsendQueryPrepared`, `PQpipelineSync` and the write to
/// the socket, which never blocks), and its results are read by the event loop's thread when the socket turns
/// readable: no thread switch and no wake-up before a statement leaves, one `epoll` wake-up when its answer
/// arrives. Many statements from concurrent callers are in flight at once on one connection, which is why a small
/// pool serves many clients. The handle and the pipeline state are touched only under the connection's lock;
/// completions run after it is released. Work that needs the connection to itself (COPY, scripts) runs in
/// blocking mode on a thread of its own, its socket out of the event loop meanwhile.
final class ConnectionWorker: Sendable {
    typealias Completion = PipelineProtocol.Completion

    /// Work for the connection: a pipelined statement, or a closure that needs the connection to itself outside
    /// pipeline mode (COPY, multi-statement scripts).
    enum Item: Sendable {
        case statement(SQL, Completion)
        case exclusive(run: @Sendable (ExclusiveAccess) -> Void, fail: @Sendable (PostgresError) -> Void)

        func fail(_ error: PostgresError) {
            switch self {
            case .statement(_, let completion): completion(.failure(error))
            case .exclusive(_, let fail): fail(error)
            }
        }
    }

    /// What only the holder of the lock touches.
    private struct State {
        var handle: ConnectionHandle?
        var pipeline: PipelineProtocol
        /// Work not sent yet: behind an exclusive item that waits for the pipeline to drain, or while one runs.
        var pending = Deque<Item>()
        /// Whether an exclusive item has the connection (on its own thread, the socket out of the event loop).
        var exclusive = false
        var closing = false
        /// Whether the event loop also waits for room to write (libpq's output did not fit the socket).
        var watchingWrites = false
        /// Set once the connection is dead or closed; later submissions fail with it at once.
        var failure: PostgresError?
    }

    /// What a step decided, done once the lock is released: completions and callbacks never run under it.
    private struct Effects {
        var completions: [(Completion, Result<PostgresResult, PostgresError>)] = []
        var failures: [(Item, PostgresError)] = []
        var notifications: [PostgresNotification] = []
        var exclusive: (ConnectionHandle, @Sendable (ExclusiveAccess) -> Void)?
        var terminated: PostgresError?
        var exited = false
    }

    let configuration: PostgresConfiguration
    private let state: Mutex<State>
    private let exited = OneTimeSignal()
    /// Whether `State.failure` is set, readable without the lock: the pool asks it of every candidate connection
    /// under its own lock, where waiting for this connection's lock would hold up every caller of the pool.
    private let failed = Atomic<Bool>(false)
    /// How another thread cancels the statement running or cuts the connection.
    private let interrupt: ConnectionInterrupt
    private let socket: Int32
    private let loop: ConnectionEventLoop
    /// The connection's place in the event loop, set once right after it is registered.
    private let registration = Mutex<UInt64?>(nil)
    private let onNotification: (@Sendable (PostgresNotification) -> Void)?
    private let onTermination: @Sendable (PostgresError) -> Void

    private init(
        configuration: PostgresConfiguration, handle: ConnectionHandle, loop: ConnectionEventLoop,
        onNotification: (@Sendable (PostgresNotification) -> Void)?,
        onTermination: @escaping @Sendable (PostgresError) -> Void
    ) {
        self.configuration = configuration
        self.loop = loop
        self.onNotification = onNotification
        self.onTermination = onTermination
        socket = PQsocket(handle.raw)
        interrupt = ConnectionInterrupt(handle)
        state = Mutex(State(
            handle: handle, pipeline: PipelineProtocol(preparedStatements: configuration.preparedStatements)))
    }

    /// Connects (on a thread of its own: connecting blocks) and returns once the connection is ready and its
    /// socket is in the event loop, or throws libpq's reason.
    static func start(
        configuration: PostgresConfiguration,
        onNotification: (@Sendable (PostgresNotification) -> Void)? = nil,
        onTermination: @escaping @Sendable (PostgresError) -> Void = { _ in }
    ) async throws -> ConnectionWorker {
        let handle = try await onThreadOfItsOwn(name: "postgres-connect", stackSize: 512 * 1024) {
            ConnectionHandle.connect(configuration.connectParameters)
        }.get()
        let loop = ConnectionEventLoop.shared
        let worker = ConnectionWorker(
            configuration: configuration, handle: handle, loop: loop, onNotification: onNotification,
            onTermination: onTermination)
        guard let id = loop.add(worker, socket: worker.socket) else {
            let error = PostgresError(code: .unableToConnect, message: "cannot watch the socket: errno \(errno)")
            worker.finish { s, effects in worker.terminate(&s, error, &effects, notify: false) }
            throw error
        }
        worker.registration.withLock { $0 = id }
        return worker
    }

    /// Sends the statement at once (or queues work behind an exclusive item); fails it at once when the
    /// connection is already dead or closed.
    func submit(_ item: Item) {
        finish { s, effects in
            if let failure = s.failure {
                effects.failures.append((item, failure))
                return
            }
            s.pending.append(item)
            advance(&s, &effects)
        }
    }

    /// Finishes the work already posted, then closes the connection.
    func shutdown() {
        finish { s, effects in
            s.closing = true
            advance(&s, &effects)
        }
    }

    /// Returns once the connection is closed and libpq has freed it, with no thread of its own left in libpq.
    ///
    /// A process must not exit while a connection is still inside libpq: OpenSSL's clean-up at exit frees what a
    /// SCRAM handshake or a TLS connection in progress is using.
    func waitUntilExited() async {
        await exited.wait()
    }

    /// Whether the connection has died or been closed.
    var isTerminated: Bool {
        failed.load(ordering: .acquiring)
    }

    /// For a process that stops after its drain timeout: asks the server to cancel the statement it runs for this
    /// connection, again every `abortInterval` while the connection stays open (the statements pipelined behind a
    /// cancelled one run next), and cuts the connection if it is still open `grace` later (a server that does not
    /// answer). The work in flight fails, and a closing connection ends. Returns at once: `PQcancel` blocks, so
    /// this runs on a thread of its own.
    func abort(grace: Duration) {
        let interrupt = interrupt
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

    // MARK: - Called by the event loop

    /// The socket is readable (or writable, or closed): sends what libpq still holds, reads every complete result
    /// and runs the completions they finish.
    func socketReady() {
        finish { s, effects in
            guard let handle = s.handle, !s.exclusive else { return }
            let conn = handle.raw
            let consumed = PQconsumeInput(conn) == 1
            deliverNotifications(conn, &effects)
            readResults(&s, handle, &effects)
            if !consumed || handle.isBad {
                terminate(&s, connectionLost(handle), &effects)
                return
            }
            advance(&s, &effects)
        }
    }

    /// Drops the connection when the head statement's answer is overdue (a hung server or network).
    func checkDeadline(now: ContinuousClock.Instant) {
        guard let timeout = configuration.clientTimeout else { return }
        finish { s, effects in
            guard s.handle != nil, !s.exclusive, let since = s.pipeline.headSince, now >= since + timeout else { return }
            terminate(&s, PostgresError(
                code: .clientTimeout, message: "no answer from the server within \(timeout); connection dropped",
                statement: s.pipeline.headLabel), &effects)
        }
    }

    // MARK: - Steps

    /// Runs `step` under the lock, then its effects outside it.
    private func finish(_ step: (inout State, inout Effects) -> Void) {
        let effects = state.withLock { s -> Effects in
            var effects = Effects()
            step(&s, &effects)
            return effects
        }
        for (completion, outcome) in effects.completions { completion(outcome) }
        for (item, error) in effects.failures { item.fail(error) }
        for notification in effects.notifications { onNotification?(notification) }
        if let (handle, run) = effects.exclusive { startExclusive(handle, run) }
        if let error = effects.terminated { onTermination(error) }
        // The handle was released under the lock: libpq has closed the connection by now.
        if effects.exited { exited.fire() }
    }

    /// Sends the pending statements, hands the connection to an exclusive item once nothing is in flight, flushes,
    /// and closes a closing connection that has nothing left to do.
    private func advance(_ s: inout State, _ effects: inout Effects) {
        guard let handle = s.handle, !s.exclusive else { return }
        while let item = s.pending.first {
            switch item {
            case .statement(let sql, let completion):
                let plan = s.pipeline.plan(sql)
                if let error = send(sql, plan, on: handle.raw) {
                    s.pipeline.unsent(sql, plan)
                    terminate(&s, error, &effects)
                    return
                }
                s.pipeline.sent(sql, plan, completion: completion, now: .now)
                s.pending.removeFirst()
            case .exclusive(let run, _):
                guard s.pipeline.isIdle else { return flush(&s, handle, &effects) }
                // Nothing is in flight, so every result (and the output buffer) has been consumed.
                guard PQexitPipelineMode(handle.raw) == 1 else { return terminate(&s, connectionLost(handle), &effects) }
                s.pending.removeFirst()
                s.exclusive = true
                loop.pause(socket)
                effects.exclusive = (handle, run)
                return
            }
        }
        flush(&s, handle, &effects)
        if s.closing, s.pending.isEmpty, s.pipeline.isIdle {
            terminate(&s, PostgresError(code: .connectionClosed, message: "the connection was closed"), &effects)
        }
    }

    /// Writes what libpq holds; when the socket takes only part of it, the event loop waits for room to write.
    private func flush(_ s: inout State, _ handle: ConnectionHandle, _ effects: inout Effects) {
        let flushed = PQflush(handle.raw)
        if flushed < 0 { return terminate(&s, connectionLost(handle), &effects) }
        let blocked = flushed == 1
        guard blocked != s.watchingWrites, let id = registration.withLock({ $0 }) else { return }
        s.watchingWrites = blocked
        loop.watch(id, socket: socket, writable: blocked)
    }

    /// Runs an exclusive item in blocking mode on a thread of its own, then puts the connection back in pipeline
    /// mode and in the event loop, and sends what queued up meanwhile.
    private func startExclusive(_ handle: ConnectionHandle, _ run: @escaping @Sendable (ExclusiveAccess) -> Void) {
        let thread = Thread { [self] in
            PQsetnonblocking(handle.raw, 0)
            run(ExclusiveAccess(handle: handle))
            // A script's own commits are not pipelined statements: no warning of theirs may reach one.
            handle.replicationWaitCancelled = false
            let restored = !handle.isBad && PQsetnonblocking(handle.raw, 1) == 0
                && PQenterPipelineMode(handle.raw) == 1
            finish { s, effects in
                s.exclusive = false
                s.watchingWrites = false
                guard restored, let id = registration.withLock({ $0 }), loop.resume(id, socket: socket) else {
                    return terminate(&s, connectionLost(handle), &effects)
                }
                advance(&s, &effects)
            }
        }
        thread.name = "postgres-exclusive"
        thread.stackSize = 512 * 1024
        thread.start()
    }

    private func connectionLost(_ handle: ConnectionHandle) -> PostgresError {
        let message = handle.errorMessage
        return PostgresError(code: .connectionFailure, message: message.isEmpty ? "connection to the server lost" : message)
    }

    /// Fails everything in flight and queued, refuses later work, takes the socket out of the event loop, closes
    /// the connection, and tells the owner.
    ///
    /// Statements that were never sent fail with `connectionDoesNotExist` (08003), so a caller knows they can be
    /// retried on another connection without risk of running twice.
    private func terminate(_ s: inout State, _ error: PostgresError, _ effects: inout Effects, notify: Bool = true) {
        var unsent = error
        if unsent.isConnectionFailure { unsent.code = .connectionDoesNotExist }
        if s.failure == nil {
            s.failure = unsent
            failed.store(true, ordering: .releasing)
        }
        effects.completions += s.pipeline.failAll(error)
        while let item = s.pending.popFirst() { effects.failures.append((item, unsent)) }
        guard let handle = s.handle else { return }
        interrupt.detachSocket()
        // libpq closes the socket itself when it finds the connection broken, and the kernel then drops it from
        // the epoll set; its number may already belong to a new connection, whose watch must not be removed.
        if !s.exclusive, PQsocket(handle.raw) >= 0 { loop.pause(socket) }
        if let id = registration.withLock({ $0 }) { loop.remove(id) }
        s.handle = nil
        effects.exited = true
        if notify { effects.terminated = error }
    }

    // MARK: - Sending

    /// Queues one statement as `plan` says, and its sync point (which writes to the socket); nil when libpq took it.
    private func send(_ sql: SQL, _ plan: PipelineProtocol.SendPlan, on conn: OpaquePointer) -> PostgresError? {
        configuration.onStatement?(sql)
        let types = sql.binds.map { Oid($0.type.rawValue) }
        return withParameters(sql.binds) { values, lengths, formats -> PostgresError? in
            let count = Int32(sql.binds.count)
            let sent: Int32
            switch plan {
            case .prepareAndRun(let name):
                guard PQsendPrepare(conn, name, sql.text, count, types) == 1 else { return sendFailure(conn) }
                sent = PQsendQueryPrepared(conn, name, count, values, lengths, formats, Self.binaryResults)
            case .run(let name):
                sent = PQsendQueryPrepared(conn, name, count, values, lengths, formats, Self.binaryResults)
            case .unprepared:
                sent = PQsendQueryParams(conn, sql.text, count, types, values, lengths, formats, Self.binaryResults)
            }
            guard sent == 1, PQpipelineSync(conn) == 1 else { return sendFailure(conn) }
            return nil
        }
    }

    /// libpq's `resultFormat` for every statement: binary (`PostgresDecodable` reads that format only).
    private static let binaryResults: Int32 = 1

    private func sendFailure(_ conn: OpaquePointer) -> PostgresError {
        PostgresError(code: .connectionFailure, message: String(cString: PQerrorMessage(conn)))
    }

    // MARK: - Receiving

    /// Hands every complete result to the pipeline, in order, and collects the completions it finishes.
    private func readResults(_ s: inout State, _ handle: ConnectionHandle, _ effects: inout Effects) {
        let conn = handle.raw
        var nullsInARow = 0
        while !s.pipeline.isIdle, PQisBusy(conn) == 0 {
            guard let result = PQgetResult(conn) else {
                // The end of one statement's results; two in a row means nothing more has arrived.
                nullsInARow += 1
                if nullsInARow >= 2 { break }
                continue
            }
            nullsInARow = 0
            if handle.replicationWaitCancelled {
                handle.replicationWaitCancelled = false
                s.pipeline.headCommitNotReplicated()
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
                event = .error(handle.error(from: result, statement: s.pipeline.headLabel))
                PQclear(result)
            }
            if let finished = s.pipeline.receive(event, now: .now) { effects.completions.append(finished) }
        }
    }

    private func deliverNotifications(_ conn: OpaquePointer, _ effects: inout Effects) {
        while let notify = PQnotifies(conn) {
            effects.notifications.append(PostgresNotification(
                channel: String(cString: notify.pointee.relname), payload: String(cString: notify.pointee.extra),
                processID: notify.pointee.be_pid))
            PQfreemem(notify)
        }
    }
}
