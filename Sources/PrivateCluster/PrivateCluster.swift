import Foundation
import Postgres
import Primitives

#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster of the project's own, in a folder it owns: created with `initdb` on first use,
/// started with `pg_ctl`, listening on 127.0.0.1 (and on a socket in its folder) only.
///
/// It lets `weighin serve` and the test suite run on a fresh machine with no database set up. Every connection
/// needs the password (SCRAM-SHA-256), a random one kept in the folder's `pgpass` file (mode 0600) that
/// `databaseURL` names, so no other local user or process becomes the database superuser. As root (CI), PostgreSQL
/// refuses to run, so the cluster runs as the `postgres` user, in a folder that user can reach.
public struct PrivateCluster: Sendable {
    public struct Options: Sendable {
        /// The cluster's folder (its data and log go inside).
        public var directory: URL
        /// The database to create and connect to.
        public var database: String
        /// The port to use when it is free; nil or taken means any free port.
        public var preferredPort: Int?
        /// false turns off fsync and synchronous commit: for throwaway test clusters only.
        public var durable: Bool

        public init(directory: URL, database: String = "weighin", preferredPort: Int? = nil, durable: Bool = true) {
            self.directory = directory
            self.database = database
            self.preferredPort = preferredPort
            self.durable = durable
        }
    }

    /// The folder actually used (may differ from the one asked for, see `start`).
    public let directory: URL
    /// The TCP port on 127.0.0.1.
    public let port: Int
    /// The URL of `options.database`, for `DATABASE_URL`: it names the password file, never the password.
    public let databaseURL: String
    /// false when the cluster was already running: `stop()` then leaves it running.
    public let startedHere: Bool
    let binaries: PostgresBinaries
    let user: String?

    var dataDirectory: URL { directory.appendingPathComponent("data") }
    /// The libpq password file (`*:*:*:postgres:<password>`, mode 0600) that every URL of the cluster names.
    public var passwordFile: URL { directory.appendingPathComponent("pgpass") }

    /// The URL of `database` on this cluster, with the password file.
    public func url(database: String) -> String {
        Self.url(port: port, database: database, passwordFile: passwordFile)
    }

    static func url(port: Int, database: String, passwordFile: URL) -> String {
        "postgres://postgres@127.0.0.1:\(port)/\(database)?passfile=\(passwordFile.path)"
    }

    /// Creates (on first use) and starts the cluster, and creates the database; `log` receives one line per step
    /// worth telling (for example a folder fallback).
    public static func start(_ options: Options, log: @Sendable (String) -> Void = { _ in }) async throws
        -> PrivateCluster
    {
        let binaries = try PostgresBinaries.locate()
        let user = try serverUser()
        let directory = try await prepareDirectory(options.directory, user: user, log: log)
        var cluster = PrivateCluster(
            directory: directory, port: 0, databaseURL: "", startedHere: false, binaries: binaries, user: user)
        let data = cluster.dataDirectory
        var unprotected = false
        if !FileManager.default.fileExists(atPath: data.appendingPathComponent("PG_VERSION").path) {
            log("creating a private PostgreSQL cluster in \(data.path)")
            try await cluster.initialize(password: try cluster.newPassword())
            try cluster.writeSettings(durable: options.durable)
        } else if !FileManager.default.fileExists(atPath: cluster.passwordFile.path) {
            unprotected = true  // made by an earlier weighin, which trusted every local connection
        }
        let running = (try? await cluster.run("pg_ctl", ["-D", data.path, "status"], failure: "")) != nil
        let port: Int
        if running, let existing = cluster.runningPort() {
            port = existing
            log("using the private PostgreSQL cluster already running in \(data.path) on port \(port)")
        } else {
            port = try await cluster.startServer(preferredPort: options.preferredPort)
        }
        cluster = PrivateCluster(
            directory: directory, port: port,
            databaseURL: url(port: port, database: options.database, passwordFile: cluster.passwordFile),
            startedHere: !running, binaries: binaries, user: user)
        if unprotected {
            try await cluster.requirePassword()
            log("the private PostgreSQL cluster trusted every local connection; it now requires the password in "
                + cluster.passwordFile.path)
        }
        try await cluster.createDatabase(options.database)
        return cluster
    }

    /// Stops the cluster if this process started it (fast shutdown: sessions are ended, data is safe).
    public func stop() async {
        guard startedHere else { return }
        _ = try? await run("pg_ctl", ["-D", dataDirectory.path, "-m", "fast", "-w", "stop"], failure: "")
    }

