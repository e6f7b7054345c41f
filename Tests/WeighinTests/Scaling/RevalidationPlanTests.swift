import Foundation
import Postgres
import Synchronization
import Testing
@testable import WeighinService

/// The token cache's background re-check (`tokens.revalidate`) asks about up to 5,000 (user, token) pairs at once.
/// It is a plain join of the pairs, which a sharded database pushes down to every shard, and it must stay one
/// primary-key probe per pair on a table of many tokens: never a scan of every live token.
@Suite("Scaling: the token re-check probes by primary key")
struct RevalidationPlanTests {
    @Test(arguments: [20, 5_000])
    func theRecheckIsAJoinOfPrimaryKeyProbes(batchSize: Int) async throws {
        let url = try await TestCluster.makeDatabase()
        let captured = Mutex<SQL?>(nil)
        var configuration = try PostgresConfiguration(conninfo: url)
        configuration.onStatement = { sql in
            if sql.name == "tokens.revalidate" { captured.withLock { $0 = sql } }
        }
        let pool = PostgresPool(configuration: .init(connection: configuration, size: 2))
        defer { pool.close() }
        // 3,000 users with 40 live tokens each: 120,000 tokens.
        try await pool.query(
            """
            INSERT INTO users (email, name, password_hash)
            SELECT 'plan-' || g || '@example.com', 'Plan', 'x' FROM generate_series(1, 3000) AS g
            """)
        try await pool.query(
            """
            INSERT INTO auth_tokens (user_id, token_hash, expires_at)
            SELECT u.id, sha256(convert_to(u.id::text || t, 'UTF8')), now() + interval '1 day'
            FROM users u CROSS JOIN generate_series(1, 40) AS t
            """)
        try await pool.query("ANALYZE users")
        try await pool.query("ANALYZE auth_tokens")
        let live = try await pool.query(
            "SELECT user_id, token_hash FROM auth_tokens ORDER BY md5(token_hash::text) LIMIT \(batchSize - 10)")
        var batch = try live.map {
            TokenCache.Due(userID: try $0.decode(column: "user_id"), tokenHash: try $0.decode(column: "token_hash"))
        }
        // Pairs the database does not have: an unknown token of a known user, and of an unknown user.
        for n in 0..<10 {
            let userID = n % 2 == 0 ? batch[n].userID : UUID()
            batch.append(TokenCache.Due(userID: userID, tokenHash: Array(repeating: UInt8(n), count: 32)))
        }
        let services = try await WeighinServices(pool: pool, configuration: TestApp.service)
        try await services.tokens.revalidate(batch)
        let statement = try #require(captured.withLock { $0 })

        #expect(!statement.text.contains("OFFSET") && !statement.text.contains("LIMIT"),
                "no subquery a sharded database cannot push down: \(statement.text)")
        let answered = try await pool.query(statement)
        #expect(answered.count == batchSize - 10, "every live pair, and only those")
        let plan = try await pool.query("EXPLAIN \(statement)").map { try $0.decode(String.self, at: 0) }
            .joined(separator: "\n")
        #expect(plan.contains("Index Scan using auth_tokens_pkey on auth_tokens"), "\(plan)")
        #expect(plan.contains("Index Scan using users_pkey on users"), "\(plan)")
        #expect(!plan.contains("Seq Scan"), "\(plan)")
        #expect(!plan.contains("Hash"), "\(plan)")
    }
}
