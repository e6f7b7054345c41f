import Foundation
import Postgres

/// Applies the `sql/` migrations to a database, each file once, in order, each in its own transaction, one statement
/// at a time.
///
/// Every run holds a PostgreSQL advisory lock, so many processes migrating at once (several instances
/// starting together) apply each file exactly once; the others wait and then find nothing to do.
public struct Migrator: Sendable {
    /// A migration recorded in `schema_migrations`.
    public struct Applied: Sendable, Equatable {
        public let version: Int
        public let name: String
        public let checksum: String
        public let appliedAt: Date
    }

    /// Applied and pending migrations, and files that no longer match what was applied.
    public struct Status: Sendable {
        public let applied: [Applied]
        public let pending: [Migration]
        /// Applied files whose text has changed since (refused by `migrate`).
        public let changed: [Migration]

        /// Whether the database is at the newest migration.
        public var isCurrent: Bool { pending.isEmpty && changed.isEmpty }
    }

    /// Any bigint: the key of the session-level advisory lock that serializes migration runs.
    static let lockKey: Int64 = 0x7765_6967_6869_6E01

    public let migrations: [Migration]
    public let configuration: PostgresConfiguration

    /// Migrations take as long as they need: the statement timeout is not applied to them.
    public init(migrations: [Migration], configuration: PostgresConfiguration) {
        self.migrations = migrations
        var configuration = configuration
        configuration.statementTimeout = nil
        configuration.clientTimeout = nil
        self.configuration = configuration
    }

    /// Applies every pending migration and returns those it applied (empty when the database was current).
    /// Refuses, naming the file, when an applied file has changed.
    @discardableResult
    public func migrate() async throws -> [Migration] {
        try await withLockedConnection { connection in
            let status = try await status { try await connection.query($0) }
            if let changed = status.changed.first {
                throw MigrationError(
                    "migration \(changed.fileName) was changed after it was applied (checksum differs); "
                        + "restore the file and add a new migration instead")
            }
            for migration in status.pending {
                try await connection.execute(unsafeSQL: "BEGIN", label: "migration.begin")
                do {
                    for statement in migration.statements {
                        do {
                            try await connection.execute(
                                unsafeSQL: statement.text, label: "\(migration.fileName):\(statement.line)")
                        } catch {
                            throw MigrationError("its statement at line \(statement.line): \(error)")
                        }
                    }
                    try await connection.query(
                        """
                        INSERT INTO schema_migrations (version, name, checksum)
                        VALUES (\(migration.version), \(migration.name), \(migration.checksum))
                        """)
                    try await connection.execute(unsafeSQL: "COMMIT", label: "migration.commit")
                } catch {
                    try? await connection.execute(unsafeSQL: "ROLLBACK", label: "migration.rollback")
                    throw MigrationError("migration \(migration.fileName) failed and was rolled back: \(error)")
                }
            }
            return status.pending
        }
    }

    /// What has been applied and what is pending (read-only: no lock, nothing created).
    public func status() async throws -> Status {
        try await PostgresConnection.withConnection(configuration) { connection in
            try await status { try await connection.query($0) }
        }
    }

    /// What has been applied and what is pending, reading through `query` (for example a pool's): readiness checks
    /// use this.
    public func status(_ query: (SQL) async throws -> PostgresRows) async throws -> Status {
        let exists = try await query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
        guard try exists.first?.decode(Bool.self, column: "present") == true else {
            return Status(applied: [], pending: migrations, changed: [])
        }
        let rows = try await query(
            SQL("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version",
                name: "schema_migrations.list"))
        let applied = try rows.map { row in
            Applied(
                version: try row.decode(Int.self, column: "version"), name: try row.decode(column: "name"),
                checksum: try row.decode(column: "checksum"), appliedAt: try row.decode(column: "applied_at"))
        }
        let byVersion = Dictionary(uniqueKeysWithValues: applied.map { ($0.version, $0) })
        return Status(
            applied: applied,
            pending: migrations.filter { byVersion[$0.version] == nil },
            changed: migrations.filter { migration in
                byVersion[migration.version].map { $0.checksum != migration.checksum } ?? false
            })
    }

    /// Connects, takes the advisory lock and makes sure `schema_migrations` exists, then runs `body`.
    private func withLockedConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await PostgresConnection.withConnection(configuration) { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))")
            try await connection.execute(
                unsafeSQL: """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version    integer PRIMARY KEY,
                        name       text NOT NULL,
                        checksum   text NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now()
                    )
                    """, label: "schema_migrations.create")
            let value = try await body(connection)
            try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))")
            return value
        }
    }
}
