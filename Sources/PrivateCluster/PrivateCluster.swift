import Foundation
import Postgres

#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster of the project's own, in a folder it owns: created with `initdb` on first use,
/// started with `pg_ctl`, listening on 127.0.0.1 only.
///
/// It lets `weighin serve` and the test suite run on a fresh machine with no database set up. As root (CI),
/// PostgreSQL refuses to run, so the cluster runs as the `postgres` user, in a folder that user can reach.
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
    /// The URL of `options.database`, for `DATABASE_URL`.
    public let databaseURL: String
    /// false when the cluster was already running: `stop()` then leaves it running.
    public let startedHere: Bool
    private let binaries: PostgresBinaries
    private let user: String?

    private var dataDirectory: URL { directory.appendingPathComponent("data") }

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
        if !FileManager.default.fileExists(atPath: data.appendingPathComponent("PG_VERSION").path) {
            log("creating a private PostgreSQL cluster in \(data.path)")
            try await cluster.run(
                "initdb", ["-D", data.path, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-instructions"],
                failure: "initdb failed")
            try cluster.writeSettings(durable: options.durable)
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
            databaseURL: "postgres://postgres@127.0.0.1:\(port)/\(options.database)",
            startedHere: !running, binaries: binaries, user: user)
        try await cluster.createDatabase(options.database)
        return cluster
    }

    /// Stops the cluster if this process started it (fast shutdown: sessions are ended, data is safe).
    public func stop() async {
        guard startedHere else { return }
        _ = try? await run("pg_ctl", ["-D", dataDirectory.path, "-m", "fast", "-w", "stop"], failure: "")
    }

    /// Stops the cluster whoever started it, and deletes its folder: for throwaway clusters.
    public func destroy() {
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
    private func startServer(preferredPort: Int?) async throws -> Int {
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
    private static func serverUser() throws -> String? {
        guard geteuid() == 0 else { return nil }
        guard getpwnam("postgres") != nil else {
            throw PrivateClusterError(
                "running as root, the private PostgreSQL must run as the postgres user, which does not exist: "
                    + "install PostgreSQL with `apt-get install -y postgresql`")
        }
        return "postgres"
    }

    /// Creates the folder; as root, hands it to `postgres`, and falls back to a folder under /var/tmp when a parent
    /// folder (such as /root, mode 700) keeps `postgres` out.
    private static func prepareDirectory(_ requested: URL, user: String?, log: (String) -> Void) async throws -> URL {
        let requested = requested.standardizedFileURL
        try ensureDirectory(requested, user: user)
        guard let user else { return requested }
        let reachable = try await ProcessRunner.run("test", ["-w", requested.path, "-a", "-x", requested.path], as: user)
        if reachable.status == 0 { return requested }
        let fallback = URL(fileURLWithPath: "/var/tmp/weighin-\(fingerprint(requested.path))")
        log(
            "the postgres user cannot reach \(requested.path) (a parent folder is closed to it); "
                + "keeping the private cluster in \(fallback.path) instead")
        try ensureDirectory(fallback, user: user)
        return fallback
    }

    private static func ensureDirectory(_ url: URL, user: String?) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw PrivateClusterError("cannot create the private cluster's folder \(url.path): \(error.localizedDescription)")
        }
        guard let user, let account = getpwnam(user) else { return }
        if chown(url.path, account.pointee.pw_uid, account.pointee.pw_gid) != 0 || chmod(url.path, 0o700) != 0 {
            throw PrivateClusterError("cannot hand \(url.path) to the \(user) user (errno \(errno))")
        }
    }

    /// A short stable name for a path (FNV-1a), so each project gets its own fallback folder.
    private static func fingerprint(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    /// Settings for a private cluster: loopback TCP only, no unix socket (paths may be too long), and no fsync
    /// for throwaway clusters.
    private func writeSettings(durable: Bool) throws {
        var settings = [
            "listen_addresses = '127.0.0.1'",
            "unix_socket_directories = ''",
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
        let configuration = try PostgresConfiguration(conninfo: "postgres://postgres@127.0.0.1:\(port)/postgres")
        let connection = try await PostgresConnection.connect(configuration)
        defer { connection.close() }
        let existing = try await connection.query("SELECT 1 FROM pg_database WHERE datname = \(name)")
        guard existing.isEmpty else { return }
        do {
            try await connection.query("CREATE DATABASE \(identifier: name)")
        } catch PostgresError.Code.duplicateDatabase {
            // Another process created it at the same moment.
        }
    }

    @discardableResult
    private func run(_ program: String, _ arguments: [String], failure: String) async throws -> String {
        let output = try await ProcessRunner.run(binaries.path(program), arguments, as: user)
        guard output.status == 0 else {
            let lastLines = output.text.split(separator: "\n").suffix(3).joined(separator: " / ")
            throw PrivateClusterError(failure + (lastLines.isEmpty ? "" : ": " + lastLines))
        }
        return output.text
    }

    // MARK: - Ports

    private static func isFree(_ port: Int) -> Bool {
        (try? bindLoopback(port)) != nil
    }

    private static func freePort() throws -> Int {
        try bindLoopback(0)
    }

    /// Binds a TCP socket to 127.0.0.1:`port` (0: any), closes it and returns the port bound.
    private static func bindLoopback(_ port: Int) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PrivateClusterError("cannot open a socket to find a free port") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw PrivateClusterError("port \(port) on 127.0.0.1 is taken") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
