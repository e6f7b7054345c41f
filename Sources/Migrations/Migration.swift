import Crypto
import Foundation
import Primitives

/// One schema change: a file `NNNN_name.sql` of the repository's `sql/` folder.
public struct Migration: Sendable, Equatable {
    /// The number that orders migrations (`0001` is 1).
    public let version: Int
    /// The part of the file name after the number, without `.sql`.
    public let name: String
    /// The file's SQL text; its statements (`statements`) run one by one in one transaction.
    public let sql: String
    /// SHA-256 of the file's bytes in hex: a file changed after it was applied is refused.
    public let checksum: String

    /// The file's statements in order, as the migrator sends them.
    public var statements: [SQLStatement] {
        SQLStatements.split(sql)
    }

    /// The file name, e.g. `0001_users_and_entries.sql`.
    public var fileName: String {
        String(format: "%04d_%@.sql", version, name)
    }

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = Hex.encode(SHA256.hash(data: Data(sql.utf8)))
    }

    /// Reads the migrations of `directory` in version order. Files not named `NNNN_name.sql` are an error, as are
    /// two files with one number.
    public static func load(from directory: URL) throws -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw MigrationError("cannot read the migrations folder \(directory.path): \(error.localizedDescription)")
        }
        var migrations: [Migration] = []
        for file in names.sorted() where file.hasSuffix(".sql") {
            let stem = file.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]), version > 0,
                stem[..<underscore].allSatisfy(\.isASCII), stem.index(after: underscore) < stem.endIndex
            else {
                throw MigrationError("migration file \(file) is not named NNNN_name.sql")
            }
            if let twin = migrations.first(where: { $0.version == version }) {
                throw MigrationError("migration files \(twin.fileName) and \(file) have the same number")
            }
            let sql: String
            do {
                sql = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            } catch {
                throw MigrationError("cannot read migration \(file): \(error.localizedDescription)")
            }
            migrations.append(Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql))
        }
        return migrations.sorted { $0.version < $1.version }
    }

    /// Finds the `sql/` folder: `explicit` (from `--sql-dir` or `$WEIGHIN_SQL_DIR`), else the nearest `sql/` folder
    /// beside a `Package.swift` above the working directory or above the executable (`.build/debug/weighin`).
    public static func locateDirectory(explicit: String? = nil) throws -> URL {
        if let explicit, !explicit.isEmpty {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: explicit, isDirectory: &isDirectory), isDirectory.boolValue
            else { throw MigrationError("the migrations folder \(explicit) does not exist") }
            return URL(fileURLWithPath: explicit)
        }
        let starts = [
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
            URL(fileURLWithPath: CommandLine.arguments.first ?? "/").resolvingSymlinksInPath().deletingLastPathComponent(),
        ]
        for start in starts {
            var folder = start.standardizedFileURL
            while true {
                let candidate = folder.appendingPathComponent("sql")
                if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path),
                    FileManager.default.fileExists(atPath: candidate.path)
                {
                    return candidate
                }
                let parent = folder.deletingLastPathComponent()
                if parent.path == folder.path { break }
                folder = parent
            }
        }
        throw MigrationError(
            "cannot find the migrations folder sql/: run from the project folder, or set WEIGHIN_SQL_DIR / --sql-dir")
    }
}

/// A migration failure, as one line naming the file at fault.
public struct MigrationError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
