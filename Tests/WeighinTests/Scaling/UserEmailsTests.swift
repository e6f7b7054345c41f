import Foundation
import HummingbirdTesting
import Migrations
import Postgres
import Testing
import WeighinService

/// `user_emails` (sql/0009) is the email → account table that a database sharded by user needs (docs/SCALING.md):
/// it alone keeps an email to one account there, and log-in and the admin commands find accounts through it. These
/// tests run the service with `users`' own unique index dropped, as on Citus, and check that the table is written
/// with every change of an account's email and read by every lookup by email.
@Suite("Scaling: emails through user_emails")
struct UserEmailsTests {
    /// Drops the unique index of `users` on `lower(email)`, as the Citus plan does: only user_emails is left to
    /// refuse a taken email.
    func dropUsersEmailIndex(_ databaseURL: String) async throws {
        try await TestDatabase.query(databaseURL, "DROP INDEX users_email_key")
    }

    func emailRows(_ databaseURL: String) async throws -> [String: String] {
        let rows = try await TestDatabase.query(databaseURL, "SELECT email, user_id FROM user_emails")
        var found: [String: String] = [:]
        for row in rows {
            found[try row.decode(String.self, column: "email")] = try row.decode(UUID.self, column: "user_id")
                .uuidString.lowercased()
        }
        return found
    }

