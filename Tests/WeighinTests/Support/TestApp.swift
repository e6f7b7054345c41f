import Foundation
import Hummingbird
import HummingbirdTesting
import Postgres
import WeighinHTTP
import WeighinService

/// Applications for route tests, each on a fresh migrated database, built by the same `buildApplication` as
/// `weighin serve`.
enum TestApp {
    /// A fast hash cost: tests check behaviour, not bcrypt's cost.
    static let service = ServiceConfiguration(passwordHashCost: 4, hashingThreads: 2)

    /// The settings of a test application: any free port, a small pool, fast hashing, no access log, and a request
    /// budget no test reaches (router tests all share one client key; the rate limit's own tests lower it).
    static func settings(poolSize: Int = 4) -> ServeSettings {
        var settings = ServeSettings()
        settings.port = 0
        settings.poolSize = poolSize
        settings.service = service
        settings.accessLog = false
        settings.rateLimit = 1_000_000
        settings.rateBurst = 1_000_000
        return settings
    }

    /// The application and its database URL.
    static func make(
        _ configure: (inout AppConfiguration) -> Void = { _ in }
    ) async throws -> (app: some ApplicationProtocol, databaseURL: String) {
        let url = try await TestCluster.makeDatabase()
        var configuration = AppConfiguration(
            settings: settings(), database: try PostgresConfiguration(conninfo: url), migrations: TestCluster.migrations)
        configure(&configuration)
        return (try await buildApplication(configuration), url)
    }
}

// MARK: - Running route tests

extension TestApp {
    /// Applications alive at once: each holds a pool and a LISTEN connection on the shared test cluster, so this
    /// keeps a parallel run far below the cluster's `max_connections` and the machine's cores.
    static let gate = TestGate(limit: 8)

    /// Builds an application on a fresh database (`make`) and runs `test` against it through Hummingbird's test
    /// client (`.router` sends requests straight to the router, `.live` starts a real server on a random port).
    static func run(
        _ setup: TestingSetup = .router, configure: (inout AppConfiguration) -> Void = { _ in },
        _ test: @Sendable (_ client: any TestClientProtocol, _ databaseURL: String) async throws -> Void
    ) async throws {
        try await gate.withPermit {
            let (app, databaseURL) = try await make(configure)
            try await app.test(setup) { client in try await test(client, databaseURL) }
        }
    }
}

/// A counting semaphore for async code (no thread ever blocks on it).
