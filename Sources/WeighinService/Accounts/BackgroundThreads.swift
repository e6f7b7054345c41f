import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A few threads of their own for CPU-heavy work (password hashing), slightly below normal priority (nice +2) and
/// marked CPU-bound (Linux `SCHED_BATCH`).
///
/// Their number bounds the CPU the work can take (a flood of log-ins cannot take every core from request handling),
/// and their near-normal priority guarantees them a fair share however busy the host is: under `SCHED_IDLE`, which
/// they had before, they ran only on CPU that nothing else wanted, and a sign-up beside a build took 70 s. The two
/// nice steps and `SCHED_BATCH` (their wake-ups do not preempt other threads) tilt the share toward the threads that
/// serve requests, so listing keeps its latency during a flood (checks/faults/login_flood.py) while sign-up and
/// log-in stay within a few times their quiet latency on a saturated host (checks/faults/login_starvation.py). The
/// work itself never runs on the event loops or on Swift's cooperative threads.
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
                Self.markCPUBound()
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

    /// How far below the process's own priority the threads run (nice steps; each is about 20% less CPU share
    /// against a thread at the process's priority).
    static let niceSteps: Int32 = 2

    /// Marks the calling thread CPU-bound (`SCHED_BATCH`) and `niceSteps` below the process's priority (Linux
    /// only): a fair share, tilted a little toward request handling.
    private static func markCPUBound() {
        #if os(Linux)
        var parameters = sched_param()
        parameters.sched_priority = 0
        _ = sched_setscheduler(0, 3 /* SCHED_BATCH */, &parameters)
        // On Linux a thread has a nice value of its own: `who` 0 is the calling thread.
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        _ = setpriority(which, 0, getpriority(which, 0) + niceSteps)
        #endif
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
