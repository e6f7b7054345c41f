import Foundation
import Migrations
import Postgres
import PrivateCluster

/// The throwaway PostgreSQL cluster of this test run: started once, on first use, by the same launcher
/// `weighin serve` uses, and destroyed when the test process exits.
enum TestCluster {
    /// The repository's root folder (this file is Tests/WeighinTests/Support/TestCluster.swift).
    static let projectRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The repository's migrations.
    static let migrations: [Migration] = {
        do {
            return try Migration.load(from: projectRoot.appendingPathComponent("sql"))
        } catch {
            fatalError("cannot load sql/: \(error)")
        }
    }()

    private static let cluster = Task<PrivateCluster, any Error> {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("weighin-tests-\(getpid())-\(UUID().uuidString.prefix(8))")
        let cluster = try await PrivateCluster.start(
            .init(directory: folder, database: "weighin_template", durable: false),
            log: { print("test cluster: \($0)") })
        started = cluster
        atexit {
            TestCluster.started?.destroyBlocking()
        }
        // A migrated template makes each test database a cheap copy.
        let template = try PostgresConfiguration(conninfo: cluster.databaseURL)
        try await Migrator(migrations: migrations, configuration: template).migrate()
        return cluster
    }

    nonisolated(unsafe) private static var started: PrivateCluster?

    /// The running cluster.
    static func running() async throws -> PrivateCluster {
        try await cluster.value
    }

    /// The URL of the cluster's `postgres` database, for administrative statements.
    static func adminURL() async throws -> String {
        try await running().url(database: "postgres")
    }

    /// A new database of its own for one test or suite: migrated (a copy of the template) or empty.
    static func makeDatabase(migrated: Bool = true) async throws -> String {
        let cluster = try await running()
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let admin = try await PostgresConnection.connect(try PostgresConfiguration(conninfo: try await adminURL()))
        defer { admin.close() }
        let create: SQL = migrated
            ? "CREATE DATABASE \(identifier: name) TEMPLATE weighin_template"
            : "CREATE DATABASE \(identifier: name)"
        // The template may still have a closing session (55006 object_in_use) for a moment after migrating.
        for attempt in 1... {
            do {
                try await admin.query(create)
                break
            } catch let error as PostgresError where error.code == "55006" && attempt < 100 {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        return cluster.url(database: name)
    }

    /// Runs `body` with a cluster of its own, in a new folder: for a test that restarts or reconfigures its server,
    /// which would disturb every other test on the shared one. Destroyed when `body` ends, also when it throws.
    static func withOwnCluster<T>(named name: String, _ body: (PrivateCluster) async throws -> T) async throws -> T {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("weighin-\(name)-\(getpid())-\(UUID().uuidString.prefix(8))")
        let cluster = try await PrivateCluster.start(.init(directory: folder, durable: false))
        do {
            let value = try await body(cluster)
            await cluster.destroy()
            return value
        } catch {
            await cluster.destroy()
            throw error
        }
    }

    /// A pool on a new database.
    static func makePool(
        migrated: Bool = true, size: Int = 4, acquireTimeout: Duration = .seconds(30), maxWaiters: Int = 1024,
        statementTimeout: Duration? = nil
    ) async throws -> PostgresPool {
        try makePool(
            on: try await makeDatabase(migrated: migrated), size: size, acquireTimeout: acquireTimeout,
            maxWaiters: maxWaiters, statementTimeout: statementTimeout)
    }

    /// A pool on a database the test made itself, with the same defaults: for a set-up that must run on another
    /// connection first.
    static func makePool(
        on url: String, size: Int = 4, acquireTimeout: Duration = .seconds(30), maxWaiters: Int = 1024,
        statementTimeout: Duration? = nil
    ) throws -> PostgresPool {
        PostgresPool(
            configuration: .init(
                connection: try PostgresConfiguration(conninfo: url, statementTimeout: statementTimeout),
                size: size, acquireTimeout: acquireTimeout, maxWaiters: maxWaiters))
    }
}
