import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A few threads of their own for CPU-heavy work (password hashing), scheduled below the threads that serve
/// requests (Linux `SCHED_IDLE`, else the lowest nice value).
///
/// Under a flood of log-ins the hashing threads then take only the CPU that request handling leaves over, so
/// listing and other requests keep their latency; the work itself never runs on the event loops or on Swift's
/// cooperative threads.
final class BackgroundThreads: Sendable {
    /// The queue the threads share; it outlives the pool object until every thread has left.
    private final class Shared: Sendable {
        let jobs = Mutex<(queue: [@Sendable () -> Void], stopped: Bool)>(([], false))
        let signal = DispatchSemaphore(value: 0)
    }

    private let shared = Shared()
    private let count: Int

    /// - Parameter name: a thread name prefix (Linux keeps 15 characters of a name).
    init(count: Int, name: String) {
        self.count = max(1, count)
        for index in 0..<self.count {
            let shared = shared
            let threadName = "\(name)-\(index)"
            let thread = Thread {
                Thread.current.name = threadName  // named from inside: shows in top -H and /proc/<pid>/task/*/comm
                Self.lowerPriority()
                while true {
                    shared.signal.wait()
                    let job: (@Sendable () -> Void)? = shared.jobs.withLock { jobs in
                        jobs.stopped && jobs.queue.isEmpty ? nil : jobs.queue.removeFirst()
                    }
                    guard let job else { return }
                    job()
                }
            }
            thread.start()
        }
    }

    /// Puts the calling thread below every normal thread: `SCHED_IDLE` where allowed, else nice 19.
    private static func lowerPriority() {
        var parameters = sched_param()
        parameters.sched_priority = 0
        if sched_setscheduler(0, 5 /* SCHED_IDLE */, &parameters) != 0 {
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
        }
    }

    deinit {
        shared.jobs.withLock { $0.stopped = true }
        for _ in 0..<count { shared.signal.signal() }
    }

    /// Runs `work` on one of the threads and returns its result.
    func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            shared.jobs.withLock { $0.queue.append { continuation.resume(returning: work()) } }
            shared.signal.signal()
        }
    }
}
