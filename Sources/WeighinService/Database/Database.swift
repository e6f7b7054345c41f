import Postgres

/// The service layer's way to PostgreSQL: the pool's calls, with transient failures (connection lost, no connection
/// free in time, statement cancelled, server shutting down) turned into `ServiceError.unavailable`.
///
/// Every layer above then sees one kind of "try again" and maps it in one place; other database errors (a broken
/// constraint the service did not expect, a decoding failure) pass through as `PostgresError`.
public struct Database: Sendable {
    /// The pool, for what is not a service call: readiness, metrics, closing.
    public let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
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

    /// Streams `data` into `statement` (`COPY ... FROM STDIN`) in the transaction; returns the rows stored.
    func copyIn(_ statement: SQL, data: CopyData) async throws -> Int {
        try await Database.unavailableWhenTransient { try await connection.copyIn(statement, data: data) }
    }
}
