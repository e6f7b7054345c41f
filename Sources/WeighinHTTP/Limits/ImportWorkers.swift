import Foundation

/// Runs the CPU-heavy part of an import - reading up to 10 MiB of CSV or JSON and encoding up to 100,000 rows for
/// COPY, seconds of work - on threads of its own, never on the event loops or on Swift's cooperative threads.
///
/// The cooperative pool has one thread per core: on a 2-core machine two imports parsing there held both threads
/// for seconds, and every other user's request waited for them (a listing took 11 s in `checks/faults/imports.py`).
/// Here at most `threads` imports are read at once, the others wait their turn in the queue (which the import gate
/// keeps as short as `--max-imports`), and the kernel shares the cores between these threads and the ones that
/// serve requests.
final class ImportWorkers: Sendable {
    /// The threads for an instance: one per import it admits at once, leaving at least one core to serve requests
    /// (one thread on a 2-core machine), and never none.
    static func threadCount(importLimit: Int, cores: Int) -> Int {
        max(1, min(importLimit, cores - 1))
    }

    /// The most imports read at once.
    let threads: Int
    private let queue: OperationQueue

    init(threads: Int) {
        self.threads = max(1, threads)
        queue = OperationQueue()
        queue.name = "weighin-import"
        queue.maxConcurrentOperationCount = self.threads
        queue.qualityOfService = .utility
    }

    /// Runs `work` on one of the threads, waiting for one to be free, and returns what it returns or throws.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            queue.addOperation {
                continuation.resume(with: Result { try work() })
            }
        }
    }
}
