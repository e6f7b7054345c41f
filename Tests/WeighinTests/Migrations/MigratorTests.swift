import Foundation
import Migrations
import Postgres
import Testing

@testable import PrivateCluster

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

    @Test func aFileRunsOneStatementAtATimeInOneTransaction() async throws {
        let url = try await TestCluster.makeDatabase(migrated: false)
        let file = Migration(
            version: 900, name: "one_by_one",
            sql: """
                CREATE TABLE seen (n serial, query text, xact xid8);
                -- a comment; with a semicolon
                INSERT INTO seen (query, xact) SELECT current_query(), pg_current_xact_id();
                INSERT INTO seen (query, xact) VALUES ($$;$$ || current_query(), pg_current_xact_id());
                """)
        try await migrator(url, TestCluster.migrations + [file]).migrate()
        let connection = try await PostgresConnection.connect(try PostgresConfiguration(conninfo: url))
        defer { connection.close() }
        let rows = try await connection.query("SELECT query, xact::text AS xact FROM seen ORDER BY n")
        // current_query() is the text the server received: each statement alone, not the file.
        #expect(try rows.map { try $0.decode(String.self, column: "query") } == [
            "INSERT INTO seen (query, xact) SELECT current_query(), pg_current_xact_id()",
            ";INSERT INTO seen (query, xact) VALUES ($$;$$ || current_query(), pg_current_xact_id())",
        ])
        #expect(Set(try rows.map { try $0.decode(String.self, column: "xact") }).count == 1, "one transaction")
    }

    @Test func aFailingStatementIsNamedByItsLine() async throws {
        let url = try await TestCluster.makeDatabase(migrated: false)
        let broken = TestCluster.migrations + [
            Migration(version: 901, name: "third_line", sql: "CREATE TABLE a (x int);\n\nSELECT 'a;b', * FROM nowhere;\n")
        ]
        let error = await #expect(throws: MigrationError.self) { try await migrator(url, broken).migrate() }
        #expect(error?.description.contains("0901_third_line.sql") == true)
        #expect(error?.description.contains("line 3") == true, "\(String(describing: error))")
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

@Suite("Migrations: `weighin migrate` from several processes")
struct MigrateCommandTests {
    /// The `weighin` executable built beside the test bundle.
    static var executable: URL? {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates = [folder, folder.deletingLastPathComponent()].map { $0.appendingPathComponent("weighin") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    @Test func fourProcessesAtOnceApplyEachFileOnce() async throws {
        let weighin = try #require(Self.executable, "the weighin executable is built with the tests")
        let url = try await TestCluster.makeDatabase(migrated: false)
        let outputs = try await withThrowingTaskGroup(of: (Int32, String).self) { group in
            for _ in 0..<4 {
                group.addTask {
                    // posix_spawn-based: Foundation's Process can miss an exit when several run at once.
                    let output = try await ProcessRunner.run(
                        weighin.path,
                        ["migrate", "--database-url", url,
                         "--sql-dir", TestCluster.projectRoot.appendingPathComponent("sql").path])
                    return (output.status, output.text)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outputs.allSatisfy { $0.0 == 0 }, "\(outputs)")
        let appliedLines = outputs.flatMap { $0.1.split(separator: "\n") }.filter { $0.hasPrefix("applied 0") }
        #expect(appliedLines.count == TestCluster.migrations.count, "each file applied by exactly one process: \(outputs)")
        let connection = try await PostgresConnection.connect(try PostgresConfiguration(conninfo: url))
        defer { connection.close() }
        let rows = try await connection.query("SELECT count(*) AS n, count(DISTINCT version) AS d FROM schema_migrations")
        #expect(try rows[0].decode(Int.self, column: "n") == TestCluster.migrations.count)
        #expect(try rows[0].decode(Int.self, column: "d") == TestCluster.migrations.count)
    }
}
