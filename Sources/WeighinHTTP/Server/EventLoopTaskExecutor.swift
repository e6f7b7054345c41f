import NIOCore
import NIOPosix

/// A task executor that runs its jobs on one NIO event loop, each as nonisolated code.
///
/// Why: `main` makes NIO's loops run Swift concurrency's jobs, but NIO runs each job isolated to its loop, so every
/// call into a nonisolated async function (each middleware, each `withTaskCancellationHandler`) switches executors
/// and enqueues the task on the loop again: about 100 jobs per request of the benchmark's mix
/// (`bench/run --phases instructions`). A task that prefers this executor makes those calls inline, and when a
/// statement's answer resumes it from the database driver's thread, it goes back to its own loop.
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
