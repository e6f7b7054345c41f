/// One connection to PostgreSQL; statements from concurrent callers are pipelined on it.
///
/// Most code borrows connections from a `PostgresPool` instead of making its own.
public final class PostgresConnection: Sendable {
    let worker: ConnectionWorker

    init(worker: ConnectionWorker) {
        self.worker = worker
    }

    /// Connects, or throws libpq's reason as a `PostgresError` (code `08001`).
    ///
    /// - Parameter onNotification: called on the connections' event loop thread for each `NOTIFY` on a channel
    ///   this connection `LISTEN`s to.
    public static func connect(
        _ configuration: PostgresConfiguration,
        onNotification: (@Sendable (PostgresNotification) -> Void)? = nil,
        onTermination: @escaping @Sendable (PostgresError) -> Void = { _ in }
    ) async throws -> PostgresConnection {
        PostgresConnection(
            worker: try await ConnectionWorker.start(
                configuration: configuration, onNotification: onNotification, onTermination: onTermination))
    }

    /// Connects, runs `body` with the connection alone, then closes it and waits until libpq has freed it, whether
    /// `body` returned or threw: for one-off work (migrations, start-up checks) in processes that may exit soon.
    public static func withConnection<T: Sendable>(
        _ configuration: PostgresConfiguration, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let connection = try await connect(configuration)
        do {
            let value = try await body(connection)
            await connection.closeAndWait()
            return value
        } catch {
            await connection.closeAndWait()
            throw error
        }
    }

    /// Runs one statement (prepared once per connection, then reused) and returns its rows.
    /// Throws `PostgresError`, or `CancellationError` when the task is cancelled while waiting (the statement may
    /// still run to its end on the server).
    @discardableResult
    public func query(_ sql: SQL) async throws -> PostgresRows {
        try await CancellableContinuation.run { box in
            worker.submit(.statement(sql, { box.resume(with: $0.map(PostgresRows.init).mapError { $0 }) }))
        }
    }

    /// Runs one statement and waits for its answer even when the task is cancelled: for COMMIT and ROLLBACK,
    /// whose outcome the caller must know before the connection goes back to the pool.
    @discardableResult
    func queryToTheEnd(_ sql: SQL) async throws -> PostgresRows {
        try await withCheckedThrowingContinuation { continuation in
            worker.submit(.statement(sql, { continuation.resume(with: $0.map(PostgresRows.init)) }))
        }
    }

    /// Runs trusted SQL text that may hold several statements (a migration file) through the simple query protocol.
    /// The text is never combined with values: it comes from the repository's `sql/` folder or a literal.
    public func execute(unsafeSQL script: String, label: String) async throws {
        let observer = worker.configuration.onStatement
        let _: Void = try await exclusive { access in
            try access.execute(script: script, label: label, observer: observer)
        }
    }

    /// Runs `COPY table (columns) FROM STDIN` with the rows `stream` hands over as its producer encodes them;
    /// returns the number of rows stored. The connection's thread waits for the producer (keep it busy: it holds
    /// the connection), and closes the stream when the COPY ends.
    public func copyIn(_ statement: SQL, stream: CopyInStream) async throws -> Int {
        let observer = worker.configuration.onStatement
        return try await exclusive { access in
            try access.copyIn(statement: statement, stream: stream, observer: observer)
        }
    }

    /// Finishes statements already sent, then closes the connection.
    public func close() {
        worker.shutdown()
    }

    /// Closes the connection and returns once libpq has freed it: call it before the process exits (OpenSSL's
    /// clean-up at exit must not run under a connection still in libpq).
    public func closeAndWait() async {
        worker.shutdown()
        await worker.waitUntilExited()
    }

    /// Whether the connection has died or been closed; a dead connection fails every statement at once.
    public var isClosed: Bool {
        worker.isTerminated
    }

    private func exclusive<T: Sendable>(
        _ body: @escaping @Sendable (ExclusiveAccess) throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            worker.submit(
                .exclusive(
                    run: { access in
                        do { continuation.resume(returning: try body(access)) } catch { continuation.resume(throwing: error) }
                    },
                    fail: { continuation.resume(throwing: $0) }))
        }
    }
}
