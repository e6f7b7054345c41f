import Foundation

/// Hot standbys of a private cluster, for the tests of read replicas.
extension PrivateCluster {
    /// Makes a hot standby of this cluster in `requested` with `pg_basebackup -R` (streaming replication from this
    /// cluster, its own port on 127.0.0.1, no socket) and starts it; `settings` are added to its configuration
    /// (`recovery_min_apply_delay = '2s'`). The standby's `databaseURL` names its `postgres` database.
    ///
    /// Why a copy of the password file for the server's user: the standby's WAL receiver (running as that user)
    /// reads it to log in to this cluster, and the client's own file may be closed to it (root's, mode 0600).
    public func startStandby(
        in requested: URL, settings: [String] = [], log: @Sendable (String) -> Void = { _ in }
    ) async throws -> PrivateCluster {
        let directory = try await Self.prepareDirectory(requested, user: user, log: log)
        let password = try String(contentsOf: passwordFile, encoding: .utf8)
        let standbyPasswords = directory.appendingPathComponent("pgpass")
        try Self.writePrivately(password, to: standbyPasswords, owner: user)
        var standby = PrivateCluster(
            directory: directory, port: 0, databaseURL: "", startedHere: true, binaries: binaries, user: user)
        try await run(
            "pg_basebackup",
            ["-D", standby.dataDirectory.path, "-R", "-X", "stream", "-c", "fast",
             "-d", "host=127.0.0.1 port=\(port) user=postgres passfile=\(standbyPasswords.path)"],
            failure: "pg_basebackup failed")
        let lines = ["unix_socket_directories = ''", "hot_standby = on"] + settings
        let file = standby.dataDirectory.appendingPathComponent("postgresql.conf")
        let handle = try FileHandle(forWritingTo: file)
        try handle.seekToEnd()
        let text = "\n# a hot standby (PrivateCluster.startStandby)\n" + lines.joined(separator: "\n") + "\n"
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
        let standbyPort = try await standby.startServer(preferredPort: nil)
        standby = PrivateCluster(
            directory: directory, port: standbyPort,
            databaseURL: Self.url(port: standbyPort, database: "postgres", passwordFile: standbyPasswords),
            startedHere: true, binaries: binaries, user: user)
        return standby
    }

    /// Starts the server again after `stop()`, on the same port.
    public func start() async throws {
        let logFile = directory.appendingPathComponent("postgres.log")
        try await run(
            "pg_ctl", ["-D", dataDirectory.path, "-l", logFile.path, "-w", "-t", "60", "-o", "-p \(port)", "start"],
            failure: "pg_ctl could not start PostgreSQL")
    }
}
