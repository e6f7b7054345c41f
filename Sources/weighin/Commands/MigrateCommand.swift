import ArgumentParser
import Foundation
import Migrations
import Postgres

/// `weighin migrate [up|status]`: the operator's schema commands against DATABASE_URL.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply or list the schema migrations of sql/.",
        subcommands: [Up.self, Status.self],
        defaultSubcommand: Up.self)

    /// Where the database and the migrations are.
    struct Target: ParsableArguments {
        @Option(help: "PostgreSQL URL. [env: DATABASE_URL]")
        var databaseURL: String?

        @Option(help: "The migrations folder. [env: WEIGHIN_SQL_DIR] (default: sql/ beside Package.swift)")
        var sqlDir: String?

        func migrator() throws -> Migrator {
            guard let url = databaseURL ?? Environment.string("DATABASE_URL") else {
                throw ValidationError("set DATABASE_URL or pass --database-url")
            }
            let folder = try Migration.locateDirectory(explicit: sqlDir ?? Environment.string("WEIGHIN_SQL_DIR"))
            return Migrator(migrations: try Migration.load(from: folder), configuration: try PostgresConfiguration(conninfo: url))
        }
    }

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply every pending migration, each in its own transaction (safe to run from many processes).")

        @OptionGroup var target: Target

        func run() async throws {
            let applied = try await target.migrator().migrate()
            for migration in applied { print("applied \(migration.fileName)") }
            print(applied.isEmpty ? "the database is up to date" : "applied \(applied.count) migration(s)")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List applied and pending migrations.")

        @OptionGroup var target: Target

        func run() async throws {
            let status = try await target.migrator().status()
            let changed = Set(status.changed.map(\.version))
            for applied in status.applied {
                let mark = changed.contains(applied.version) ? "changed" : "applied"
                let when = applied.appliedAt.formatted(.iso8601)
                print("\(mark)  \(String(format: "%04d", applied.version))_\(applied.name).sql  \(when)")
            }
            for pending in status.pending { print("pending  \(pending.fileName)") }
            if !status.changed.isEmpty { throw ExitCode(1) }
        }
    }
}
