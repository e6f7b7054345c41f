import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Collects whole log lines in memory and writes them to a file descriptor from a thread of its own, every line
/// gathered in the last few milliseconds in one `write`.
///
/// The access log writes a line per request; written directly, that is one system call per request on the event
/// loop that answers it (issue 16's profile). Here a request only appends to a buffer. Lines keep their order and
/// never interleave. Lines from `.error` up are written before `log` returns (`UrgentFlushLogHandler`), and the
/// process flushes at exit, so only a crash can lose the last 10 ms of ordinary lines. When the descriptor
/// stops taking lines (a full pipe nobody reads), at most `limit` bytes wait; later lines are dropped, counted,
/// and the count is written once the descriptor takes lines again: a stuck log reader neither stalls requests
/// (only an error line waits for it) nor grows memory without bound.
public final class BufferedLogOutput: Sendable {
    /// The process's standard error, flushed at exit.
    public static let standardError: BufferedLogOutput = {
        let output = BufferedLogOutput(descriptor: 2)
        atexit { BufferedLogOutput.standardError.flush() }
        return output
    }()

    private struct Pending {
        var bytes: [UInt8] = []
        var dropped = 0
    }

    /// How long the writer waits after the first line of a batch for more to join it, in microseconds.
    static let coalescingMicroseconds: UInt32 = 10_000

    private let descriptor: Int32
    private let limit: Int
    private let pending = Mutex(Pending())
    /// Held while a batch is taken and written, so that the writer thread and `flush()` keep batches in order.
    private let writing = Mutex(0)
    /// Signalled when the buffer goes from empty (nothing queued, nothing dropped) to not empty.
    private let wake = DispatchSemaphore(value: 0)

    /// - Parameters:
    ///   - descriptor: where the lines go; the caller keeps it open for the life of the output.
    ///   - limit: the most bytes that may wait for the descriptor.
    init(descriptor: Int32, limit: Int = 4 << 20) {
        self.descriptor = descriptor
        self.limit = limit
        let wake = wake
        let thread = Thread { [weak self] in
            while true {
                wake.wait()
                guard let self else { return }  // signalled by deinit
                usleep(Self.coalescingMicroseconds)
                flush()
            }
        }
        thread.name = "weighin-log"
        thread.start()
    }

    deinit {
        wake.signal()
    }

    /// Queues one whole line (its bytes, newline included) for writing.
    func append(_ line: some Collection<UInt8>) {
        let wasIdle = pending.withLock { pending -> Bool in
            let wasIdle = pending.bytes.isEmpty && pending.dropped == 0
            if pending.bytes.count + line.count > limit {
                pending.dropped += 1
            } else {
                pending.bytes.append(contentsOf: line)
            }
            return wasIdle
        }
        if wasIdle { wake.signal() }
    }

    /// Writes every queued line now, on the calling thread.
    public func flush() {
        writing.withLock { batches in
            let (bytes, dropped) = pending.withLock { pending in
                defer { pending = Pending() }
                return (pending.bytes, pending.dropped)
            }
            if !bytes.isEmpty { write(bytes) }
            if dropped > 0 { write(Array("weighin: \(dropped) log lines dropped while the log output was blocked\n".utf8)) }
            batches += 1
        }
    }

    /// How many flushes ran so far, empty ones included (for tests: an upper bound on the `write` batches, so lines
    /// written together show as fewer of them).
    var batchesWritten: Int { writing.withLock { $0 } }

    /// Writes all of `bytes`, across partial writes and interruptions; an output that fails loses the batch.
    private func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else if written < 0 && errno == EAGAIN {
                    var descriptorPoll = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&descriptorPoll, 1, 100)
                } else {
                    return
                }
            }
        }
    }
}

/// Passes every record to the handler it wraps and, from `.error` up, writes out everything queued before `log`
/// returns: an error line is out even if the process dies right after it.
struct UrgentFlushLogHandler: LogHandler {
    var inner: LogLineHandler
    let output: BufferedLogOutput

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        inner.log(event: event)
        if event.level >= .error { output.flush() }
    }
}
