import CLibPQ
import DequeModule

/// What a pipelined connection has sent and what each arriving result completes, without any I/O.
///
/// The driver (`ConnectionWorker`) asks it how to send the next statement (prepare it now, run it by name, or send
/// it unprepared), tells it what was sent, and feeds it every result in arrival order; it answers which
/// completions to call. Kept apart from the lock, the socket and the event loop so that it is unit-tested without
/// a server (`PipelineProtocolTests`), and so that a driver can be replaced without touching it.
///
/// Each statement is followed by its own sync point, so one failure never spoils its neighbours: a result list
/// per statement ends with `PIPELINE_SYNC`.
struct PipelineProtocol {
    typealias Completion = @Sendable (Result<PostgresResult, PostgresError>) -> Void

    /// How the driver sends a statement.
    enum SendPlan: Equatable {
        /// Parse it under `name` (its result arrives first), then run it by name.
        case prepareAndRun(name: String)
        /// Run the statement prepared earlier under `name`.
        case run(name: String)
        /// Send it unprepared (unnamed mode, a Parse still awaiting its answer, or other parameter types).
        case unprepared
    }

    /// One result, as the driver classifies libpq's status.
    enum Event {
        /// `PGRES_PIPELINE_SYNC`: the end of the head statement's results.
        case sync
        /// Rows or a command's completion (`TUPLES_OK`, `COMMAND_OK`, `EMPTY_QUERY`).
        case result(PostgresResult)
        /// `PGRES_PIPELINE_ABORTED`: skipped after an earlier failure in the same sync group.
        case aborted
        /// Any other status: the server's error.
        case error(PostgresError)
    }

    private struct Inflight {
        let sql: SQL
        let completion: Completion
        var awaitingPrepare: Bool
        var result: PostgresResult?
        var error: PostgresError?
    }

    private struct PreparedStatement {
        let name: String
        let types: [Oid]
        /// Whether the server has confirmed the Parse; until then followers go unprepared, so a Parse that fails
        /// (a statement timeout while waiting on a lock, say) takes no statement down with it.
        var confirmed = false
    }

    /// A statement's text as the key of `statements`, hashed by its length and 16 bytes spread over it.
    ///
    /// Hashing the whole text cost about 6,000 instructions per statement (SipHash over a few hundred bytes). A
    /// connection knows a few dozen texts, which these bytes tell apart, and equal hashes still compare the text.
    private struct StatementText: Hashable {
        let text: String

        func hash(into hasher: inout Hasher) {
            let sampled = text.utf8.withContiguousStorageIfAvailable { bytes in
                hasher.combine(bytes.count)
                guard !bytes.isEmpty else { return }
                for step in 0..<16 { hasher.combine(bytes[step * (bytes.count - 1) / 15]) }
            }
            if sampled == nil { hasher.combine(text) }
        }
    }

    let preparedStatements: PostgresConfiguration.PreparedStatements
    private var inflight = Deque<Inflight>()
    private var statements: [StatementText: PreparedStatement] = [:]
    private var statementCount = 0
    /// When the statement at the head of the pipeline became the head: statements run one after another, so the
    /// client's patience for an answer starts there, not when a statement was queued.
    private(set) var headSince: ContinuousClock.Instant?

    init(preparedStatements: PostgresConfiguration.PreparedStatements) {
        self.preparedStatements = preparedStatements
    }

    /// Whether anything awaits results.
    var isIdle: Bool { inflight.isEmpty }

    /// The name of the statement whose results arrive next, for errors.
    var headLabel: String? { inflight.first?.sql.label }

    /// How to send `sql`; `sent` must follow once it is on its way.
    mutating func plan(_ sql: SQL) -> SendPlan {
        let types = sql.binds.map { Oid($0.type.rawValue) }
        guard preparedStatements == .named else { return .unprepared }
        if let known = statements[StatementText(text: sql.text)] {
            return known.types == types && known.confirmed ? .run(name: known.name) : .unprepared
        }
        statementCount += 1
        let name = "wi\(statementCount)"
        statements[StatementText(text: sql.text)] = PreparedStatement(name: name, types: types)
        return .prepareAndRun(name: name)
    }

    /// Records a statement sent as `plan` at `now`.
    mutating func sent(_ sql: SQL, _ plan: SendPlan, completion: @escaping Completion, now: ContinuousClock.Instant) {
        if inflight.isEmpty { headSince = now }
        let preparing = if case .prepareAndRun = plan { true } else { false }
        inflight.append(Inflight(sql: sql, completion: completion, awaitingPrepare: preparing))
    }

    /// Forgets a statement's name after its Parse could not even be sent (the connection is failing).
    mutating func unsent(_ sql: SQL, _ plan: SendPlan) {
        if case .prepareAndRun = plan { statements[StatementText(text: sql.text)] = nil }
    }

    /// Takes one result at `now`; returns the completion it finishes, with its outcome, when it ends the head
    /// statement.
    mutating func receive(_ event: Event, now: ContinuousClock.Instant)
        -> (Completion, Result<PostgresResult, PostgresError>)?
    {
        guard !inflight.isEmpty else { return nil }
        if case .sync = event {
            let head = inflight.removeFirst()
            headSince = inflight.isEmpty ? nil : now
            if let error = head.error { return (head.completion, .failure(error)) }
            if let result = head.result { return (head.completion, .success(result)) }
            return (head.completion, .failure(PostgresError(
                code: .connectionFailure, message: "the server sent no result", statement: head.sql.label)))
        }
        if inflight[0].awaitingPrepare {
            // The Parse's own answer comes first.
            inflight[0].awaitingPrepare = false
            if case .error(let error) = event {
                inflight[0].error = error
                statements[StatementText(text: inflight[0].sql.text)] = nil
            } else {
                statements[StatementText(text: inflight[0].sql.text)]?.confirmed = true
            }
            return nil
        }
        switch event {
        case .result(let result):
            inflight[0].result = result
        case .aborted:
            if inflight[0].error == nil {
                inflight[0].error = PostgresError(
                    code: .inFailedTransaction, message: "statement skipped after an earlier failure",
                    statement: inflight[0].sql.label)
            }
        case .error(let error):
            if inflight[0].error == nil { inflight[0].error = error }
        case .sync:
            break
        }
        return nil
    }

    /// The server warned, while the head statement's results were arriving, that it cancelled that statement's
    /// wait for the synchronous standby: the head fails with `commitNotReplicated` (a transient error, so the
    /// caller answers "try again", and a retry with the same idempotency key is stored once) unless it failed
    /// already.
    mutating func headCommitNotReplicated() {
        guard !inflight.isEmpty, inflight[0].error == nil else { return }
        inflight[0].error = PostgresError(
            code: .commitNotReplicated,
            message: "the commit was not confirmed by the synchronous standby (its wait was cancelled)",
            statement: inflight[0].sql.label)
    }

    /// The connection ended: every statement in flight fails, with its own server error when it had one.
    mutating func failAll(_ error: PostgresError) -> [(Completion, Result<PostgresResult, PostgresError>)] {
        defer {
            inflight.removeAll()
            headSince = nil
        }
        return inflight.map { ($0.completion, .failure($0.error ?? error)) }
    }
}
