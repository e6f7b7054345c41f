import Foundation

/// Runs blocking work (a connect, a child process, name resolution, deleting a folder) on a new thread of its own,
/// and waits for it without blocking.
///
/// Swift's cooperative pool has one thread per core: blocking work there stalls every other task of the process
/// until it ends, seconds for a stop or a deletion on a busy disk.
public func onThreadOfItsOwn<T: Sendable, E: Error>(
    name: String? = nil, stackSize: Int? = nil, _ body: @escaping @Sendable () throws(E) -> T
) async throws(E) -> T {
    let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, E>, Never>) in
        let thread = Thread {
            do throws(E) {
                continuation.resume(returning: .success(try body()))
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
        if let name { thread.name = name }
        if let stackSize { thread.stackSize = stackSize }
        thread.start()
    }
    return try result.get()
}