    @Test func aTakenEmailIsRefusedByUserEmailsWithTheSameProblem() async throws {
        // The answer for a taken email with users' own index in place (one server) ...
        let expected = try await withTestApp { client, _ in
            let email = uniqueEmail()
            _ = try await client.register(email: email, password: "correct horse")
            return try await client.register(email: email.uppercased(), password: "other password")
        }
        try await TestApp.run { client, databaseURL in
            try await dropUsersEmailIndex(databaseURL)
            let email = uniqueEmail()
            #expect(try await client.register(email: email, password: "correct horse").status == .created)
            // ... is the answer without it, at registration, in any case and spacing ...
            let again = try await client.register(email: "  " + email.uppercased(), password: "other password")
            expectProblem(again, .conflict, "email_taken")
            #expect(again.json.removing(["request_id"]) == expected.json.removing(["request_id"]))
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM users") == 1)
            // ... and at an email change, which changes nothing else.
            let other = try await client.newUser()
            let before = try await client.send(.get, "/v1/me", token: other.token)
            let taken = try await client.send(
                .patch, "/v1/me", token: other.token, json: #"{"email": \#(jsonText(email)), "name": "Thief"}"#)
            expectProblem(taken, .conflict, "email_taken")
            #expect(taken.json.removing(["request_id"]) == expected.json.removing(["request_id"]))
            #expect(try await client.send(.get, "/v1/me", token: other.token).json == before.json)
            #expect(try await emailRows(databaseURL)[other.email] == other.id)
        }
    }

    @Test func concurrentClaimsOfOneEmailLeaveOneAccount() async throws {
        try await TestApp.run { client, databaseURL in
            try await dropUsersEmailIndex(databaseURL)
            let email = uniqueEmail()
            let spellings = [email, email.uppercased(), " " + email, email.capitalized, email + " ", "\t" + email]
            let answers = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for spelling in spellings {
                    group.addTask { try await client.register(email: spelling, password: "correct horse") }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.filter { $0.status == .created }.count == 1)
            for answer in answers where answer.status != .created { expectProblem(answer, .conflict, "email_taken") }
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM users") == 1)
            // Two accounts moving to one new email at once: one gets it.
            let a = try await client.newUser()
            let b = try await client.newUser()
            let target = uniqueEmail("target")
            let moves = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for (token, spelling) in [(a.token, target), (b.token, target.uppercased())] {
                    group.addTask {
                        try await client.send(.patch, "/v1/me", token: token, json: #"{"email": \#(jsonText(spelling))}"#)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(moves.filter { $0.status == .ok }.count == 1)
            #expect(moves.filter { $0.status == .conflict }.count == 1)
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM users WHERE email = \(target)") == 1)
            let rows = try await emailRows(databaseURL)
            #expect(rows.count == 3, "one row per account: \(rows)")
            #expect(rows[target] == a.id || rows[target] == b.id)
        }
    }

    @Test func registrationEmailChangeAndDeletionKeepTheTableInStep() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            #expect(try await emailRows(databaseURL) == [user.email: user.id])
            // The same email in another case is no change.
            let same = try await client.send(
                .patch, "/v1/me", token: user.token, json: #"{"email": \#(jsonText(user.email.uppercased()))}"#)
            #expect(same.status == .ok)
            #expect(try await emailRows(databaseURL) == [user.email: user.id])
            // A new one replaces the old, which is free again.
            let moved = uniqueEmail("moved")
            let changed = try await client.send(.patch, "/v1/me", token: user.token, json: #"{"email": \#(jsonText(moved))}"#)
            #expect(changed.status == .ok)
            #expect(try await emailRows(databaseURL) == [moved: user.id])
            let taker = try await client.register(email: user.email, password: "correct horse")
            #expect(taker.status == .created)
            let takerID = try #require(taker.json["id"]?.stringValue)
            #expect(try await emailRows(databaseURL) == [moved: user.id, user.email: takerID])
            // Deleting the account removes its email with everything else of it.
            #expect(try await client.send(.delete, "/v1/me", token: user.token).status == .noContent)
            #expect(try await emailRows(databaseURL) == [user.email: takerID])
            #expect(try await client.register(email: moved, password: "correct horse").status == .created)
        }
    }

    @Test func logInAndTheAdminCommandsFindAccountsThroughUserEmails() async throws {
        let url = try await TestCluster.makeDatabase()
        let pool = PostgresPool(configuration: .init(connection: try PostgresConfiguration(conninfo: url), size: 2))
        defer { pool.close() }
        let services = try await WeighinServices(pool: pool, configuration: TestApp.service)
        func register(_ email: String) async throws -> User {
            try await services.accounts.register(Registration(email: email, name: "Found", password: "correct horse"))
        }
        let kept = try await register(uniqueEmail("kept"))
        let lost = try await register(uniqueEmail("lost"))
        _ = try await services.accounts.logIn(email: lost.email.uppercased(), password: "correct horse")
        #expect(try await services.admin.account(email: " " + kept.email.uppercased())?.user == kept)
        // Without its row in user_emails an account cannot be found by email, whatever users.email says.
        try await TestDatabase.query(url, "DELETE FROM user_emails WHERE user_id = \(lost.id)")
        await #expect(throws: ServiceError.self) {
            try await services.accounts.logIn(email: lost.email, password: "correct horse")
        }
        #expect(try await services.admin.account(email: lost.email) == nil)
        #expect(try await services.admin.revokeTokens(email: lost.email) == nil)
        #expect(try await services.admin.deleteAccount(email: lost.email) == false)
        #expect(try await TestDatabase.count(url, "SELECT count(*) AS n FROM users WHERE id = \(lost.id)") == 1)
        // Deleting by email removes the account and its email.
        #expect(try await services.admin.deleteAccount(email: kept.email.uppercased()))
        #expect(try await TestDatabase.count(url, "SELECT count(*) AS n FROM users WHERE id = \(kept.id)") == 0)
        #expect(try await emailRows(url).isEmpty)
    }

    @Test func theMigrationFillsTheTableFromExistingAccounts() async throws {
        let url = try await TestCluster.makeDatabase(migrated: false)
        let configuration = try PostgresConfiguration(conninfo: url)
        let before = TestCluster.migrations.filter { $0.version < 9 }
        try await Migrator(migrations: before, configuration: configuration).migrate()
        let first = UUID()
        let second = UUID()
        try await TestDatabase.query(
            url,
            """
            INSERT INTO users (id, email, name, password_hash)
            VALUES (\(first), 'ada@example.com', 'Ada', 'x'), (\(second), 'Grace@Example.com', 'Grace', 'x')
            """)
        try await Migrator(migrations: TestCluster.migrations, configuration: configuration).migrate()
        #expect(
            try await emailRows(url)
                == ["ada@example.com": first.uuidString.lowercased(), "grace@example.com": second.uuidString.lowercased()])
    }

    /// Runs `body` against a fresh application and returns what it returns.
    func withTestApp<T: Sendable>(
        _ body: @Sendable (any TestClientProtocol, String) async throws -> T
    ) async throws -> T {
        let (app, databaseURL) = try await TestApp.make()
        return try await app.test(.router) { client in try await body(client, databaseURL) }
    }
}
