import Foundation
import Postgres
import Testing

@Suite("Postgres: statements, errors, transactions and COPY")
struct QueryTests {
    let pool: PostgresPool

    init() async throws {
        pool = try await TestCluster.makePool(migrated: false)
        try await pool.withConnection { connection in
            try await connection.execute(
                unsafeSQL: """
                    CREATE TABLE owners (id int PRIMARY KEY, email text NOT NULL UNIQUE);
                    CREATE TABLE pets (
                        id int PRIMARY KEY,
                        owner_id int NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
                        name text NOT NULL);
                    """, label: "fixture")
        }
    }

    @Test func interpolationBindsValuesAsParameters() async throws {
        let id = 7
        let email = "a@b.c"
        let sql: SQL = "INSERT INTO owners (id, email) VALUES (\(id), \(email)) RETURNING id"
        #expect(sql.text == "INSERT INTO owners (id, email) VALUES ($1, $2) RETURNING id")
        #expect(sql.binds.count == 2)
        #expect(!sql.description.contains("a@b.c"))
        let fragment: SQL = "email = \(email)"
        let combined: SQL = "SELECT id FROM owners WHERE id = \(id) AND \(fragment)"
        #expect(combined.text == "SELECT id FROM owners WHERE id = $1 AND email = $2")
        try await pool.query(sql)
        #expect(try await pool.query(combined).count == 1)
    }

