import Atomics
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Swift concurrency's global executor made of NIO's event loops, each job run as nonisolated code.
///
/// Why not NIO's own `unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()`: it runs each job
/// isolated to its event loop, so every call into a nonisolated async function switches executors and enqueues the
/// task on the loop again, about 100 times per request of the benchmark's mix (`bench/run --phases instructions`).
/// Run as the generic executor, which is what Swift's own global executor does, those calls go on inline. A job
/// enqueued on a loop stays on it (`any()` keeps to the current loop); a request's task resumed from another thread
/// (the database driver's) finds its loop through `RequestPipelineMiddleware`.
enum GlobalExecutorOnEventLoops {
    /// The runtime's `swift_task_enqueueGlobal_hook`: called with each job for the global executor.
    private typealias EnqueueGlobalHook =
        @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void

    /// Installs the hook; false when the runtime has none to set or another is set already.
    ///
    /// Call it once, on the main thread, before any task but the main one runs.
    static func install() -> Bool {
        guard let slot = dlsym(dlopen(nil, RTLD_NOW), "swift_task_enqueueGlobal_hook") else { return false }
        let hookSlot = UnsafeAtomic<UnsafeRawPointer?>(
            at: slot.assumingMemoryBound(to: UnsafeRawPointer.AtomicOptionalRepresentation.self))
        return withUnsafeTemporaryAllocation(of: EnqueueGlobalHook.self, capacity: 1) { hook in
            hook.baseAddress!.initialize(to: { job, _ in
                MultiThreadedEventLoopGroup.singleton.any().execute {
                    job.runSynchronously(on: genericExecutor)
                }
            })
            let function = UnsafeRawPointer(hook.baseAddress!).load(as: UnsafeRawPointer.self)
            return hookSlot.compareExchange(expected: nil, desired: function, ordering: .relaxed).exchanged
        }
    }
}

/// The generic executor, on which nonisolated code runs: the runtime's `SerialExecutorRef::generic()`, whose two
/// words are zero. The standard library has no public way to name it.
private let genericExecutor = unsafeBitCast((UInt(0), UInt(0)), to: UnownedSerialExecutor.self)
