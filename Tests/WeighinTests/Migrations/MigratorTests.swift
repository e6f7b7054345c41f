import Foundation
import Migrations
import Postgres
import Testing

@Suite("Migrations: applied once, in order, safely from many processes")
struct MigratorTests {
    func migrator(_ url: String, _ migrations: [Migration] = TestCluster.migrations) throws -> Migrator {
        Migrator(migrations: migrations, configuration: try PostgresConfiguration(conninfo: url))
    }

    @Test func theRepositoryHasOrderedMigrations() {
        let versions = TestCluster.migrations.map(\.version)
        #expect(versions == Array(1...versions.count))
        #expect(TestCluster.migrations[0].fileName.hasPrefix("0001_"))
    }

    @Test func applyingTwiceIsANoOp() async throws {
        let url = try await TestCluster.makeDatabase(migrated: false)
        let first = try await migrator(url).migrate()
        #expect(first.count == TestCluster.migrations.count)
        let second = try await migrator(url).migrate()
        #expect(second.isEmpty)
        let status = try await migrator(url).status()
        #expect(status.isCurrent)
        #expect(status.applied.map(\.version) == TestCluster.migrations.map(\.version))
        #expect(status.applied.map(\.checksum) == TestCluster.migrations.map(\.checksum))
    }

    @Test func statusOfAnEmptyDatabaseListsEverythingPendingAndCreatesNothing() async throws {
        let url = try await TestCluster.makeDatabase(migrated: false)
        let status = try await migrator(url).status()
        #expect(status.applied.isEmpty)
        #expect(status.pending.count == TestCluster.migrations.count)
        let connection = try await PostgresConnection.connect(try PostgresConfiguration(conninfo: url))
        defer { connection.close() }
        let exists = try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS e")
        #expect(try exists[0].decode(Bool.self, column: "e") == false)
    }

    @Test func concurrentRunsApplyEachFileOnce() async throws {
        let url = try await TestCluster.makeDatabase(migrated: false)
        let applied = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask { try await migrator(url).migrate().count }
            }
            return try await group.reduce(0, +)
        }
        #expect(applied == TestCluster.migrations.count)
    }

    @Test func aChangedFileIsRefusedByName() async throws {
        let url = try await TestCluster.makeDatabase(migrated: false)
        try await migrator(url).migrate()
        var edited = TestCluster.migrations
        let first = edited[0]
        edited[0] = Migration(version: first.version, name: first.name, sql: first.sql + "\n-- edited\n")
        let error = await #expect(throws: MigrationError.self) { try await migrator(url, edited).migrate() }
        #expect(error?.description.contains(first.fileName) == true)
        #expect(try await migrator(url, edited).status().changed.map(\.version) == [first.version])
    }

    @Test func aFailingFileIsRolledBackAndNamed() async throws {
        let url = try await TestCluster.makeDatabase(migrated: false)
        let broken = TestCluster.migrations + [
            Migration(version: 900, name: "broken", sql: "CREATE TABLE half_done (x int); SELECT * FROM no_such_table;")
        ]
        let error = await #expect(throws: MigrationError.self) { try await migrator(url, broken).migrate() }
        #expect(error?.description.contains("0900_broken.sql") == true)
        let connection = try await PostgresConnection.connect(try PostgresConfiguration(conninfo: url))
        defer { connection.close() }
        let table = try await connection.query("SELECT to_regclass('half_done') IS NULL AS gone")
        #expect(try table[0].decode(Bool.self, column: "gone"))
        #expect(try await migrator(url).status().isCurrent, "the files before it stay applied")
    }

    @Test func migrationFilesAreFoundAndValidated() throws {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("mig-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "SELECT 1;".write(to: folder.appendingPathComponent("0002_b.sql"), atomically: true, encoding: .utf8)
        try "SELECT 1;".write(to: folder.appendingPathComponent("0001_a.sql"), atomically: true, encoding: .utf8)
        #expect(try Migration.load(from: folder).map(\.fileName) == ["0001_a.sql", "0002_b.sql"])
        try "SELECT 1;".write(to: folder.appendingPathComponent("0002_twin.sql"), atomically: true, encoding: .utf8)
        #expect(throws: MigrationError.self) { try Migration.load(from: folder) }
        #expect(try Migration.locateDirectory(explicit: TestCluster.projectRoot.appendingPathComponent("sql").path)
            .lastPathComponent == "sql")
        #expect(throws: MigrationError.self) { try Migration.locateDirectory(explicit: "/no/such/folder") }
    }
}
