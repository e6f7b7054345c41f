import Foundation
import Postgres
import Primitives

#if canImport(Glibc)
import Glibc
#endif

/// The cluster's superuser password: made at `initdb`, kept in the folder's 0600 password file, and given to a
/// cluster an earlier weighin made without one.
extension PrivateCluster {
    /// A random password (192 bits, base64url: no character needs quoting anywhere), written to the password file.
    func newPassword() throws -> String {
        var generator = SystemRandomNumberGenerator()
        let password = Base64URL.encode((0..<24).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        try Self.writePrivately("*:*:*:postgres:\(password)\n", to: passwordFile)
        return password
    }

    /// `initdb` with SCRAM-SHA-256 for every connection, local and TCP, and `password` for the superuser.
    func initialize(password: String) async throws {
        // initdb reads the password from a file its user can read; it is removed at once.
        let passwordInput = directory.appendingPathComponent("initdb-password")
        try Self.writePrivately(password + "\n", to: passwordInput, owner: user)
        defer { try? FileManager.default.removeItem(at: passwordInput) }
        try await run(
            "initdb",
            ["-D", dataDirectory.path, "-U", "postgres", "-A", "scram-sha-256", "--pwfile", passwordInput.path,
             "-E", "UTF8", "--locale=C", "--no-instructions"],
            failure: "initdb failed")
    }

    /// Gives a cluster made with `-A trust` by an earlier weighin a password and SCRAM-SHA-256 for every
    /// connection (it is running and still trusts us, once).
    func requirePassword() async throws {
        let password = try newPassword()
        try await PostgresConnection.withConnection(try PostgresConfiguration(conninfo: url(database: "postgres"))) {
            // A base64url literal needs no quoting; a utility statement takes no bound parameters.
            try await $0.query(.unsafeSQL("ALTER ROLE postgres PASSWORD '\(password)'"))
        }
        let rules = dataDirectory.appendingPathComponent("pg_hba.conf")
        let text = try String(contentsOf: rules, encoding: .utf8)
        let secured = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard !line.hasPrefix("#"), line.hasSuffix("trust") else { return String(line) }
            return line.dropLast("trust".count) + "scram-sha-256"
        }.joined(separator: "\n")
        try Self.writePrivately(secured, to: rules, owner: user)
        try await run("pg_ctl", ["-D", dataDirectory.path, "reload"], failure: "pg_ctl reload failed")
    }

    /// Writes `text` to a new file of mode 0600 (owned by `owner` when given, which needs root), never following a
    /// link at `url`.
    static func writePrivately(_ text: String, to url: URL, owner: String? = nil) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PrivateClusterError("cannot write \(url.path) (errno \(errno))") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard fchmod(fd, 0o600) == 0, write(fd, bytes, bytes.count) == bytes.count else {
            throw PrivateClusterError("cannot write \(url.path) (errno \(errno))")
        }
        if let owner, let account = getpwnam(owner), fchown(fd, account.pointee.pw_uid, account.pointee.pw_gid) != 0 {
            throw PrivateClusterError("cannot hand \(url.path) to the \(owner) user (errno \(errno))")
        }
    }
}
