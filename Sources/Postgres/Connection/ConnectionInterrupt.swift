import CLibPQ
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lets any thread stop the work of a connection (`ConnectionWorker`): cancel the statement the server runs for it
/// (`PQcancel`), or cut the connection (its socket shut down) when the server does not answer even that.
///
/// The worker makes one right after connecting and detaches the socket before libpq closes it, so a cut never
/// reaches a descriptor that was closed and reused. libpq's cancel object is independent of the connection: it
/// stays valid after `PQfinish` and is freed with this object.
final class ConnectionInterrupt: @unchecked Sendable {
    /// libpq's `PGcancel`; nil when libpq could not make one. Only `PQcancel` reads it, which is thread-safe.
    private let request: OpaquePointer?
    /// The connection's socket while the connection is open.
    private let socket: Mutex<Int32?>

    /// Call once the connection is connected, before anything else uses it.
    init(_ handle: ConnectionHandle) {
        request = PQgetCancel(handle.raw)
        let descriptor = PQsocket(handle.raw)
        socket = Mutex(descriptor >= 0 ? descriptor : nil)
    }

    deinit {
        if let request { PQfreeCancel(request) }
    }

    /// Asks the server to cancel the statement it runs for the connection (nothing happens when it runs none);
    /// false when the request could not be sent. Blocks while it connects to the server: call it on a thread of
    /// its own.
    func cancelStatement() -> Bool {
        guard let request else { return false }
        var reason = [CChar](repeating: 0, count: 256)
        return PQcancel(request, &reason, Int32(reason.count)) == 1
    }

    /// Shuts the connection's socket down, so that whatever libpq waits for on it fails at once and the connection
    /// ends; nothing when the connection has closed already.
    func cut() {
        socket.withLock { descriptor in
            if let descriptor { _ = shutdown(descriptor, Int32(SHUT_RDWR)) }
        }
    }

    /// Whether the connection is still open (its worker has not begun to close it).
    var isOpen: Bool {
        socket.withLock { $0 != nil }
    }

    /// Called by the worker before libpq closes the socket: later cuts do nothing.
    func detachSocket() {
        socket.withLock { $0 = nil }
    }
}