    @Test func injectionStaysAValue() async throws {
        let hostile = "'); DROP TABLE owners; --"
        try await pool.query("INSERT INTO owners (id, email) VALUES (1, \(hostile))")
        let rows = try await pool.query("SELECT email FROM owners WHERE email = \(hostile)")
        #expect(try rows[0].decode(String.self, column: "email") == hostile)
        let identifier = "owners\"; DROP TABLE pets; --"
        await #expect(throws: PostgresError.self) {
            try await pool.query("SELECT * FROM \(identifier: identifier)")
        }
        #expect(try await pool.query("SELECT count(*) AS n FROM pets")[0].decode(Int.self, column: "n") == 0)
    }

    @Test func uniqueAndForeignKeyViolationsCarrySQLSTATEAndConstraint() async throws {
        try await pool.query("INSERT INTO owners (id, email) VALUES (1, 'x@y.z')")
        do {
            try await pool.query(SQL("INSERT INTO owners (id, email) VALUES (2, \("x@y.z"))", name: "owners.insert"))
            Issue.record("expected a unique violation")
        } catch PostgresError.Code.uniqueViolation {
            // The named code works as a catch pattern.
        }
        let unique = await #expect(throws: PostgresError.self) {
            try await pool.query(SQL("INSERT INTO owners (id, email) VALUES (2, \("x@y.z"))", name: "owners.insert"))
        }
        #expect(unique?.code == .uniqueViolation)
        #expect(unique?.constraint == "owners_email_key")
        #expect(unique?.statement == "owners.insert")
        #expect(unique?.detail?.contains("x@y.z") == true)
        #expect(unique?.description.contains("x@y.z") == false, "description must not print values")
        let foreign = await #expect(throws: PostgresError.self) {
            try await pool.query("INSERT INTO pets (id, owner_id, name) VALUES (1, 999, 'rex')")
        }
        #expect(foreign?.code == .foreignKeyViolation)
        #expect(foreign?.constraint == "pets_owner_id_fkey")
        let syntax = await #expect(throws: PostgresError.self) { try await pool.query("SELEC 1") }
        #expect(syntax?.code == .syntaxError)
        // A failed statement leaves the connection usable.
        #expect(try await pool.query("SELECT 1 AS one")[0].decode(Int32.self, column: "one") == 1)
    }

    @Test func dataErrorsDoNotPrintTheValue() async throws {
        let secret = "hunter2-not-a-number"
        let error = await #expect(throws: PostgresError.self) { try await pool.query("SELECT \(secret)::int AS n") }
        #expect(error?.code == .invalidTextRepresentation)
        #expect(error?.message.contains(secret) == true)
        #expect(error?.description.contains(secret) == false)
    }

    @Test func cascadeDeletesChildRows() async throws {
        try await pool.query("INSERT INTO owners (id, email) VALUES (1, 'o@x.y'), (2, 'p@x.y')")
        try await pool.query("INSERT INTO pets (id, owner_id, name) VALUES (1, 1, 'a'), (2, 1, 'b'), (3, 2, 'c')")
        try await pool.query("DELETE FROM owners WHERE id = \(1)")
        let rows = try await pool.query("SELECT id FROM pets ORDER BY id")
        #expect(try rows.map { try $0.decode(Int32.self, column: "id") } == [3])
    }

    @Test func transactionCommitsOnReturnAndRollsBackOnThrow() async throws {
        struct Abort: Error {}
        try await pool.withTransaction { connection in
            try await connection.query("INSERT INTO owners (id, email) VALUES (10, 'commit@x.y')")
        }
        await #expect(throws: Abort.self) {
            try await pool.withTransaction { connection in
                try await connection.query("INSERT INTO owners (id, email) VALUES (11, 'rollback@x.y')")
                throw Abort()
            }
        }
        // A failing statement rolls back the statements before it.
        await #expect(throws: PostgresError.self) {
            try await pool.withTransaction { connection in
                try await connection.query("INSERT INTO owners (id, email) VALUES (12, 'partial@x.y')")
                try await connection.query("INSERT INTO owners (id, email) VALUES (13, 'commit@x.y')")
            }
        }
        let rows = try await pool.query("SELECT id FROM owners ORDER BY id")
        #expect(try rows.map { try $0.decode(Int32.self, column: "id") } == [10])
        // The connections came back clean: no transaction left open (SAVEPOINT fails outside one).
        for _ in 0..<8 {
            let error = await #expect(throws: PostgresError.self) {
                try await pool.withConnection { try await $0.query("SAVEPOINT probe") }
            }
            #expect(error?.code == "25P01")
        }
    }

    /// Sends `chunks` to `stream` from a thread of its own, as an import's reader does, then finishes it (or fails it
    /// after them, with `failure`); returns how many chunks the stream took.
    func produce(_ chunks: [[UInt8]], into stream: CopyInStream, failure: String? = nil) -> Task<Int, Never> {
        Task {
            await withCheckedContinuation { continuation in
                Thread {
                    var taken = 0
                    for chunk in chunks where stream.send(chunk) { taken += 1 }
                    if let failure { stream.fail(reason: failure) } else { stream.finish() }
                    continuation.resume(returning: taken)
                }.start()
            }
        }
    }

    /// Chunks of pets `ids` (owner 1), `perChunk` rows each.
    func petChunks(_ ids: ClosedRange<Int>, perChunk: Int, owner: (Int) -> Int = { _ in 1 }) -> [[UInt8]] {
        stride(from: ids.lowerBound, through: ids.upperBound, by: perChunk).map { first in
            var data = CopyData()
            for id in first...min(first + perChunk - 1, ids.upperBound) {
                data.appendRow([id, owner(id), id == 1 ? "tab\there, newline\nand \\ backslash" : "pet \(id)"])
            }
            return data.bytes
        }
    }

    @Test func copyLoadsRowsInBulkAsTheyAreSent() async throws {
        try await pool.query("INSERT INTO owners (id, email) VALUES (1, 'copy@x.y')")
        // One chunk queued at most: the sending thread waits for the COPY to take each one.
        let stream = CopyInStream(capacity: 1)
        let producer = produce(petChunks(1...5000, perChunk: 400), into: stream)
        let stored = try await pool.withConnection { connection in
            try await connection.copyIn("COPY pets (id, owner_id, name) FROM STDIN", stream: stream)
        }
        #expect(stored == 5000)
        #expect(await producer.value == 13)
        let rows = try await pool.query("SELECT count(*) AS n, max(name) FILTER (WHERE id = 1) AS first FROM pets")
        #expect(try rows[0].decode(Int.self, column: "n") == 5000)
        #expect(try rows[0].decode(String.self, column: "first") == "tab\there, newline\nand \\ backslash")
    }

    @Test func aCopyFailsWhenItsProducerFailsOrTheDatabaseRefusesARowAndTheConnectionStaysUsable() async throws {
        try await pool.query("INSERT INTO owners (id, email) VALUES (1, 'copy@x.y')")
        let copy: SQL = "COPY pets (id, owner_id, name) FROM STDIN"
        // The producer gives up after three chunks: nothing is stored.
        let failing = CopyInStream(capacity: 1)
        let gaveUp = produce(petChunks(1...1000, perChunk: 100).prefix(3).map { $0 }, into: failing, failure: "row 301")
        let refused = await #expect(throws: PostgresError.self) {
            try await pool.withConnection { try await $0.copyIn(copy, stream: failing) }
        }
        #expect(refused?.code == .queryCanceled, "COPY ended with the producer's reason: \(String(describing: refused))")
        #expect(await gaveUp.value == 3)
        #expect(failing.failedByProducer)
        // The database refuses a row of the second chunk (no owner 999). libpq reads nothing from the server during
        // a COPY, so the error is known at its end: the producer sends every chunk (none waits for ever), and the
        // COPY fails with the database's error, not the producer's.
        let refusing = CopyInStream(capacity: 1)
        let sent = produce(petChunks(1...20_000, perChunk: 100, owner: { $0 == 150 ? 999 : 1 }), into: refusing)
        let violation = await #expect(throws: PostgresError.self) {
            try await pool.withConnection { try await $0.copyIn(copy, stream: refusing) }
        }
        #expect(violation?.code == .foreignKeyViolation)
        #expect(await sent.value == 200)
        #expect(!refusing.failedByProducer)
        #expect(try await pool.query("SELECT count(*) AS n FROM pets")[0].decode(Int.self, column: "n") == 0)
        #expect(try await pool.query("SELECT 1 AS one").count == 1)
    }

    @Test func statementsArePreparedOncePerConnection() async throws {
        try await pool.withConnection { connection in
            for id in 1...20 {
                try await connection.query("SELECT \(id) AS n, 'prepared-once' AS tag")
            }
            let rows = try await connection.query(
                "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE \("%'prepared-" + "once'%")")
            #expect(try rows[0].decode(Int.self, column: "n") == 1)
        }
    }

    @Test func aParseThatTimesOutTakesNoFollowerDown() async throws {
        // The first use of a statement prepares it; while that Parse waits on a lock and then times out, the same
        // statement from other callers must fail with the timeout too, never with "prepared statement does not
        // exist" (26000), and succeed once the lock is gone.
        // Only the pool has the short timeout: the set-up runs without one, as it may take longer than 300 ms on a
        // busy machine (a CREATE TABLE once did in CI).
        let url = try await TestCluster.makeDatabase(migrated: false)
        let locker = try await PostgresConnection.connect(try PostgresConfiguration(conninfo: url))
        defer { locker.close() }
        try await locker.query("CREATE TABLE locked (n int)")
        try await locker.query("BEGIN")
        try await locker.query("LOCK TABLE locked IN ACCESS EXCLUSIVE MODE")
        let pool = try TestCluster.makePool(on: url, size: 1, statementTimeout: .milliseconds(300))
        let codes = try await withThrowingTaskGroup(of: PostgresError.Code?.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    do {
                        try await pool.query("SELECT count(*) AS n FROM locked")
                        return nil
                    } catch let error as PostgresError {
                        return error.code
                    }
                }
            }
            return try await group.reduce(into: [PostgresError.Code?]()) { $0.append($1) }
        }
        #expect(codes.allSatisfy { $0 == .queryCanceled }, "\(codes)")
        try await locker.query("ROLLBACK")
        // Once the lock is gone the statement succeeds. A busy machine may still stretch one run past 300 ms, so a
        // timeout is tried again (boundedly); any other error, 26000 above all, fails the test.
        var count: Int?
        _ = try await within(.seconds(5)) {
            do {
                count = try await pool.query("SELECT count(*) AS n FROM locked")[0].decode(Int.self, column: "n")
                return true
            } catch let error as PostgresError where error.code == .queryCanceled {
                return false
            }
        }
        #expect(count == 0)
        await pool.closeAndWait()
    }

    @Test func unnamedStatementsLeaveNothingPrepared() async throws {
        let url = try await TestCluster.makeDatabase(migrated: false)
        let connection = try await PostgresConnection.connect(
            try PostgresConfiguration(conninfo: url, preparedStatements: .unnamed))
        defer { connection.close() }
        for id in 1...5 {
            #expect(try await connection.query("SELECT \(id) AS n")[0].decode(Int.self, column: "n") == id)
        }
        #expect(try await connection.query("SELECT count(*) AS n FROM pg_prepared_statements")[0]
            .decode(Int.self, column: "n") == 0)
    }

    @Test func statementTimeoutCancelsTheStatementAndFreesTheConnection() async throws {
        let pool = try await TestCluster.makePool(migrated: false, size: 1, statementTimeout: .seconds(1))
        let error = await #expect(throws: PostgresError.self) { try await pool.query("SELECT pg_sleep(5)") }
        #expect(error?.code == .queryCanceled)
        #expect(error?.isTransient == true)
        #expect(try await pool.query("SELECT 1 AS one").count == 1)
    }

    /// 32 MiB of parameters do not fit the socket at once: the event loop sends the rest as the server reads it,
    /// while small statements keep flowing on the same connection.
    @Test func aStatementLargerThanTheSocketBufferIsSentInParts() async throws {
        let pool = try await TestCluster.makePool(migrated: false, size: 1)
        let big = String(repeating: "w", count: 32 << 20)
        async let small = pool.query("SELECT 1 AS one")
        let rows = try await pool.query("SELECT length(\(big)) AS n, md5(\(big)) = md5(repeat('w', \(32 << 20)::int)) AS same")
        #expect(try rows[0].decode(Int.self, column: "n") == 32 << 20)
        #expect(try rows[0].decode(Bool.self, column: "same"))
        #expect(try await small.count == 1)
    }

    /// A server that never answers (no statement timeout) costs the caller its client timeout, not forever: the
    /// event loop drops the connection, and the pool opens a new one.
    @Test func anOverdueAnswerDropsTheConnectionAfterTheClientTimeout() async throws {
        let url = try await TestCluster.makeDatabase(migrated: false)
        let pool = PostgresPool(configuration: .init(
            connection: try PostgresConfiguration(conninfo: url, clientTimeout: .milliseconds(500)), size: 1))
        let started = ContinuousClock.now
        let error = await #expect(throws: PostgresError.self) { try await pool.query("SELECT pg_sleep(30)") }
        #expect(error?.code == .clientTimeout)
        // Far below the 30 s sleep, with room for connecting on a machine under disk pressure (6.3 s seen).
        #expect(ContinuousClock.now - started < .seconds(15))
        #expect(try await pool.query("SELECT 1 AS one").count == 1)
        await pool.closeAndWait()
    }

    @Test func badURLsFailWithLibpqsReason() throws {
        let error = #expect(throws: PostgresError.self) {
            try PostgresConfiguration(conninfo: "postgres://user:secret@host/db?no_such_option=1")
        }
        #expect(error?.description.contains("secret") == false)
        let configuration = try PostgresConfiguration(conninfo: "postgres://app:s3cret@db.example:5433/weighin?sslmode=require")
        #expect(configuration.redactedDescription == "app@db.example:5433/weighin")
    }
}
