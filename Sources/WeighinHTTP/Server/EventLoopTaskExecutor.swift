import NIOCore
import NIOPosix

/// A task executor that runs its jobs on one NIO event loop, each as nonisolated code.
///
/// Why: a request's task waits for its statements, and the database driver's `epoll` thread resumes it. Resumed
/// there without a preference, it is enqueued on the global executor from a thread that is no event loop, so on
/// whichever loop comes next, and its answer then hops to its connection's loop (measured: 0.75-0.95 of the
/// requests, more context switches). A task that prefers this executor goes back to its own loop, and calls between
/// nonisolated async functions inside it go on inline, as on the generic executor, instead of enqueueing the task
/// again (about 100 jobs per request of the benchmark's mix under NIO's own hook: `bench/run --phases instructions`).
final class EventLoopTaskExecutor: TaskExecutor {
    /// The loop the jobs run on.
    let loop: any EventLoop

    init(loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// One ``EventLoopTaskExecutor`` for each loop of a group, found by the loop the caller runs on.
struct EventLoopTaskExecutors: Sendable {
    private let byLoop: [ObjectIdentifier: EventLoopTaskExecutor]

    /// Executors for every loop of `group` (the server's: NIO's singleton).
    init(group: MultiThreadedEventLoopGroup = .singleton) {
        var byLoop: [ObjectIdentifier: EventLoopTaskExecutor] = [:]
        for loop in group.makeIterator() {
            byLoop[ObjectIdentifier(loop)] = EventLoopTaskExecutor(loop: loop)
        }
        self.byLoop = byLoop
    }

    /// The executor of the loop this code runs on; nil off the group's loops (Swift's own thread pool, in tests).
    var current: EventLoopTaskExecutor? {
        MultiThreadedEventLoopGroup.currentEventLoop.flatMap { byLoop[ObjectIdentifier($0)] }
    }
}
