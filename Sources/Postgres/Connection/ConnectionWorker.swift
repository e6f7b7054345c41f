import CLibPQ
import DequeModule
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
import Primitives
#endif

/// Runs one libpq connection on a thread of its own, in pipeline mode.
///
/// libpq blocks, so it never runs on Swift's cooperative pool: callers post statements to a mailbox and wake the
/// thread through a pipe; the thread sends every posted statement at once (each prepared once and followed by its
/// own sync point, so one failure never spoils its neighbours), waits on the socket with `poll`, and completes
/// statements in order as their results arrive. Many statements from concurrent callers are in flight at once on
/// one connection, which is why a small pool serves many clients.
final class ConnectionWorker: @unchecked Sendable {
    typealias Completion = @Sendable (Result<PostgresResult, PostgresError>) -> Void

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

    private struct Inflight {
        let sql: SQL
        let completion: Completion
        var awaitingPrepare: Bool
        var result: PostgresResult?
        var error: PostgresError?
    }

    private struct PreparedStatement {
        let name: String
        let types: [Oid]
        /// Whether the server has confirmed the Parse; until then followers go unprepared, so a Parse that fails
        /// (a statement timeout while waiting on a lock, say) takes no statement down with it.
        var confirmed = false
    }

    let configuration: PostgresConfiguration
    private let mailbox = Mutex(Mailbox())
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let onNotification: (@Sendable (PostgresNotification) -> Void)?
    private let onTermination: @Sendable (PostgresError) -> Void

    // Confined to the worker's thread.
    private var handle: ConnectionHandle?
    private var pending = Deque<Item>()
    private var inflight = Deque<Inflight>()
    private var statements: [String: PreparedStatement] = [:]
    private var statementCount = 0
    /// When the statement at the head of the pipeline became the head: statements run one after another, so the
    /// client's patience for an answer (`clientTimeout`) starts there, not when a statement was queued.
    private var headSince = ContinuousClock.now

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

