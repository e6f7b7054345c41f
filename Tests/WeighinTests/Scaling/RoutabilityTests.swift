import Foundation
import HTTPTypes
import HummingbirdTesting
import Postgres
import Synchronization
import Testing

/// Every statement the service runs for a user's request carries that user's id, so it can be routed to one shard
/// when the database is sharded by user (docs/SCALING.md). This suite drives every route, records each statement
/// sent, and fails on any that does not say which user it is for, except the few listed with their reason.
@Suite("Scaling: every statement is routable by user_id")
struct RoutabilityTests {
    /// Statements that are not by user, each with the reason they are allowed (mirrored in docs/SCALING.md).
    static let exceptions: [String: String] = [
        "failed_logins.record": "log-in counts its email's failures, records the attempt and reads the account's id "
            + "from user_emails: both tables are keyed and distributed by email (checked below)",
        "failed_logins.forgive": "failed log-ins are keyed and distributed by email, not by user",
        "user_emails.find": "the admin commands' email lookup: keyed and distributed by email",
        "user_emails.insert": "registration and email change claim the email on its own key (the email's shard)",
        "user_emails.delete": "email change and account deletion release the email on its own key",
        "attempts.lock": "a transaction-scoped advisory lock on an email or user id: no table is touched",
        "tokens.announce_change": "a NOTIFY to every instance's listener: no table is touched",
        "users.insert": "the new id is generated (on the coordinator, by the column's default) before routing",
        "server_secrets.cursor": "a reference table read once at start",
        "schema_migrations.list": "migrations, not requests",
        "maintenance.purge": "background clean-up, by design across all shards",
        "webhooks.claim": "the delivery worker claims due events of every user at once (docs/SCALING.md)",
        "tokens.revalidate": "background re-check of cached tokens, many users at once: a join of the (user_id, "
            + "token_hash) pairs, pushed down to every shard (RevalidationPlanTests)",
        "tokens.authenticate": "checked below: filtered by t.user_id",
    ]

    /// Tables keyed and distributed by email: a statement on them is routed by the email it names.
    static let emailKeyedTables: Set<String> = ["failed_logins", "user_emails"]

    /// Transaction control and health checks carry no data.
    static let plumbing: Set<String> = ["BEGIN", "COMMIT", "ROLLBACK", "SELECT 1",
                                        "SELECT to_regclass('schema_migrations') IS NOT NULL AS present"]

