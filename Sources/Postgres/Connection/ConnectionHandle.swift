import CLibPQ
import Foundation

/// Owns one libpq connection (`PGconn`) and closes it with `PQfinish` when released.
///
/// libpq allows one thread at a time per connection: `ConnectionWorker` uses it under its lock only, or hands it to
/// the one thread that runs an exclusive item.
final class ConnectionHandle: @unchecked Sendable {
    let raw: OpaquePointer
    /// Set by the notice receiver when the server warned that it cancelled a commit's wait for the synchronous
    /// standby (the commit stands here, unreplicated); the driver takes it for the statement whose results it is
    /// reading: notices arrive in order with results, before the sync that ends that statement.
    var replicationWaitCancelled = false

    init(taking raw: OpaquePointer) {
        self.raw = raw
    }

    deinit {
        PQfinish(raw)
    }

    /// Connects (blocking: call it on a thread of its own, never a cooperative one) and readies the connection for
    /// pipelining: notices silenced but the one about synchronous replication, non-blocking, in pipeline mode.
    static func connect(_ parameters: [(String, String)]) -> Result<ConnectionHandle, PostgresError> {
        let keywords = parameters.map { strdup($0.0) }
        let values = parameters.map { strdup($0.1) }
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        let raw = (keywords.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { k in
            (values.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { v in
                PQconnectdbParams(k.baseAddress, v.baseAddress, 1)
            }
        }
        guard let raw else {
            return .failure(PostgresError(code: .unableToConnect, message: "libpq could not allocate a connection"))
        }
        let handle = ConnectionHandle(taking: raw)
        guard PQstatus(raw) == CONNECTION_OK else {
            return .failure(PostgresError(code: .unableToConnect, message: handle.errorMessage))
        }
        PQsetNoticeReceiver(raw, noticeReceiver, Unmanaged.passUnretained(handle).toOpaque())
        guard PQsetnonblocking(raw, 1) == 0, PQenterPipelineMode(raw) == 1 else {
            return .failure(PostgresError(
                code: .unableToConnect, message: "cannot enter pipeline mode: \(handle.errorMessage)"))
        }
        return .success(handle)
    }

    /// libpq's last error message for this connection, trimmed.
    var errorMessage: String {
        String(cString: PQerrorMessage(raw)).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    var isBad: Bool {
        PQstatus(raw) == CONNECTION_BAD
    }

    /// The server's error for a failed result, with its diagnostic fields; connection loss maps to `08006`.
    func error(from result: OpaquePointer, statement: String?) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        let message = field("M") ?? String(cString: PQresultErrorMessage(result))
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let sqlstate = field("C") ?? PostgresError.Code.connectionFailure.rawValue
        var code = PostgresError.Code(rawValue: sqlstate)
        if isBad, code.class != "08", code != .adminShutdown, code != .crashShutdown {
            code = .connectionFailure
        }
        return PostgresError(
            code: code, message: message.isEmpty ? errorMessage : message, detail: field("D"),
            constraint: field("n"), table: field("t"), column: field("c"), statement: statement)
    }
}

/// The notice receiver of every connection: ignores notices, but for the warning PostgreSQL sends when it cancels a
/// commit's wait for the synchronous standby (on a statement timeout or a cancel; the commit then stands on this
/// server only). It is recognized by the function that reports it, `SyncRepWaitForLSN`, which unlike the message is
/// never translated. Called by libpq while results are parsed (under the connection's lock, or on an exclusive item's
/// thread), with its handle as `context`.
private func noticeReceiver(_ context: UnsafeMutableRawPointer?, _ notice: OpaquePointer?) {
    guard let context, let notice,
        let function = PQresultErrorField(notice, Int32(UInt8(ascii: "R"))),
        String(cString: function) == "SyncRepWaitForLSN"
    else { return }
    Unmanaged<ConnectionHandle>.fromOpaque(context).takeUnretainedValue().replicationWaitCancelled = true
}
