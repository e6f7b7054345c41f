import Synchronization

/// A continuation resumed exactly once, by whichever comes first: the answer, or the task's cancellation.
///
/// Waits on the database end at once when their task is cancelled (a server draining after SIGTERM cancels its
/// requests), instead of holding the task until the statement finishes; a late answer is then dropped.
final class CancellableContinuation<T: Sendable>: Sendable {
    private enum State {
        case waiting
        case installed(CheckedContinuation<T, any Error>)
        case finished
    }

    private let state = Mutex(State.waiting)

    /// Runs `start` with a continuation that `resume` or cancellation completes; `start` is not run at all when the
    /// task is already cancelled.
    static func run(_ start: (CancellableContinuation<T>) -> Void) async throws -> T {
        let box = CancellableContinuation<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let installed = box.state.withLock { state -> Bool in
                    guard case .waiting = state else { return false }
                    state = .installed(continuation)
                    return true
                }
                if installed {
                    start(box)
                } else {
                    continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            box.resume(with: .failure(CancellationError()))
        }
    }

    /// Completes the wait; only the first call counts, and it returns whether it reached a waiting task (false:
    /// the task was cancelled first, and whatever `result` holds is the caller's to give back).
    @discardableResult
    func resume(with result: Result<T, any Error>) -> Bool {
        let continuation = state.withLock { state -> CheckedContinuation<T, any Error>? in
            switch state {
            case .waiting:
                state = .finished
                return nil
            case .installed(let continuation):
                state = .finished
                return continuation
            case .finished:
                return nil
            }
        }
        continuation?.resume(with: result)
        return continuation != nil
    }
}