    /// Whether a statement's text restricts it to one user: `user_id = $n` (any alias), or `users ... id = $n`.
    static func isRoutable(_ text: String) -> Bool {
        let flat = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        if flat.range(of: #"\buser_id\s*=\s*\$\d+"#, options: .regularExpression) != nil { return true }
        if flat.range(of: #"\bFROM users\b.*\bWHERE id = \$\d+"#, options: .regularExpression) != nil { return true }
        if flat.range(of: #"\bUPDATE users\b.*\bWHERE id = \$\d+"#, options: .regularExpression) != nil { return true }
        if flat.range(of: #"\bDELETE FROM users WHERE id = \$\d+"#, options: .regularExpression) != nil { return true }
        if flat.range(of: #"^INSERT INTO (weight_entries|auth_tokens|idempotency_keys|goals) \(user_id,"#, options: .regularExpression) != nil {
            return true  // routed by the user_id value inserted
        }
        if flat.hasPrefix("COPY weight_entries (user_id,") { return true }
        return false
    }

    @Test func theRuleRejectsAStatementWithoutAUser() {
        #expect(!Self.isRoutable("SELECT id FROM weight_entries WHERE id = $1"))
        #expect(Self.isRoutable("SELECT id FROM weight_entries WHERE id = $1 AND user_id = $2"))
        #expect(!Self.isRoutable("DELETE FROM users WHERE lower(email) = lower($1)"))
        #expect(Self.isRoutable("INSERT INTO auth_tokens (user_id, token_hash) VALUES ($1, $2)"))
    }

    /// The statements of a run over every route, by name (the text when unnamed): run once, read by each test.
    static let scenario = Task { try await runEveryRoute() }

    static func runEveryRoute() async throws -> [String: String] {
        let statements = Mutex<[String: String]>([:])
        let (app, _) = try await TestApp.make { configuration in
            configuration.database.onStatement = { sql in
                statements.withLock { $0[sql.name ?? sql.text] = sql.text }
            }
        }
        try await app.test(.router) { client in
            let user = try await client.newUser()
            let token = user.token
            try await client.send(.get, "/v1/me", token: token)
            try await client.send(.patch, "/v1/me", token: token, json: #"{"name": "Renamed", "weight_unit": "lb"}"#)
            let moved = uniqueEmail("moved")
            try await client.send(.patch, "/v1/me", token: token, json: #"{"email": \#(jsonText(moved))}"#)
            let created = try await client.send(
                .post, "/v1/entries", token: token, json: #"{"weight": 80, "recorded_on": "2024-01-02"}"#)
            let id = try #require(created.json["id"]?.stringValue)
            try await client.send(
                .post, "/v1/entries", token: token, json: #"{"weight": 81, "recorded_on": "2024-01-03"}"#,
                headers: [.init("Idempotency-Key")!: "k1"])
            try await client.send(
                .post, "/v1/entries", token: token, json: #"{"weight": 81, "recorded_on": "2024-01-03"}"#,
                headers: [.init("Idempotency-Key")!: "k1"])
            try await client.send(.get, "/v1/entries/\(id)", token: token)
            try await client.send(.patch, "/v1/entries/\(id)", token: token, json: #"{"note": "x"}"#)
            let page = try await client.send(.get, "/v1/entries?limit=1", token: token)
            let cursor = try #require(page.json["next_cursor"]?.stringValue)
            try await client.send(.get, "/v1/entries?limit=1&cursor=\(cursor)", token: token)
            try await client.execute(
                uri: "/v1/entries/import", method: .post,
                headers: [.authorization: "Bearer \(token)", .contentType: "text/csv"],
                body: .init(string: "recorded_on,weight\r\n" + (1...1500).map { "2020-01-01,\(60 + $0 % 30)" }.joined(separator: "\r\n")))
            try await client.send(.get, "/v1/entries/export", token: token)
            try await client.send(.get, "/v1/stats", token: token)
            try await client.send(.get, "/v1/trend", token: token)
            try await client.send(.get, "/v1/trend?method=ema", token: token)
            try await client.send(.put, "/v1/goal", token: token, json: #"{"target_weight": 70}"#)
            try await client.send(.get, "/v1/goal/progress", token: token)
            try await client.send(.get, "/v1/goal", token: token)
            try await client.send(.delete, "/v1/goal", token: token)
            let feed = try await client.send(.get, "/v1/changes?limit=2", token: token)
            let feedCursor = try #require(feed.json["next_cursor"]?.stringValue)
            try await client.send(.get, "/v1/changes?cursor=\(feedCursor)", token: token)
            let put = #"{"weight": 80, "recorded_on": "2024-01-04", "client_version": 1}"#
            try await client.send(.put, "/v1/entries/by-client-id/d1", token: token, json: put)
            try await client.send(.put, "/v1/entries/by-client-id/d1", token: token, json: put)
            try await client.send(
                .put, "/v1/entries/by-client-id/d1", token: token,
                json: #"{"weight": 81, "recorded_on": "2024-01-04", "client_version": 2}"#)
            try await client.send(.patch, "/v1/entries/\(id)", token: token, json: #"{"note": "y"}"#, headers: [.ifMatch: "*"])
            try await client.send(.delete, "/v1/entries/\(id)", token: token, headers: [.ifMatch: "*"])
            try await client.send(.delete, "/v1/entries/\(id)", token: token)
            let personal = try await client.send(
                .post, "/v1/me/tokens", token: token, json: #"{"name": "Scale", "scope": "read"}"#)
            let personalToken = try #require(personal.json["token"]?.stringValue)
            try await client.send(.get, "/v1/me", token: personalToken)
            try await client.send(.get, "/v1/me/tokens", token: token)
            try await client.send(.delete, "/v1/me/tokens/\(try #require(personal.json["id"]?.stringValue))", token: token)
            try await client.send(
                .put, "/v1/me/password", token: token,
                json: #"{"current_password": "correct horse", "new_password": "another horse"}"#)
            try await client.send(.post, "/v1/tokens", json: #"{"email": "\#(moved)", "password": "wrong password"}"#)
            try await client.send(.get, "/readyz")
            try await client.send(.delete, "/v1/tokens/current", token: token)
            let other = try await client.newUser()
            try await client.send(.delete, "/v1/me", token: other.token)
        }
        return statements.withLock { $0 }
    }

    @Test func everyStatementOfEveryRouteCarriesTheUser() async throws {
        let seen = try await Self.scenario.value
        #expect(seen.count >= 20, "the scenario ran too few statements: \(seen.keys.sorted())")
        var unnamed: [String] = []
        var unrouted: [String] = []
        for (name, text) in seen where !Self.plumbing.contains(text) {
            if name == text && !text.hasPrefix("COPY ") && !text.hasPrefix("LISTEN ") { unnamed.append(text) }
            if Self.exceptions[name] == nil || name == "tokens.authenticate", !Self.isRoutable(text),
                !text.hasPrefix("LISTEN ")
            {
                unrouted.append("\(name): \(text)")
            }
        }
        #expect(unnamed.isEmpty, "statements without a name: \(unnamed)")
        #expect(unrouted.isEmpty, "statements not routable by user_id: \(unrouted)")
    }

    /// The tables a statement reads or writes, by name.
    static func tables(of text: String) -> Set<String> {
        let flat = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let pattern = /\b(?:FROM|JOIN|INTO|UPDATE)\s+([a-z_]+)\b(?!\s*\()/
        return Set(flat.matches(of: pattern).map { String($0.output.1) })
    }

    @Test func statementsByEmailTouchOnlyTablesKeyedByEmail() async throws {
        #expect(Self.tables(of: "SELECT extract(epoch FROM min(a)) FROM counted LEFT JOIN users u ON u.email = $1")
            == ["counted", "users"])
        let seen = try await Self.scenario.value
        let byEmail = seen.filter { $0.key.hasPrefix("failed_logins.") || $0.key.hasPrefix("user_emails.") }
        #expect(Set(byEmail.keys).isSuperset(of: ["failed_logins.record", "user_emails.insert", "user_emails.delete"]))
        for (name, text) in byEmail {
            // Common table expressions of the statement itself are not tables.
            let named = Set(text.matches(of: /\b([a-z_]+) AS \(/).map { String($0.output.1) })
            let touched = Self.tables(of: text).subtracting(named)
            #expect(touched.isSubset(of: Self.emailKeyedTables), "\(name) touches \(touched.sorted())")
        }
    }

    /// Whether `text` calls a function that is not IMMUTABLE, or adds an interval to a timestamptz (STABLE: it
    /// depends on the time zone).
    static func callsMutable(_ text: some StringProtocol) -> Bool {
        let pattern = #"(?i)\b(?:now|clock_timestamp|statement_timestamp|transaction_timestamp|random|gen_random_uuid|nextval|current_setting|weighin_change_seq)\s*\(|\bcurrent_(?:timestamp|date|time)\b|\blocaltimestamp\b|[-+]\s*(?:interval|make_interval)\b"#
        return text.range(of: pattern, options: .regularExpression) != nil
    }

    /// Citus refuses an `INSERT ... ON CONFLICT DO UPDATE` on a distributed table whose SET or WHERE calls a function
    /// that is not IMMUTABLE (0A000); the service takes the time from the inserted row (`excluded.created_at`).
    @Test func onConflictClausesCallOnlyImmutableFunctions() async throws {
        #expect(Self.callsMutable("SET created_at = now() WHERE x"))
        #expect(Self.callsMutable("WHERE idempotency_keys.created_at < excluded.created_at - interval '24 hours'"))
        #expect(!Self.callsMutable(
            "SET created_at = excluded.created_at WHERE excluded.created_at - t.created_at > interval '1 day'"))
        let seen = try await Self.scenario.value
        let upserts = seen.filter { $0.value.contains("ON CONFLICT") }
        #expect(Set(upserts.keys) == ["idempotency.claim", "goals.upsert"], "the scenario sends every upsert")
        for (name, text) in upserts {
            let clause = String(text[text.range(of: "ON CONFLICT")!.upperBound...])
            let conflict = clause.components(separatedBy: "RETURNING")[0].replacing(/--[^\n]*/, with: "")
            #expect(!Self.callsMutable(conflict), "\(name): \(conflict)")
        }
    }

    /// A notification sent from inside a statement that changes rows would run on the worker that holds them when
    /// sharded, and the instances listen on the coordinator: every `pg_notify` is its own statement, sent after the
    /// change committed (`TokenService.announceChange`), and no migration notifies from a trigger or function.
    @Test func notificationsAreStatementsOfTheirOwn() async throws {
        let seen = try await Self.scenario.value
        let notifying = seen.filter { $0.value.range(of: #"(?i)\b(pg_notify|NOTIFY)\b"#, options: .regularExpression) != nil }
        #expect(notifying == ["tokens.announce_change": "SELECT pg_notify($1, $2)"])
        for migration in TestCluster.migrations {
            #expect(migration.sql.range(of: #"(?i)\b(pg_notify|NOTIFY)\b"#, options: .regularExpression) == nil,
                    "\(migration.fileName)")
        }
    }
}
