import Foundation
import HummingbirdTesting
import Postgres
import Testing

@testable import PrivateCluster

/// The `weighin` executable as an operator runs it: admin commands against DATABASE_URL, and settings checked at
/// start with one clear line.
@Suite("CLI: admin commands and settings")
struct CommandLineTests {
    /// Runs `weighin` with `arguments`; returns its exit status and output.
    func weighin(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let executable = try #require(MigrateCommandTests.executable, "the weighin executable is built with the tests")
        let output = try await ProcessRunner.run(executable.path, arguments)
        return (output.status, output.text)
    }

    func count(_ url: String, _ sql: SQL) async throws -> Int {
        let connection = try await PostgresConnection.connect(try PostgresConfiguration(conninfo: url))
        defer { connection.close() }
        return try await connection.query(sql)[0].decode(Int.self, at: 0)
    }

    @Test func usersListShowDeleteAndTokensRevoke() async throws {
        let (app, url) = try await TestApp.make()
        try await app.test(.router) { client in
            let ada = try await client.newUser()
            let bob = try await client.newUser()
            try await client.send(.post, "/v1/entries", token: ada.token, json: #"{"weight": 70, "recorded_on": "2024-01-01"}"#)

            let list = try await weighin(["users", "list", "--database-url", url, "--limit", "1"])
            #expect(list.status == 0, "\(list.output)")
            #expect(list.output.contains(min(ada.email, bob.email)))
            #expect(list.output.contains("next page: weighin users list --after"))

            let show = try await weighin(["users", "show", ada.email.uppercased(), "--database-url", url])
            #expect(show.status == 0)
            #expect(show.output.contains(ada.email) && show.output.contains("entries=1") && show.output.contains("tokens=1"))
            #expect(try await weighin(["users", "show", "nobody@example.com", "--database-url", url]).status != 0)

            let revoke = try await weighin(["tokens", "revoke", bob.email, "--database-url", url])
            #expect(revoke.status == 0 && revoke.output.contains("revoked 1 token"), "\(revoke.output)")
            #expect(try await client.send(.get, "/v1/me", token: bob.token).status == .unauthorized)

            // Without --yes and with no one to confirm, nothing is deleted.
            let refused = try await weighin(["users", "delete", ada.email, "--database-url", url])
            #expect(refused.status != 0)
            #expect(try await count(url, "SELECT count(*) FROM users WHERE email = \(ada.email)") == 1)

            let deleted = try await weighin(["users", "delete", ada.email, "--yes", "--database-url", url])
            #expect(deleted.status == 0 && deleted.output.contains("deleted \(ada.email) with 1 entries"), "\(deleted.output)")
            #expect(try await count(url, "SELECT count(*) FROM users WHERE email = \(ada.email)") == 0)
            #expect(try await count(url, "SELECT count(*) FROM weight_entries WHERE user_id = \(UUID(uuidString: ada.id)!)") == 0)
            #expect(try await client.send(.get, "/v1/me", token: ada.token).status == .unauthorized)
        }
    }

    @Test func commandsFailWithoutADatabase() async throws {
        let result = try await weighin(["users", "list"])
        #expect(result.status != 0)
        #expect(result.output.contains("DATABASE_URL"))
    }

    @Test(arguments: [
        (["serve", "--hash-cost", "3"], "hash cost"),
        (["serve", "--port", "0"], "port"),
        (["serve", "--pool-timeout", "soon"], "pool-timeout"),
        (["serve", "--production", "--hash-cost", "10", "--database-url", "postgres://x@127.0.0.1:1/x"], "at least 12"),
        (["serve", "--production"], "DATABASE_URL"),
        (["serve", "--production", "--cors-origins", "*", "--database-url", "postgres://x@127.0.0.1:1/x"], "CORS"),
    ])
    func unsafeOrInvalidSettingsStopTheServerWithOneLine(arguments: [String], expected: String) async throws {
        let result = try await weighin(arguments)
        #expect(result.status != 0)
        #expect(result.output.contains(expected), "\(arguments): \(result.output)")
    }

    @Test func serveHelpListsEverySetting() async throws {
        let help = try await weighin(["serve", "--help"])
        for name in ["DATABASE_URL", "WEIGHIN_PORT", "WEIGHIN_POOL_SIZE", "WEIGHIN_STATEMENT_TIMEOUT", "WEIGHIN_HASH_COST",
                     "WEIGHIN_TOKEN_LIFETIME", "WEIGHIN_LOG_LEVEL", "WEIGHIN_LOG_FORMAT", "WEIGHIN_CORS_ORIGINS",
                     "WEIGHIN_DRAIN_TIMEOUT", "WEIGHIN_PRODUCTION"] {
            #expect(help.output.contains(name), "serve --help lacks \(name)")
        }
    }
}
