import Foundation

/// Where PostgreSQL's server programs (`initdb`, `pg_ctl`) live on this machine.
public struct PostgresBinaries: Sendable {
    /// The folder holding `initdb` and `pg_ctl`.
    public let directory: URL

    /// Finds the server programs: `$WEIGHIN_PG_BINDIR`, then `pg_config --bindir`, then the newest
    /// `/usr/lib/postgresql/*/bin` (Debian's layout, where `pg_config` may belong to the client package only).
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> PostgresBinaries
    {
        var candidates: [String] = []
        if let explicit = environment["WEIGHIN_PG_BINDIR"], !explicit.isEmpty { candidates.append(explicit) }
        if let output = try? ProcessRunner.runBlocking("pg_config", ["--bindir"]), output.status == 0 {
            candidates.append(output.text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
            candidates.append("/usr/lib/postgresql/\(version)/bin")
        }
        for candidate in candidates
        where FileManager.default.isExecutableFile(atPath: candidate + "/initdb")
            && FileManager.default.isExecutableFile(atPath: candidate + "/pg_ctl")
        {
            return PostgresBinaries(directory: URL(fileURLWithPath: candidate))
        }
        throw PrivateClusterError(
            "PostgreSQL server programs (initdb, pg_ctl) not found: install them with `apt-get install -y postgresql` "
                + "(or set WEIGHIN_PG_BINDIR), or set DATABASE_URL to use an existing server")
    }

    /// The path of one program.
    public func path(_ program: String) -> String {
        directory.appendingPathComponent(program).path
    }
}

/// A failure of the private cluster, as one line that says what to do.
public struct PrivateClusterError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