    /// Stops the cluster whoever started it, and deletes its folder: for throwaway clusters. Runs on a thread of
    /// its own: the stop waits for the server and the deletion for the disk, seconds on a busy machine, which on
    /// one of Swift's few cooperative threads would stall every other task of the process meanwhile.
    public func destroy() async {
        await onThreadOfItsOwn(name: "cluster-destroy") { destroyBlocking() }
    }

    /// `destroy` on the calling thread, for where nothing can wait (`atexit`).
    public func destroyBlocking() {
        _ = try? ProcessRunner.runBlocking(
            binaries.path("pg_ctl"), ["-D", dataDirectory.path, "-m", "immediate", "-w", "stop"], as: user)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Restarts the server (fast mode), as an operator would: for fault tests.
    public func restart() async throws {
        try await run(
            "pg_ctl",
            ["-D", dataDirectory.path, "-l", directory.appendingPathComponent("postgres.log").path, "-w", "-t", "60",
             "-m", "fast", "-o", "-p \(port)", "restart"],
            failure: "pg_ctl restart failed")
    }

    // MARK: - Steps

    /// Starts the server on the preferred port when free, else on a free one; another process can take a free port
    /// between our check and the server's bind, so a lost race is retried on a new port.
    func startServer(preferredPort: Int?) async throws -> Int {
        let logFile = directory.appendingPathComponent("postgres.log")
        var port = try preferredPort.flatMap { Self.isFree($0) ? $0 : nil } ?? Self.freePort()
        for attempt in 1... {
            do {
                try await run(
                    "pg_ctl", ["-D", dataDirectory.path, "-l", logFile.path, "-w", "-t", "60", "-o", "-p \(port)", "start"],
                    failure: "pg_ctl could not start PostgreSQL")
                return port
            } catch {
                let log = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
                let tail = log.split(separator: "\n").suffix(3).joined(separator: " / ")
                guard tail.contains("could not create any TCP/IP sockets"), attempt < 5 else {
                    throw PrivateClusterError("PostgreSQL did not start (\(logFile.path)): \(tail)")
                }
                port = try Self.freePort()
            }
        }
        fatalError("unreachable")
    }

    /// The user PostgreSQL runs as: ourselves, or `postgres` when we are root (initdb refuses root).
    static func serverUser() throws -> String? {
        guard geteuid() == 0 else { return nil }
        guard getpwnam("postgres") != nil else {
            throw PrivateClusterError(
                "running as root, the private PostgreSQL must run as the postgres user, which does not exist: "
                    + "install PostgreSQL with `apt-get install -y postgresql`")
        }
        return "postgres"
    }

    /// Settings for a private cluster: loopback TCP, a unix socket in the cluster's folder when its path fits a
    /// socket address (else none), and no fsync for throwaway clusters.
    private func writeSettings(durable: Bool) throws {
        let socketFits = directory.path.utf8.count + "/.s.PGSQL.65535".utf8.count < 108 && !directory.path.contains("'")
        var settings = [
            "listen_addresses = '127.0.0.1'",
            "unix_socket_directories = '\(socketFits ? directory.path : "")'",
            "max_connections = 300",
            "shared_buffers = 128MB",
        ]
        if !durable {
            settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        }
        let file = dataDirectory.appendingPathComponent("postgresql.conf")
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(("\n# weighin private cluster\n" + settings.joined(separator: "\n") + "\n").utf8))
    }

    /// The port of a running server, from the fourth line of `postmaster.pid`.
    private func runningPort() -> Int? {
        guard let text = try? String(contentsOf: dataDirectory.appendingPathComponent("postmaster.pid"), encoding: .utf8)
        else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return lines.count > 3 ? Int(lines[3].trimmingCharacters(in: .whitespaces)) : nil
    }

    private func createDatabase(_ name: String) async throws {
        let configuration = try PostgresConfiguration(conninfo: url(database: "postgres"))
        try await PostgresConnection.withConnection(configuration) { connection in
            let existing = try await connection.query("SELECT 1 FROM pg_database WHERE datname = \(name)")
            guard existing.isEmpty else { return }
            do {
                try await connection.query("CREATE DATABASE \(identifier: name)")
            } catch PostgresError.Code.duplicateDatabase {
                // Another process created it at the same moment.
            }
        }
    }

    @discardableResult
    func run(_ program: String, _ arguments: [String], failure: String) async throws -> String {
        let output = try await ProcessRunner.run(binaries.path(program), arguments, as: user)
        guard output.status == 0 else {
            let lastLines = output.text.split(separator: "\n").suffix(3).joined(separator: " / ")
            throw PrivateClusterError(failure + (lastLines.isEmpty ? "" : ": " + lastLines))
        }
        return output.text
    }
}
