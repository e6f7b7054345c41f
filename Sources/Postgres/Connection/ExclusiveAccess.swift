import CLibPQ

/// Blocking operations that need a connection to themselves, outside pipeline mode.
///
/// Only the connection's worker creates one, on the thread that runs the exclusive item, when nothing else is in
/// flight on the connection.
struct ExclusiveAccess {
    let handle: ConnectionHandle

    /// Runs trusted SQL text through the simple query protocol, which allows several statements in one text
    /// (migration files). Its rows are not returned: that protocol sends them as text, and results are read in
    /// binary.
    func execute(script: String, label: String, observer: (@Sendable (SQL) -> Void)?) throws(PostgresError) {
        observer?(SQL(.unsafeSQL(script), name: label))
        guard let raw = PQexec(handle.raw, script) else {
            throw PostgresError(code: .connectionFailure, message: handle.errorMessage, statement: label)
        }
        let status = PQresultStatus(raw)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY else {
            let error = handle.error(from: raw, statement: label)
            PQclear(raw)
            throw error
        }
        PQclear(raw)
    }

    /// Runs `COPY ... FROM STDIN` and sends it the chunks of `stream` (COPY text format) as they come; returns the
    /// rows stored. The stream is closed when this returns or throws, so its producer never waits for ever.
    func copyIn(statement: SQL, stream: CopyInStream, observer: (@Sendable (SQL) -> Void)?) throws(PostgresError) -> Int {
        precondition(statement.binds.isEmpty, "COPY takes no parameters")
        defer { stream.close() }
        observer?(statement)
        guard let start = PQexec(handle.raw, statement.text) else {
            throw PostgresError(code: .connectionFailure, message: handle.errorMessage, statement: statement.label)
        }
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            let error = handle.error(from: start, statement: statement.label)
            PQclear(start)
            throw error
        }
        PQclear(start)
        // Why the COPY ends with an error: the producer failed (its reason), or sending failed (libpq's message).
        var failure: String?
        var sendFailed = false
        sending: while true {
            switch stream.next() {
            case .chunk(let bytes):
                let sent = bytes.withUnsafeBufferPointer { buffer in
                    buffer.withMemoryRebound(to: CChar.self) {
                        PQputCopyData(handle.raw, $0.baseAddress, Int32($0.count))
                    }
                }
                guard sent == 1 else {
                    failure = handle.errorMessage
                    sendFailed = true
                    break sending
                }
            case .end:
                break sending
            case .failed(let reason):
                failure = reason
                break sending
            }
        }
        // Nothing more is taken from the stream: a producer waiting to send stops now, not when the server answers.
        stream.close()
        _ = PQputCopyEnd(handle.raw, failure)
        var stored = 0
        var error: PostgresError?
        while let raw = PQgetResult(handle.raw) {
            if PQresultStatus(raw) == PGRES_COMMAND_OK {
                stored = Int(String(cString: PQcmdTuples(raw))) ?? 0
            } else if error == nil {
                error = handle.error(from: raw, statement: statement.label)
            }
            PQclear(raw)
        }
        if let error { throw error }
        if sendFailed, let failure {
            throw PostgresError(code: .connectionFailure, message: failure, statement: statement.label)
        }
        return stored
    }
}
