import Foundation
import Postgres

/// The service layer's way to PostgreSQL: the pool's calls, with transient failures (connection lost, no connection
/// free in time, statement cancelled, server shutting down) turned into `ServiceError.unavailable`.
///
/// Every layer above then sees one kind of "try again" and maps it in one place; other database errors (a broken
/// constraint the service did not expect, a decoding failure) pass through as `PostgresError`.
///
/// The read-only calls of a user (listing, one entry, export, statistics, trend, goal progress, changes) go
/// through `read`, which may run them on a hot standby (`replicas`); everything else runs on the primary.
public struct Database: Sendable {
    /// The pool, for what is not a service call: readiness, metrics, closing.
    public let pool: PostgresPool
    /// The standbys for reads; nil: every read runs on the primary.
    public let replicas: ReadReplicas?

    public init(pool: PostgresPool, replicas: ReadReplicas? = nil) {
        self.pool = pool
        self.replicas = replicas
    }

    /// Runs one read-only statement of `caller`'s on a standby when it has replayed the caller's acknowledged
    /// writes and the position the caller sent, else on the primary; a failure on the standby is retried once on
    /// the primary, so a standby that is down or refusing costs time, never an error.
    func read(_ sql: SQL, for caller: Authentication) async throws -> PostgresRows {
        guard let replicas, replicas.target(for: caller.userID, after: caller.readAfter) == .replica else {
            replicas?.count(.primary)
            return try await query(sql)
        }
        do {
            let rows = try await replicas.pool.query(sql)
            replicas.count(.replica)
            return rows
        } catch is PostgresError {
            replicas.failed()
            replicas.count(.primary)
            return try await query(sql)
        }
    }

    /// After a write of `user` was acknowledged by the primary: the primary's WAL position, read after the ack and
    /// so at or past the write's commit, recorded so that this instance's reads of `user` wait for a standby to
    /// replay it (and returned for the client to send to other instances). Nil without standbys, or when the
    /// primary did not answer (the user then reads from the primary until a later position is known).
    public func confirmWrite(of user: UUID) async -> WALPosition? {
        guard let replicas else { return nil }
        guard let position = await replicas.primaryPosition(pool) else {
            replicas.wrotePending(user)
            return nil
        }
        replicas.wrote(user, at: position)
        return position
    }

    /// Runs one statement, pipelined on the least busy connection.
    @discardableResult
    func query(_ sql: SQL) async throws -> PostgresRows {
        try await Self.unavailableWhenTransient { try await pool.query(sql) }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    func withTransaction<T: Sendable>(_ body: (Transaction) async throws -> T) async throws -> T {
        try await Self.unavailableWhenTransient {
            try await pool.withTransaction { connection in try await body(Transaction(connection: connection)) }
        }
    }

    /// Lends a connection to `body` alone (COPY needs one to itself).
    func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await Self.unavailableWhenTransient { try await pool.withConnection(body) }
    }

    /// Runs `body`, turning a transient `PostgresError` into `ServiceError.unavailable`.
    static func unavailableWhenTransient<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PostgresError where error.isTransient {
            throw ServiceError.unavailable(
                retryAfter: 1, reason: "The database is unavailable or busy; try again shortly.",
                sqlState: error.code.rawValue)
        }
    }
}

/// A database transaction lent to one caller: its statements run in order and commit together when the closure
/// that received it returns (see `Database.withTransaction`).
public struct Transaction: Sendable {
    let connection: PostgresConnection

    /// Runs one statement in the transaction.
    @discardableResult
    func query(_ sql: SQL) async throws -> PostgresRows {
        try await Database.unavailableWhenTransient { try await connection.query(sql) }
    }

    /// Streams the rows of `stream` into `statement` (`COPY ... FROM STDIN`) in the transaction; returns the rows
    /// stored.
    func copyIn(_ statement: SQL, stream: CopyInStream) async throws -> Int {
        try await Database.unavailableWhenTransient { try await connection.copyIn(statement, stream: stream) }
    }
}
