import Foundation
import Postgres

/// Direct access to a test application's database, to look at rows or to move time (backdating).
enum TestDatabase {
    /// Runs one statement on a connection of its own.
    @discardableResult
    static func query(_ databaseURL: String, _ sql: SQL) async throws -> PostgresRows {
        let connection = try await PostgresConnection.connect(try PostgresConfiguration(conninfo: databaseURL))
        defer { connection.close() }
        return try await connection.query(sql)
    }

    /// The integer `n` of a one-row statement such as `SELECT count(*) AS n FROM ...`.
    static func count(_ databaseURL: String, _ sql: SQL) async throws -> Int {
        try await query(databaseURL, sql)[0].decode(Int.self, column: "n")
    }

    /// Rows of the user in each table that belongs to a user.
    static func userRows(_ databaseURL: String, userID: String) async throws -> [String: Int] {
        let id = UUID(uuidString: userID)!
        let rows = try await query(
            databaseURL,
            """
            SELECT (SELECT count(*) FROM users WHERE id = \(id)) AS users,
                   (SELECT count(*) FROM weight_entries WHERE user_id = \(id)) AS weight_entries,
                   (SELECT count(*) FROM auth_tokens WHERE user_id = \(id)) AS auth_tokens,
                   (SELECT count(*) FROM idempotency_keys WHERE user_id = \(id)) AS idempotency_keys,
                   (SELECT count(*) FROM goals WHERE user_id = \(id)) AS goals,
                   (SELECT count(*) FROM user_emails WHERE user_id = \(id)) AS user_emails
            """)
        var counts: [String: Int] = [:]
        for table in ["users", "weight_entries", "auth_tokens", "idempotency_keys", "goals", "user_emails"] {
            counts[table] = try rows[0].decode(Int.self, column: table)
        }
        return counts
    }
}
