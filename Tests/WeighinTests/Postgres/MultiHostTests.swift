import Foundation
import Postgres
import Testing

/// A multi-host `DATABASE_URL` (`postgres://h1:p1,h2:p2/db?target_session_attrs=read-write`) is how weighin follows
/// a failover: libpq tries the servers in order. These tests pin what that costs when the first server is gone
/// (refusing: nothing) or hung (accepting, never answering: the connect timeout, never more).
@Suite("Postgres: multi-host URLs, refused and hung servers")
struct MultiHostTests {
    @Test func everyServerOfAMultiHostURLIsDescribedWithoutThePassword() throws {
        let url = "postgres://app:s3cret@db1.example:5433,db2.example:5434/weighin?target_session_attrs=read-write"
        #expect(try PostgresConfiguration(conninfo: url).redactedDescription
            == "app@db1.example:5433,db2.example:5434/weighin?target_session_attrs=read-write")
        // In a URL each host has its own port (none: the default); in keywords one port may serve them all.
        let defaultPort = try PostgresConfiguration(conninfo: "postgres://app:s3cret@db1,db2:6432/weighin")
        #expect(defaultPort.redactedDescription == "app@db1,db2:6432/weighin")
        let onePort = try PostgresConfiguration(conninfo: "host=a,b port=6432 user=app password=s3cret dbname=w")
        #expect(onePort.redactedDescription == "app@a:6432,b:6432/w")
        let keywords = try PostgresConfiguration(conninfo: "host=a,b port=1,2 user=app password=s3cret dbname=w")
        #expect(keywords.redactedDescription == "app@a:1,b:2/w")
        #expect(!keywords.redactedDescription.contains("s3cret"))
    }

    @Test func aServerThatRefusesIsSkippedAtOnce() async throws {
        let refused = try ClosedPort()
        let url = try await urlWithFirst(port: refused.port)
        let started = ContinuousClock.now
        let connection = try await PostgresConnection.connect(
            try PostgresConfiguration(conninfo: url, connectTimeout: .seconds(30)))
        defer { connection.close() }
        #expect(try await connection.query("SELECT 1 AS one").count == 1)
        // Far below the 30 s connect timeout: the refusal itself moved on (a loaded machine once took 2.2 s to
        // open the second connection, so the bound leaves room for that).
        #expect(started.duration(to: .now) < .seconds(10))
    }

    @Test func aServerThatNeverAnswersCostsTheConnectTimeoutThenTheNextServerIsUsed() async throws {
        let hung = try SilentListener()
        let url = try await urlWithFirst(port: hung.port)
        let pool = PostgresPool(configuration: .init(
            connection: try PostgresConfiguration(conninfo: url, connectTimeout: .seconds(2)), size: 2,
            acquireTimeout: .seconds(30)))
        let started = ContinuousClock.now
        #expect(try await pool.query("SELECT 1 AS one").count == 1)
        let took = started.duration(to: .now)
        // The 2 s timeout, then one ordinary connection (seconds on a loaded machine), never the 30 s wait.
        #expect(took >= .milliseconds(1900) && took < .seconds(10), "\(took)")
        await pool.closeAndWait()
    }

    @Test func theURLsOwnConnectTimeoutWins() async throws {
        let hung = try SilentListener()
        let url = try await urlWithFirst(port: hung.port) + "&connect_timeout=2"
        let started = ContinuousClock.now
        let connection = try await PostgresConnection.connect(
            try PostgresConfiguration(conninfo: url, connectTimeout: .seconds(60)))
        defer { connection.close() }
        let took = started.duration(to: .now)
        // The 2 s timeout, then one ordinary connection (seconds on a loaded machine), never the 30 s wait.
        #expect(took >= .milliseconds(1900) && took < .seconds(10), "\(took)")
    }

    @Test func onlyHungServersFailTransientlyWithinTheConnectTimeouts() async throws {
        let first = try SilentListener(), second = try SilentListener()
        let url = "postgres://postgres@127.0.0.1:\(first.port),127.0.0.1:\(second.port)/weighin"
        let pool = PostgresPool(configuration: .init(
            connection: try PostgresConfiguration(conninfo: url, connectTimeout: .seconds(2)), size: 1,
            acquireTimeout: .seconds(30)))
        let started = ContinuousClock.now
        let error = await #expect(throws: PostgresError.self) { try await pool.query("SELECT 1 AS one") }
        let took = started.duration(to: .now)
        #expect(error?.isTransient == true, "\(String(describing: error))")
        // Two hosts, 2 s each; the pool's wait (30 s) is not what ended it.
        #expect(took >= .milliseconds(3900) && took < .seconds(12), "\(took)")
        await pool.closeAndWait()
    }

    /// A new database of the test cluster, reached through a URL that names `port` on 127.0.0.1 first.
    private func urlWithFirst(port: Int) async throws -> String {
        try await TestCluster.url(try await TestCluster.makeDatabase(migrated: false), withFirst: port)
    }
}
