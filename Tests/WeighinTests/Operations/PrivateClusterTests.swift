import Foundation
import Testing

@testable import PrivateCluster

/// The private cluster (the one `weighin serve` starts without DATABASE_URL, and the tests') admits nobody without
/// its password: not over TCP, not over its socket; its URL names the password file, never the password.
@Suite("Operations: the private cluster needs its password")
struct PrivateClusterTests {
    func psql(_ arguments: [String], environment: [String: String] = [:]) async throws -> ProcessRunner.Output {
        let binaries = try PostgresBinaries.locate()
        var command = ["env", "PGCONNECT_TIMEOUT=5"] + environment.map { "\($0.key)=\($0.value)" }
        command += [binaries.directory.appendingPathComponent("psql").path] + arguments
        return try await ProcessRunner.run(command[0], Array(command.dropFirst()))
    }

    @Test func withoutThePasswordTCPAndTheSocketAreRefused() async throws {
        let cluster = try await TestCluster.running()
        let query = ["-X", "-A", "-t", "-c", "SELECT 1"]
        let tcp = try await psql(
            ["-h", "127.0.0.1", "-p", String(cluster.port), "-U", "postgres", "-d", "postgres"] + query,
            environment: ["PGPASSFILE": "/dev/null"])
        #expect(tcp.status != 0, "\(tcp.text)")
        #expect(tcp.text.contains("password"), "\(tcp.text)")
        let socket = try await psql(
            ["-h", cluster.directory.path, "-p", String(cluster.port), "-U", "postgres", "-d", "postgres"] + query,
            environment: ["PGPASSFILE": "/dev/null"])
        #expect(socket.status != 0, "\(socket.text)")
        #expect(socket.text.contains("password"), "\(socket.text)")
        #expect(FileManager.default.fileExists(
            atPath: cluster.directory.appendingPathComponent(".s.PGSQL.\(cluster.port)").path), "the socket exists")
        let wrong = cluster.directory.deletingLastPathComponent().appendingPathComponent("wrong-\(UUID()).pgpass")
        try "*:*:*:postgres:not-the-password\n".write(to: wrong, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: wrong) }
        _ = chmod(wrong.path, 0o600)
        let guessed = try await psql(
            ["-h", "127.0.0.1", "-p", String(cluster.port), "-U", "postgres", "-d", "postgres"] + query,
            environment: ["PGPASSFILE": wrong.path])
        #expect(guessed.status != 0 && guessed.text.contains("password authentication failed"), "\(guessed.text)")
    }

    @Test func itsURLNamesThePasswordFileWhichIsPrivateAndWorks() async throws {
        let cluster = try await TestCluster.running()
        let url = cluster.url(database: "postgres")
        #expect(url.hasSuffix("?passfile=" + cluster.passwordFile.path))
        let password = try String(contentsOf: cluster.passwordFile, encoding: .utf8)
        #expect(!url.contains(password.split(separator: ":").last!.trimmingCharacters(in: .whitespacesAndNewlines)))
        var info = stat()
        #expect(lstat(cluster.passwordFile.path, &info) == 0 && info.st_mode & 0o777 == 0o600)
        let ok = try await psql(["-X", "-A", "-t", "-c", "SELECT 1", url])
        #expect(ok.status == 0 && ok.text.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "\(ok.text)")
    }
}
