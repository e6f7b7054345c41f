import Foundation
import Postgres
import PrivateCluster
import Testing

/// A commit whose wait for the synchronous standby is cancelled (weighin's own `abort` at the end of a drain, or an
/// operator's `pg_cancel_backend`) stands on the primary only: PostgreSQL reports it done, with a warning. The pool
/// must not report it as a success, or a write answered 201 could vanish in a failover (docs/SCALING.md,
/// "Failover"). The statement timeout never cancels that wait (PostgreSQL turns it off before committing); a commit
/// waiting past the client timeout loses its connection, a transient error too (shown here as well).
@Suite("Postgres: a commit the synchronous standby never confirmed")
struct SynchronousCommitTests {
    /// A cluster of its own whose commits wait for a standby that never connects (`synchronous_standby_names`);
    /// destroyed afterwards.
    func withUnreplicatedCluster(_ body: (_ url: String) async throws -> Void) async throws {
        try await TestCluster.withOwnCluster(named: "syncrep") { cluster in
            let admin = try PostgresConfiguration(conninfo: cluster.databaseURL)
            try await PostgresConnection.withConnection(admin) { connection in
                try await connection.query("CREATE TABLE written (n int NOT NULL)")
                try await connection.query("ALTER SYSTEM SET synchronous_standby_names = 'a_standby_that_never_comes'")
                // A throwaway cluster commits asynchronously (durable: false); this one must wait for its standby.
                try await connection.query("ALTER SYSTEM SET synchronous_commit = on")
                try await connection.query("SELECT pg_reload_conf()")
            }
            // The reload reaches new sessions once the postmaster has handled it.
            let started = ContinuousClock.now
            while started.duration(to: .now) < .seconds(10) {
                let shown = try await PostgresConnection.withConnection(admin) { connection in
                    try await connection.query(
                        "SELECT current_setting('synchronous_standby_names') || '/' || current_setting('synchronous_commit')"
                    )[0].decode(String.self, at: 0)
                }
                if shown == "a_standby_that_never_comes/on" { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            do {
                try await body(cluster.databaseURL)
            } catch {
                try? await releaseWaiters(admin)
                throw error
            }
            // Commits still waiting (those nobody cancelled) would keep the cluster from stopping.
            try await releaseWaiters(admin)
        }
    }

    /// Lets every commit waiting for the standby go on: with no synchronous standby named, nobody waits.
    func releaseWaiters(_ admin: PostgresConfiguration) async throws {
        try await PostgresConnection.withConnection(admin) { connection in
            try await connection.query("ALTER SYSTEM RESET synchronous_standby_names")
            try await connection.query("SELECT pg_reload_conf()")
        }
    }

    /// Runs `write` and cancels its backend once it waits for the standby (`wait_event = 'SyncRep'`); its error.
    func cancelledInItsStandbyWait(
        _ configuration: PostgresConfiguration, _ write: @escaping @Sendable () async throws -> Void
    ) async throws -> PostgresError? {
        let task = Task { try await write() }
        let started = ContinuousClock.now
        var cancelled = false
        while !cancelled, started.duration(to: .now) < .seconds(15) {
            cancelled = try await PostgresConnection.withConnection(configuration) { connection in
                try await connection.query(
                    "SELECT count(pg_cancel_backend(pid)) AS n FROM pg_stat_activity WHERE wait_event = 'SyncRep'"
                )[0].decode(Int.self, column: "n") > 0
            }
            if !cancelled { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(cancelled, "the write waited for the standby")
        do {
            try await task.value
            return nil
        } catch let error as PostgresError {
            return error
        }
    }

    @Test func aCommitWhoseStandbyWaitWasCancelledFailsAsTransientInsteadOfSucceeding() async throws {
        try await withUnreplicatedCluster { url in
            let configuration = try PostgresConfiguration(conninfo: url)
            let pool = PostgresPool(configuration: .init(connection: configuration, size: 2))
            defer { pool.close() }
            // Reading writes no WAL and waits for nobody.
            #expect(try await pool.query("SELECT 1 AS one").count == 1)
            // A single statement (committed at its sync point), then a transaction's COMMIT.
            let single = try await cancelledInItsStandbyWait(configuration) {
                _ = try await pool.query("INSERT INTO written VALUES (1)")
            }
            #expect(single?.code == .commitNotReplicated, "\(String(describing: single))")
            #expect(single?.isTransient == true, "answered 503: the client retries, with its idempotency key")
            let transaction = try await cancelledInItsStandbyWait(configuration) {
                try await pool.withTransaction { _ = try await $0.query("INSERT INTO written VALUES (2)") }
            }
            #expect(transaction?.code == .commitNotReplicated, "\(String(describing: transaction))")
            // The warning marks its own statement only: the connections go on, and the next read succeeds. Both
            // commits stand on this server (what the warning says); only their answers changed.
            let rows = try await pool.query("SELECT count(*) AS n FROM written")
            #expect(try rows[0].decode(Int.self, column: "n") == 2)
        }
    }

    @Test func theStatementTimeoutDoesNotEndTheWaitAndTheClientTimeoutAnswersTransient() async throws {
        try await withUnreplicatedCluster { url in
            // The client's own deadline follows: 1 s + 10 s.
            let timed = try PostgresConfiguration(conninfo: url, statementTimeout: .seconds(1))
            #expect(timed.clientTimeout != nil)
            let pool = PostgresPool(configuration: .init(connection: timed, size: 1))
            defer { pool.close() }
            let started = ContinuousClock.now
            let error = await #expect(throws: PostgresError.self) {
                try await pool.query("INSERT INTO written VALUES (3)")
            }
            #expect(error?.code == .clientTimeout, "\(String(describing: error))")
            #expect(error?.isTransient == true)
            #expect(started.duration(to: .now) >= .seconds(10), "the 1 s statement timeout did not end the wait")
        }
    }
}
