import Foundation
import Logging
import Primitives
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Bounds how long a stopping server may take: from SIGTERM (or SIGINT), the drain timeout and then
/// `cancellationLimit` for what the drain timeout cancelled to end.
///
/// Past that the process logs that it is stuck and exits with status 1 - never waits for ever and never crashes
/// (the service group's own limit ends a process with a fatal error). After the drain timeout the pool cancels the
/// statements still running and cuts connections that do not end (`PoolCloser`), so this is a last resort.
/// `WeighinServer` disarms it once the services have stopped, before the private cluster is stopped.
final class ShutdownDeadline: Service, Sendable {
    /// Time for cancelled work to end after the drain timeout.
    static let cancellationLimit: Duration = .seconds(5)

    let drainTimeout: Duration
    let cancellationLimit: Duration
    private let logger: Logger
    private let armed = Atomic<Bool>(true)

    init(drainTimeout: Duration, cancellationLimit: Duration, logger: Logger) {
        self.drainTimeout = drainTimeout
        self.cancellationLimit = cancellationLimit
        self.logger = logger
    }

    /// Waits for the shutdown signal, then arms a timer on a thread of its own (it must fire even if every other
    /// thread is stuck) and returns.
    func run() async throws {
        try? await gracefulShutdown()
        let limit = drainTimeout + cancellationLimit
        let thread = Thread { [self] in
            Thread.sleep(forTimeInterval: limit.inSeconds)
            guard armed.load(ordering: .acquiring) else { return }
            logger.critical(
                "still stopping past the drain timeout and the cancellation limit: exiting",
                metadata: ["drain_timeout": "\(drainTimeout)", "cancellation_limit": "\(cancellationLimit)"])
            fflush(nil)  // every output stream, the log's included
            // _exit, not exit: clean-up at exit (OpenSSL's) must not run under threads that may still be in libpq.
            _exit(1)
        }
        thread.name = "shutdown-limit"
        thread.start()
    }

    /// The services have stopped: the timer does nothing when it fires.
    func disarm() {
        armed.store(false, ordering: .releasing)
    }
}
