import Foundation
import HummingbirdTesting
import Postgres
import Testing
import WeighinHTTP

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

    @Test func migrateAndAdminCommandsTakeAMultiHostURL() async throws {
        let refused = try ClosedPort()
        let url = try await TestCluster.url(try await TestCluster.makeDatabase(), withFirst: refused.port)
            + "&target_session_attrs=read-write"
        let status = try await weighin(["migrate", "status", "--database-url", url])
        #expect(status.status == 0 && status.output.contains("applied") && !status.output.contains("pending"),
                "\(status.output)")
        let list = try await weighin(["users", "list", "--database-url", url])
        #expect(list.status == 0, "\(list.output)")
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
        (["serve", "--production", "--cors-origins", "*", "--database-url", "postgres://x@127.0.0.1:1/x", "--ops-port",
          "9091"], "CORS"),
        (["serve", "--production", "--database-url", "postgres://x@127.0.0.1:1/x"], "--ops-port"),
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

    @Test func theRequestBudgetIsSetByFlagOrEnvironmentAndChecked() async throws {
        let help = try await weighin(["serve", "--help"])
        #expect(help.output.contains("--rate-limit") && help.output.contains("WEIGHIN_RATE_LIMIT"))
        #expect(help.output.contains("--rate-burst") && help.output.contains("(default: 1000)"))
        let refused = try await weighin(["serve", "--rate-limit", "0"])
        #expect(refused.status != 0 && refused.output.contains("the rate limit must be at least 1"), "\(refused.output)")
        let settings = try ServeSettings.resolve(
            flags: ["rate-limit": "5"], environment: ["WEIGHIN_RATE_LIMIT": "7", "WEIGHIN_RATE_BURST": "9"])
        #expect(settings.rateLimit == 5 && settings.rateBurst == 9)
    }
}

/// `ServeSettings.resolve`: a flag wins over its environment variable, which wins over the default; flags and
/// environment values are read alike and refused with one line naming where the value came from.
@Suite("Settings: flags, environment and defaults")
struct ServeSettingsTests {
    @Test func aFlagWinsOverTheEnvironmentWhichWinsOverTheDefault() throws {
        let defaults = try ServeSettings.resolve(flags: [:], environment: [:])
        #expect(defaults.poolSize == ServeSettings().poolSize && defaults.port == 8080)
        let environment = ["WEIGHIN_POOL_SIZE": "12", "WEIGHIN_PORT": "9000", "WEIGHIN_TOKEN_LIFETIME": "2h"]
        let fromEnvironment = try ServeSettings.resolve(flags: [:], environment: environment)
        #expect(fromEnvironment.poolSize == 12 && fromEnvironment.port == 9000)
        #expect(fromEnvironment.service.tokenLifetime == .seconds(7200))
        let fromFlags = try ServeSettings.resolve(flags: ["pool-size": "3"], environment: environment)
        #expect(fromFlags.poolSize == 3 && fromFlags.port == 9000)
        let empty = try ServeSettings.resolve(flags: [:], environment: ["WEIGHIN_POOL_SIZE": ""])
        #expect(empty.poolSize == ServeSettings().poolSize, "an empty variable is unset")
    }

    @Test func valuesOfEveryKindAreRead() throws {
        let settings = try ServeSettings.resolve(
            flags: ["statement-timeout": "1.5s", "cors-origins": " https://a.example , https://b.example ,",
                    "access-log": "off", "prepared-statements": "unnamed", "log-format": "json", "migrate": "on"],
            environment: ["WEIGHIN_LOG_LEVEL": "debug", "WEIGHIN_PRODUCTION": "0"])
        #expect(settings.statementTimeout == .milliseconds(1500))
        #expect(settings.corsOrigins == ["https://a.example", "https://b.example"])
        #expect(!settings.accessLog && settings.preparedStatements == .unnamed && settings.logFormat == .json)
        #expect(settings.logLevel == .debug && settings.migrate && !settings.production)
    }

    @Test(arguments: [
        (["pool-size": "eight"], [String: String](), "--pool-size: 'eight'"),
        ([:], ["WEIGHIN_POOL_TIMEOUT": "soon"], "WEIGHIN_POOL_TIMEOUT: 'soon'"),
        ([:], ["WEIGHIN_ACCESS_LOG": "maybe"], "WEIGHIN_ACCESS_LOG: 'maybe'"),
        (["port": "-1"], [:], "--port: '-1'"),
        (["hash-cost": "3"], [:], "the hash cost must be from 4 to 16"),
        (["pool-size": "1", "max-imports": "2"], [:], "the import limit (2) must be from 1 to the pool size (1)"),
        (["pool-size": "2"], ["WEIGHIN_MAX_IMPORTS": "3"], "the import limit (3) must be from 1 to the pool size (2)"),
    ])
    func unreadableValuesAreRefusedWithOneLine(flags: [String: String], environment: [String: String], expected: String) {
        #expect {
            _ = try ServeSettings.resolve(flags: flags, environment: environment)
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    /// The import limit not given follows a pool smaller than its default (each import holds a connection), so a
    /// small pool alone starts; one given is kept as it is.
    @Test func theDefaultImportLimitIsClampedToThePoolSize() throws {
        #expect(try ServeSettings.resolve(flags: [:], environment: [:]).importLimit == ServeSettings.defaultMaxImports)
        #expect(try ServeSettings.resolve(flags: ["pool-size": "1"], environment: [:]).importLimit == 1)
        #expect(try ServeSettings.resolve(flags: ["pool-size": "1", "max-imports": "1"], environment: [:]).importLimit == 1)
        #expect(try ServeSettings.resolve(flags: ["max-imports": "5"], environment: [:]).importLimit == 5)
        #expect(ServeSettings.setting("max-imports").help.contains("(default: 2, or the pool size if smaller)"))
    }

    @Test func everySettingHasAFlagAndHelpWithItsDefault() {
        let flags = ServeSettings.catalog.map(\.flag)
        #expect(Set(flags).count == flags.count)
        #expect(ServeSettings.setting("pool-size").help.contains("(default: \(ServeSettings().poolSize))"))
        #expect(ServeSettings.setting("token-lifetime").help.contains("(default: 30d)"))
    }
}
