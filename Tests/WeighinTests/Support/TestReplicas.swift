import Foundation
import Migrations
import Postgres
import Primitives
import PrivateCluster

/// A primary and a hot standby of it (`pg_basebackup -R`) for the read replica tests: started once, on first use,
/// migrated, and destroyed when the test process exits. Apart from the shared test cluster, so that the tests can
/// slow down, stop and start the standby.
enum TestReplicas {
    struct Pair: Sendable {
        let primary: PrivateCluster
        let standby: PrivateCluster

        /// The primary's weighin database.
        var primaryURL: String { primary.url(database: "weighin") }
        /// The standby's, as `--read-database-url` takes it.
        var standbyURL: String { standby.url(database: "weighin") + "&target_session_attrs=standby" }
    }

    private static let pair = Task<Pair, any Error> {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("weighin-replicas-\(getpid())-\(UUID().uuidString.prefix(8))")
        let primary = try await PrivateCluster.start(
            .init(directory: folder.appendingPathComponent("primary"), durable: false),
            log: { print("replica tests: \($0)") })
        started.append(primary)
        folderToRemove = folder
        atexit {
            for cluster in TestReplicas.started { cluster.destroyBlocking() }
            // The clusters' folders are inside it: without this, each test run left an empty folder behind.
            if let folder = TestReplicas.folderToRemove { try? FileManager.default.removeItem(at: folder) }
        }
        try await Migrator(
            migrations: TestCluster.migrations, configuration: try PostgresConfiguration(conninfo: primary.databaseURL)
        ).migrate()
        let standby = try await primary.startStandby(in: folder.appendingPathComponent("standby"))
        started.append(standby)
        return Pair(primary: primary, standby: standby)
    }

    nonisolated(unsafe) private static var started: [PrivateCluster] = []
    nonisolated(unsafe) private static var folderToRemove: URL?

    /// The running pair.
    static func running() async throws -> Pair {
        try await pair.value
    }

    /// Sets the standby's `recovery_min_apply_delay` (it replays each commit that long after the primary made it).
    static func delayReplay(by delay: Duration) async throws {
        let standby = try await running().standby
        try await PostgresConnection.withConnection(try PostgresConfiguration(conninfo: standby.databaseURL)) {
            try await $0.query(.unsafeSQL("ALTER SYSTEM SET recovery_min_apply_delay = '\(delay.milliseconds)ms'"))
            try await $0.query("SELECT pg_reload_conf()")
        }
    }
}
