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
        "failed_logins.record": "log-in counts its email's failures and finds the account by email: routed through "
            + "the email lookup of docs/SCALING.md (failed log-ins are keyed and distributed by email, not by user)",
        "failed_logins.forgive": "failed log-ins are keyed and distributed by email, not by user",
        "attempts.lock": "a transaction-scoped advisory lock on an email or user id: no table is touched",
        "tokens.announce_change": "a NOTIFY to every instance's listener: no table is touched",
        "users.insert": "registration checks email uniqueness; the new id is generated before routing",
        "server_secrets.cursor": "a reference table read once at start",
        "schema_migrations.list": "migrations, not requests",
        "maintenance.purge": "background clean-up, by design across all shards",
        "webhooks.claim": "the delivery worker claims due events of every user at once (docs/SCALING.md)",
        "tokens.revalidate": "background re-check of cached tokens, many users at once; each pair carries its user_id",
        "tokens.authenticate": "checked below: filtered by t.user_id",
    ]

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

    @Test func everyStatementOfEveryRouteCarriesTheUser() async throws {
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
            try await client.send(.post, "/v1/tokens", json: #"{"email": "\#(user.email)", "password": "wrong password"}"#)
            try await client.send(.get, "/readyz")
            try await client.send(.delete, "/v1/tokens/current", token: token)
            let other = try await client.newUser()
            try await client.send(.delete, "/v1/me", token: other.token)
        }
        let seen = statements.withLock { $0 }
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
}
