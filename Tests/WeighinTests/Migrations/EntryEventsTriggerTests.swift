import Foundation
import Postgres
import Testing

/// The triggers on `weight_entries` that write webhook events into `webhook_outbox` (sql/0007, sql/0010), checked
/// in SQL with statements that change the rows of several users at once, as an operator's statement may.
@Suite("Migrations: webhook events written by the entries' triggers")
struct EntryEventsTriggerTests {
    let pool: PostgresPool
    /// Three users: `both` has a webhook for every kind, one for creations only and a disabled one; `deletions` has
    /// a webhook for deletions only; `noHooks` has no webhook.
    let both: UUID, deletions: UUID, noHooks: UUID
    let everyKind: UUID, creations: UUID, deletionsOnly: UUID

    init() async throws {
        let pool = try await TestCluster.makePool(size: 1)
        func user(_ name: String) async throws -> UUID {
            let email = "\(name)-\(UUID().uuidString.prefix(8))@example.com"
            return try await pool.query(
                "INSERT INTO users (email, name, password_hash) VALUES (\(email), \(name), 'x') RETURNING id"
            )[0].decode(UUID.self, column: "id")
        }
        func webhook(_ user: UUID, _ events: [String], disabled: Bool = false) async throws -> UUID {
            let secret = [UInt8](repeating: 7, count: 32)
            return try await pool.query(
                """
                INSERT INTO webhooks (user_id, url, events, secret, disabled_at)
                VALUES (\(user), 'https://example.com/hook', string_to_array(\(events.joined(separator: ",")), ','),
                        \(secret),
                        CASE WHEN \(disabled) THEN now() END)
                RETURNING id
                """)[0].decode(UUID.self, column: "id")
        }
        let both = try await user("both"), deletions = try await user("deletions")
        let everyKind = try await webhook(both, ["entry.created", "entry.updated", "entry.deleted"])
        let creations = try await webhook(both, ["entry.created"])
        _ = try await webhook(both, ["entry.created", "entry.updated", "entry.deleted"], disabled: true)
        let deletionsOnly = try await webhook(deletions, ["entry.deleted"])
        (self.pool, self.both, self.deletions, self.noHooks) = (pool, both, deletions, try await user("none"))
        (self.everyKind, self.creations, self.deletionsOnly) = (everyKind, creations, deletionsOnly)
    }

    /// The integer `n` of a one-row statement, as `TestDatabase.count` reads it, on this suite's pool.
    func count(_ sql: SQL) async throws -> Int {
        try await pool.query(sql)[0].decode(Int.self, column: "n")
    }

    /// The outbox's rows of one kind: how many each webhook got, and how many webhooks shared each event id.
    func outbox(_ kind: String) async throws -> (perWebhook: [UUID: Int], perEvent: [Int: Int]) {
        var perWebhook: [UUID: Int] = [:]
        for row in try await pool.query(
            "SELECT webhook_id, count(*) AS n FROM webhook_outbox WHERE event_type = \(kind) GROUP BY webhook_id")
        {
            perWebhook[try row.decode(UUID.self, column: "webhook_id")] = try row.decode(Int.self, column: "n")
        }
        var perEvent: [Int: Int] = [:]
        for row in try await pool.query(
            """
            SELECT shared, count(*) AS n FROM (
                SELECT event_id, count(*) AS shared FROM webhook_outbox WHERE event_type = \(kind) GROUP BY event_id
            ) e GROUP BY shared
            """)
        {
            perEvent[try row.decode(Int.self, column: "shared")] = try row.decode(Int.self, column: "n")
        }
        return (perWebhook, perEvent)
    }

    @Test func onlyRowsOfSubscribedUsersMakeEventsWhateverPlanTheConnectionKept() async throws {
        // The pool has one connection: its first write changes one row of a user without webhooks, so the
        // trigger's statements are first planned for one row and no subscriber; the next statements change
        // 300 rows of three users on the same connection.
        try await pool.query(
            """
            INSERT INTO weight_entries (user_id, recorded_on, weight, unit) VALUES (\(noHooks), '1999-12-31', 70, 'kg')
            """)
        #expect(try await count("SELECT count(*) AS n FROM webhook_outbox") == 0)

        try await pool.query(
            """
            INSERT INTO weight_entries (user_id, recorded_on, weight, unit, client_record_id, client_version,
                                        client_fingerprint)
            SELECT u.id, date '2000-01-01' + d, 60 + d / 10.0, 'kg', 'r-' || d, 1, '\\x00'::bytea
            FROM unnest(ARRAY[\(both), \(deletions), \(noHooks)]) AS u (id), generate_series(1, 100) AS d
            """)
        let created = try await outbox("entry.created")
        #expect(created.perWebhook == [everyKind: 100, creations: 100], "both's rows, to its enabled webhooks")
        #expect(created.perEvent == [2: 100], "one event per row, shared by its two webhooks")
        let payload = try await pool.query(
            """
            SELECT entry ? 'client_fingerprint' AS fingerprint, entry ->> 'client_record_id' AS record,
                   (entry ->> 'weight')::numeric AS weight, entry ->> 'id' = entry_id::text AS same_id
            FROM webhook_outbox WHERE webhook_id = \(everyKind) AND entry ->> 'recorded_on' = '2000-01-11'
            """)
        #expect(payload.count == 1)
        #expect(try payload[0].decode(Bool.self, column: "fingerprint") == false)
        #expect(try payload[0].decode(String.self, column: "record") == "r-10")
        #expect(try payload[0].decode(Decimal.self, column: "weight") == 61)
        #expect(try payload[0].decode(Bool.self, column: "same_id"))

        try await pool.query("UPDATE weight_entries SET note = 'same day' WHERE recorded_on >= '2000-01-01'")
        let updated = try await outbox("entry.updated")
        #expect(updated.perWebhook == [everyKind: 100] && updated.perEvent == [1: 100])

        try await pool.query("DELETE FROM weight_entries")
        let deleted = try await outbox("entry.deleted")
        #expect(deleted.perWebhook == [everyKind: 100, deletionsOnly: 100] && deleted.perEvent == [1: 200])
        let bodies = try await count(
            "SELECT count(*) AS n FROM webhook_outbox WHERE event_type = 'entry.deleted' AND entry IS NOT NULL")
        #expect(bodies == 0, "a deletion's event carries no entry")
        let strangers = try await count(
            """
            SELECT count(*) AS n FROM webhook_outbox o JOIN webhooks w ON w.id = o.webhook_id
            WHERE w.user_id <> o.user_id
            """)
        #expect(strangers == 0, "each event goes to its own user's webhooks")
    }

    @Test func aStatementOfUsersWithoutSubscribedWebhooksWritesNothing() async throws {
        // `deletions` wants deletions only: its creations and updates make no event, nor do `noHooks`'.
        try await pool.query(
            """
            INSERT INTO weight_entries (user_id, recorded_on, weight, unit)
            SELECT u.id, date '2000-01-01' + d, 70, 'kg'
            FROM unnest(ARRAY[\(deletions), \(noHooks)]) AS u (id), generate_series(1, 1000) AS d
            """)
        try await pool.query("UPDATE weight_entries SET weight = 71")
        #expect(try await count("SELECT count(*) AS n FROM webhook_outbox") == 0)
        // Disabling its webhook silences `deletions` too.
        try await pool.query("UPDATE webhooks SET disabled_at = now() WHERE id = \(deletionsOnly)")
        try await pool.query("DELETE FROM weight_entries")
        #expect(try await count("SELECT count(*) AS n FROM webhook_outbox") == 0)
    }
}
