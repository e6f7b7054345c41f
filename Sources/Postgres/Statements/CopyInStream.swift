import DequeModule
import Foundation

/// Rows for one `COPY ... FROM STDIN`, handed in chunks from the thread that encodes them to the connection's thread
/// that sends them, so that the database stores the first rows while the others are still being read.
///
/// Bounded: `send` waits while `capacity` chunks are queued, so memory stays at a few chunks whatever the size of
/// the COPY. Either side can stop it: the producer with `fail` (the COPY is ended with an error, and its
/// transaction rolls back), the consumer with `close` (a producer waiting in `send`, or calling it later, gets
/// false).
public final class CopyInStream: @unchecked Sendable {
    /// What the connection's thread takes next.
    enum Item {
        case chunk([UInt8])
        case end
        case failed(reason: String)
    }

    private enum Ending {
        case finished
        case failed(reason: String)
    }

    /// Guards every property below.
    private let condition = NSCondition()
    private let capacity: Int
    private var chunks = Deque<[UInt8]>()
    private var ending: Ending?
    private var closed = false
    private var failedWhileOpen = false
    private var rowsWaiter: CheckedContinuation<Bool, Never>?

    /// A stream that queues at most `capacity` chunks.
    public init(capacity: Int = 4) {
        self.capacity = max(1, capacity)
    }

    /// Hands over a chunk of encoded rows (`CopyData.bytes`: whole rows), waiting while `capacity` chunks are queued;
    /// false when the consumer has stopped (the chunk is dropped, and the producer should stop too).
    public func send(_ chunk: [UInt8]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while chunks.count >= capacity, !closed { condition.wait() }
        guard !closed, ending == nil else { return false }
        chunks.append(chunk)
        wakeRowsWaiter()
        condition.broadcast()
        return true
    }

    /// Every chunk has been sent: the COPY ends once they are stored.
    public func finish() {
        end(.finished)
    }

    /// The producer gives up (a row it could not encode, say): the COPY is ended with `reason` as its error and
    /// stores nothing.
    public func fail(reason: String) {
        end(.failed(reason: reason))
    }

    /// Whether the producer stopped it with `fail` before the consumer closed it: then the consumer's failure is
    /// the consequence, and the producer's error is the one to report.
    public var failedByProducer: Bool {
        condition.lock()
        defer { condition.unlock() }
        return failedWhileOpen
    }

    /// Waits until the producer has sent a first chunk or stopped: true when there are rows and it has not failed.
    /// The COPY, and the connection it takes, can wait for this.
    public func hasRows() async -> Bool {
        await withCheckedContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            if let answer = rowsAnswer {
                continuation.resume(returning: answer)
            } else {
                rowsWaiter = continuation
            }
        }
    }

    /// The consumer stops taking chunks (done, or failed): a producer waiting in `send` returns false.
    public func close() {
        condition.lock()
        defer { condition.unlock() }
        closed = true
        chunks.removeAll()
        wakeRowsWaiter(with: false)
        condition.broadcast()
    }

    /// The next chunk, or how the producer ended; waits for the producer. Called on the connection's thread.
    func next() -> Item {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let chunk = chunks.popFirst() {
                condition.broadcast()
                return .chunk(chunk)
            }
            switch ending {
            case .finished: return .end
            case .failed(let reason): return .failed(reason: reason)
            case nil: condition.wait()
            }
        }
    }

    private func end(_ how: Ending) {
        condition.lock()
        defer { condition.unlock() }
        guard ending == nil else { return }
        ending = how
        if case .failed = how, !closed { failedWhileOpen = true }
        wakeRowsWaiter()
        condition.broadcast()
    }

    /// What `hasRows` answers now, or nil while it cannot tell; called with the lock held.
    private var rowsAnswer: Bool? {
        if closed { return false }
        if case .failed = ending { return false }
        if !chunks.isEmpty { return true }
        return ending == nil ? nil : false
    }

    /// Called with the lock held.
    private func wakeRowsWaiter(with answer: Bool? = nil) {
        guard let waiter = rowsWaiter, let answer = answer ?? rowsAnswer else { return }
        rowsWaiter = nil
        waiter.resume(returning: answer)
    }
}
