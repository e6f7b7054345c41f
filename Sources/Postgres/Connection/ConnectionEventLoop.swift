import CEpoll
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One thread that waits, with `epoll`, on the sockets of every connection of the process and lets a connection
/// read its results when its socket is ready; it also drops connections whose answer is overdue.
///
/// Statements are sent by the thread that submits them (libpq is non-blocking), and a socket stays in the `epoll`
/// set for as long as its connection lives, so neither sending nor receiving needs a thread switch or a wake-up:
/// the kernel wakes this thread when an answer arrives, as it wakes NIO's event loops for HTTP.
final class ConnectionEventLoop: Sendable {
    /// The process's loop, started on first use.
    static let shared = ConnectionEventLoop()

    private struct Registry {
        var connections: [UInt64: ConnectionWorker] = [:]
        var nextID: UInt64 = 1
        /// The shortest client timeout among the connections, which sets how often deadlines are checked.
        var shortestTimeout: Duration?
    }

    private let epoll: Int32
    private let registry = Mutex(Registry())

    private init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epoll >= 0, "epoll_create1 failed: errno \(errno)")
        let thread = Thread { [self] in run() }
        thread.name = "postgres-event-loop"
        thread.stackSize = 512 * 1024
        thread.start()
    }

    /// Starts watching a connection's socket for input; returns the registration that `watch` and `remove` take.
    func add(_ worker: ConnectionWorker, socket: Int32) -> UInt64? {
        let id = registry.withLock { r -> UInt64 in
            defer { r.nextID += 1 }
            r.connections[r.nextID] = worker
            if let timeout = worker.configuration.clientTimeout {
                r.shortestTimeout = min(r.shortestTimeout ?? timeout, timeout)
            }
            return r.nextID
        }
        guard control(EPOLL_CTL_ADD, socket, id: id, writable: false) else {
            registry.withLock { _ = $0.connections.removeValue(forKey: id) }
            return nil
        }
        return id
    }

    /// Watches the socket for input, and for room to write when libpq's output buffer did not fit the socket.
    @discardableResult
    func watch(_ id: UInt64, socket: Int32, writable: Bool) -> Bool {
        control(EPOLL_CTL_MOD, socket, id: id, writable: writable)
    }

    /// Stops watching the socket; call it only while libpq holds the socket open (a closed one has left the set
    /// already, and its number may have been reused for another connection's socket).
    func pause(_ socket: Int32) {
        var event = epoll_event()
        _ = epoll_ctl(epoll, EPOLL_CTL_DEL, socket, &event)
    }

    /// Watches the socket again after `pause`.
    func resume(_ id: UInt64, socket: Int32) -> Bool {
        control(EPOLL_CTL_ADD, socket, id: id, writable: false)
    }

    /// Forgets a connection for good; its socket must be paused already.
    func remove(_ id: UInt64) {
        registry.withLock { r in
            r.connections[id] = nil
            r.shortestTimeout = r.connections.values.compactMap(\.configuration.clientTimeout).min()
        }
    }

    private func control(_ operation: Int32, _ socket: Int32, id: UInt64, writable: Bool) -> Bool {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | (writable ? EPOLLOUT.rawValue : 0)
        event.data.u64 = id
        return epoll_ctl(epoll, operation, socket, &event) == 0
    }

    // MARK: - The thread

    /// How often overdue answers are looked for: a twentieth of the shortest client timeout, within bounds.
    private static func checkInterval(_ shortest: Duration) -> Duration {
        min(.seconds(1), max(.milliseconds(10), shortest / 20))
    }

    private func run() {
        let capacity = 64
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        var nextCheck = ContinuousClock.now
        while true {
            let shortest = registry.withLock { $0.shortestTimeout }
            let timeout: Int32 = shortest.map { _ in
                Int32(clamping: max(0, ContinuousClock.now.duration(to: nextCheck).milliseconds + 1))
            } ?? -1
            let count = epoll_wait(epoll, events, Int32(capacity), timeout)
            if count < 0, errno != EINTR {
                preconditionFailure("epoll_wait failed: errno \(errno)")
            }
            for index in 0..<max(0, Int(count)) {
                let id = events[index].data.u64
                registry.withLock { $0.connections[id] }?.socketReady()
            }
            guard let shortest else { continue }
            let now = ContinuousClock.now
            if now >= nextCheck {
                nextCheck = now + Self.checkInterval(shortest)
                for worker in registry.withLock({ Array($0.connections.values) }) { worker.checkDeadline(now: now) }
            }
        }
    }
}