    /// Whether the connection has died or been closed.
    var isTerminated: Bool {
        mailbox.withLock { $0.failure != nil }
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    // MARK: - The thread

    private func threadMain(ready: CheckedContinuation<Void, any Error>) {
        let parameters = configuration.connectParameters
        let keywords = parameters.map { strdup($0.0) }
        let values = parameters.map { strdup($0.1) }
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        let raw = (keywords.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { k in
            (values.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { v in
                PQconnectdbParams(k.baseAddress, v.baseAddress, 1)
            }
        }
        guard let raw else {
            let error = PostgresError(code: .unableToConnect, message: "libpq could not allocate a connection")
            terminate(error, notify: false)
            ready.resume(throwing: error)
            return
        }
        let handle = ConnectionHandle(taking: raw)
        guard PQstatus(raw) == CONNECTION_OK else {
            let error = PostgresError(code: .unableToConnect, message: handle.errorMessage)
            terminate(error, notify: false)
            ready.resume(throwing: error)
            return
        }
        PQsetNoticeProcessor(raw, { _, _ in }, nil)
        guard PQsetnonblocking(raw, 1) == 0, PQenterPipelineMode(raw) == 1 else {
            let error = PostgresError(code: .unableToConnect, message: "cannot enter pipeline mode: \(handle.errorMessage)")
            terminate(error, notify: false)
            ready.resume(throwing: error)
            return
        }
        self.handle = handle
        ready.resume()
        runLoop(handle)
        self.handle = nil
    }

    private func runLoop(_ handle: ConnectionHandle) {
        let conn = handle.raw
        let socket = PQsocket(conn)
        while true {
            let closing = mailbox.withLock { box -> Bool in
                pending.append(contentsOf: box.items)
                box.items.removeAll(keepingCapacity: true)
                return box.closing
            }
            if let error = sendPending(handle) {
                terminate(error)
                return
            }
            if closing, pending.isEmpty, inflight.isEmpty {
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
                    statement: inflight.first?.sql.label))
                return
            }
        }
    }

    /// When the head statement's answer is overdue (nil: nothing in flight, or no client timeout).
    private var headDeadline: ContinuousClock.Instant? {
        guard !inflight.isEmpty, let timeout = configuration.clientTimeout else { return nil }
        return headSince + timeout
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
        while let op = inflight.popFirst() {
            op.completion(.failure(op.error ?? error))
        }
        while let item = pending.popFirst() { item.fail(unsent) }
        for item in late { item.fail(unsent) }
        handle = nil
        if notify { onTermination(error) }
    }

    // MARK: - Sending

    /// Sends every pending statement; an exclusive item waits until nothing is in flight, then runs.
    private func sendPending(_ handle: ConnectionHandle) -> PostgresError? {
        while let item = pending.first {
            switch item {
            case .statement(let sql, let completion):
                let prepared: Bool
                switch send(sql, on: handle.raw) {
                case .success(let value): prepared = value
                case .failure(let error): return error
                }
                if inflight.isEmpty { headSince = .now }
                inflight.append(
                    Inflight(sql: sql, completion: completion, awaitingPrepare: prepared, result: nil, error: nil))
            case .exclusive(let run, _):
                guard inflight.isEmpty else { return nil }
                // Nothing is in flight, so every result (and the output buffer) has been consumed.
                guard PQexitPipelineMode(handle.raw) == 1 else { return connectionLost(handle) }
                PQsetnonblocking(handle.raw, 0)
                run(ExclusiveAccess(handle: handle))
                if handle.isBad { pending.removeFirst(); return connectionLost(handle) }
                guard PQsetnonblocking(handle.raw, 1) == 0, PQenterPipelineMode(handle.raw) == 1 else {
                    pending.removeFirst()
                    return connectionLost(handle)
                }
            }
            pending.removeFirst()
        }
        return nil
    }

    /// Queues one statement and its sync point; the success value says whether a Parse was queued too (its
    /// result arrives before the statement's own).
    private func send(_ sql: SQL, on conn: OpaquePointer) -> Result<Bool, PostgresError> {
        configuration.onStatement?(sql)
        let types = sql.binds.map { Oid($0.type.rawValue) }
        return withParameters(sql.binds) { values, lengths, formats -> Result<Bool, PostgresError> in
            let count = Int32(sql.binds.count)
            var prepared = false
            var sent: Int32
            let known = statements[sql.text]
            if configuration.preparedStatements == .named, known.map({ $0.types == types && $0.confirmed }) ?? true {
                let name: String
                if let known {
                    name = known.name
                } else {
                    statementCount += 1
                    name = "wi\(statementCount)"
                    guard PQsendPrepare(conn, name, sql.text, count, types) == 1 else { return .failure(sendFailure(conn)) }
                    statements[sql.text] = PreparedStatement(name: name, types: types)
                    prepared = true
                }
                sent = PQsendQueryPrepared(conn, name, count, values, lengths, formats, 0)
            } else {
                // Unnamed mode, a Parse still awaiting its answer, or the same text with other parameter types
                // (rare): sent unprepared.
                sent = PQsendQueryParams(conn, sql.text, count, types, values, lengths, formats, 0)
            }
            guard sent == 1, PQpipelineSync(conn) == 1 else { return .failure(sendFailure(conn)) }
            return .success(prepared)
        }
    }

    private func sendFailure(_ conn: OpaquePointer) -> PostgresError {
        PostgresError(code: .connectionFailure, message: String(cString: PQerrorMessage(conn)))
    }

    // MARK: - Receiving

    private func readResults(_ handle: ConnectionHandle) {
        let conn = handle.raw
        var nullsInARow = 0
        while !inflight.isEmpty, PQisBusy(conn) == 0 {
            guard let result = PQgetResult(conn) else {
                // The end of one statement's results; two in a row means nothing more has arrived.
                nullsInARow += 1
                if nullsInARow >= 2 { break }
                continue
            }
            nullsInARow = 0
            let status = PQresultStatus(result)
            if status == PGRES_PIPELINE_SYNC {
                PQclear(result)
                let op = inflight.removeFirst()
                headSince = .now
                if let error = op.error {
                    op.completion(.failure(error))
                } else if let value = op.result {
                    op.completion(.success(value))
                } else {
                    op.completion(.failure(PostgresError(
                        code: .connectionFailure, message: "the server sent no result", statement: op.sql.label)))
                }
                continue
            }
            if inflight[0].awaitingPrepare {
                inflight[0].awaitingPrepare = false
                if status == PGRES_FATAL_ERROR {
                    inflight[0].error = handle.error(from: result, statement: inflight[0].sql.label)
                    statements[inflight[0].sql.text] = nil
                } else {
                    statements[inflight[0].sql.text]?.confirmed = true
                }
                PQclear(result)
                continue
            }
            switch status {
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                inflight[0].result = PostgresResult(taking: result)
            case PGRES_PIPELINE_ABORTED:
                if inflight[0].error == nil {
                    inflight[0].error = PostgresError(
                        code: .inFailedTransaction, message: "statement skipped after an earlier failure",
                        statement: inflight[0].sql.label)
                }
                PQclear(result)
            default:
                if inflight[0].error == nil {
                    inflight[0].error = handle.error(from: result, statement: inflight[0].sql.label)
                }
                PQclear(result)
            }
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

/// Lays out bound values as the C arrays libpq wants (each value NUL-terminated in one allocation).
private func withParameters<R>(
    _ binds: [PostgresBind],
    _ body: (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> R
) -> R {
    if binds.isEmpty { return body(nil, nil, nil) }
    let total = binds.reduce(0) { $0 + ($1.bytes?.count ?? 0) + 1 }
    let storage = UnsafeMutablePointer<CChar>.allocate(capacity: total)
    defer { storage.deallocate() }
    var values: [UnsafePointer<CChar>?] = []
    var lengths: [Int32] = []
    var formats: [Int32] = []
    values.reserveCapacity(binds.count)
    lengths.reserveCapacity(binds.count)
    formats.reserveCapacity(binds.count)
    var offset = 0
    for bind in binds {
        formats.append(bind.isBinary ? 1 : 0)
        guard let bytes = bind.bytes else {
            values.append(nil)
            lengths.append(0)
            continue
        }
        let start = storage + offset
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                if let base = chars.baseAddress { start.update(from: base, count: chars.count) }
            }
        }
        start[bytes.count] = 0
        values.append(UnsafePointer(start))
        lengths.append(Int32(bytes.count))
        offset += bytes.count + 1
    }
    return body(values, lengths, formats)
}

/// A notification received through `LISTEN`.
public struct PostgresNotification: Sendable {
    /// The channel it was sent on.
    public let channel: String
    /// The payload text (possibly empty).
    public let payload: String
    /// The server process that sent it.
    public let processID: Int32
}
