import Foundation
import Synchronization

/// Admits imports before their body is read: one per user at a time, and at most `capacity` on this instance.
///
/// An import holds its body (up to 10 MiB), its rows in COPY form and, while storing, a pool connection to itself;
/// without a bound, a few users (or one) uploading at once could exhaust the server's memory and its pool. Beyond
/// either limit the answer is 429 `rate_limited` with `Retry-After`, before anything is read.
final class ImportGate: Sendable {
    let capacity: Int
    private let state = Mutex<(running: Int, users: Set<UUID>)>((0, []))

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Runs `body` as `user`'s import, or throws 429 when the user has one running or the instance is full.
    func admit<T>(_ user: UUID, _ body: () async throws -> T) async throws -> T {
        let refusal: Problem? = state.withLock { state in
            if state.users.contains(user) {
                return Problem.rateLimited(
                    retryAfter: 1, detail: "An import of this account is still running; send the next when it ends.")
            }
            if state.running >= capacity {
                return Problem.rateLimited(retryAfter: 1, detail: "The server is busy with other imports; try again shortly.")
            }
            state.running += 1
            state.users.insert(user)
            return nil
        }
        if let refusal { throw refusal }
        defer {
            state.withLock { state in
                state.running -= 1
                state.users.remove(user)
            }
        }
        return try await body()
    }

    /// Imports running now.
    var running: Int {
        state.withLock { $0.running }
    }
}
