import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Testing
import WeighinHTTP

/// Reads on a hot standby (`--read-database-url`): they go there when the standby has replayed what their client
/// wrote, never show a client the past (its own writes on this instance, or the `Weighin-Position` it sends from
/// another), and go to the primary while the standby lags past the limit or is down, without an error.
@Suite("Scaling: read replicas", .serialized)
struct ReadReplicaTests {
    /// A live application on the test pair's primary, reading from its standby.
    func withInstance(
        lagLimit: Duration = .seconds(5), _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let pair = try await TestReplicas.running()
        var settings = TestApp.settings(poolSize: 2)
        settings.replicaLagLimit = lagLimit
        let app = try await buildApplication(
            AppConfiguration(
                settings: settings, database: try PostgresConfiguration(conninfo: pair.primaryURL),
                readDatabase: try PostgresConfiguration(conninfo: pair.standbyURL), migrations: TestCluster.migrations))
        try await app.test(.live) { client in try await body(client) }
    }

    /// A gauge of `/metrics` (`name` with its labels, as printed).
    func gauge(_ client: any TestClientProtocol, _ name: String) async throws -> Double? {
        let text = try await client.send(.get, "/metrics").text
        let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    func reads(_ client: any TestClientProtocol, _ target: String) async throws -> Double {
        try await gauge(client, #"weighin_db_reads{target="\#(target)"}"#) ?? 0
    }

    /// Whether the standby itself has the entry yet (asked directly, not through weighin).
    func standbyHas(_ id: String) async throws -> Bool {
        let pair = try await TestReplicas.running()
        return try await PostgresConnection.withConnection(try PostgresConfiguration(conninfo: pair.standbyURL)) {
            try await !$0.query("SELECT 1 FROM weight_entries WHERE id = \(UUID(uuidString: id)!)").isEmpty
        }
    }

    @Test func readsGoToTheStandbyOnceItHasTheirClientsWrites() async throws {
        try await TestReplicas.delayReplay(by: .zero)
        try await withInstance { client in
            #expect(try await within(.seconds(10)) { try await gauge(client, "weighin_replica_available") == 1 })
            let user = try await client.newUser()
            let created = try await client.send(
                .post, "/v1/entries", token: user.token, json: #"{"weight": 80, "recorded_on": "2026-01-02"}"#)
            #expect(created.status == .created)
            let position = try #require(created.header("Weighin-Position"))
            #expect(position.wholeMatch(of: /[0-9A-F]{1,8}\/[0-9A-F]{1,8}/) != nil)
            let id = try #require(created.json["id"]?.stringValue)
            #expect(try await client.send(.get, "/v1/entries/\(id)", token: user.token).status == .ok)
            // Once the standby has replayed the write (sampled every 100 ms), the user's reads go there.
            let before = try await reads(client, "replica")
            let started = ContinuousClock.now
            var served = false
            while !served, started.duration(to: .now) < .seconds(5) {
                let listed = try await client.send(.get, "/v1/entries", token: user.token)
                #expect(listed.json["entries"]?.arrayValue?.count == 1, "every listing shows the entry")
                served = try await reads(client, "replica") > before
            }
            #expect(served)
            // Reads never carry the header; writes that fail still count as writes (they may have committed).
            #expect(try await client.send(.get, "/v1/stats", token: user.token).header("Weighin-Position") == nil)
        }
    }

    @Test func aDelayedStandbyNeverShowsAClientThePast() async throws {
        try await TestReplicas.delayReplay(by: .seconds(2))
        try await withInstance { client in
            let writer = try await client.newUser()
            let reader = try await client.newUser()
            try await client.createEntry(reader.token, weight: "70", recordedOn: "2026-01-01")
            #expect(try await within(.seconds(10)) { try await gauge(client, "weighin_replica_available") == 1 })
            // A new account's first reads: its row and token are writes the standby does not have yet.
            let newcomer = try await client.newUser()
            let feed = try await client.send(.get, "/v1/changes", token: newcomer.token)
            #expect(feed.status == .ok)
            #expect(feed.json["changes"]?.arrayValue?.isEmpty == true)
            var behind = 0
            for day in 1...8 {
                let entry = try await client.createEntry(
                    writer.token, weight: "80.\(day)", recordedOn: "2026-02-0\(day)")
                let id = try #require(entry["id"]?.stringValue)
                let primaryBefore = try await reads(client, "primary")
                #expect(try await client.send(.get, "/v1/entries/\(id)", token: writer.token).status == .ok)
                let listed = try await client.send(.get, "/v1/entries", token: writer.token)
                #expect(listed.json["entries"]?.arrayValue?.count == day)
                let stats = try await client.send(.get, "/v1/stats", token: writer.token)
                #expect(stats.json["count"]?.intValue == day)
                let changes = try await client.send(.get, "/v1/changes", token: writer.token)
                #expect(changes.json["changes"]?.arrayValue?.count == day)
                // Still missing on the standby after the four reads: all four went to the primary. (Once it has
                // replayed the write, which a slow machine may reach mid-round, reads may go either way.)
                if try await !standbyHas(id) {
                    behind += 1
                    #expect(try await reads(client, "primary") == primaryBefore + 4)
                }
            }
            #expect(behind > 0, "the standby lagged behind the writes (else this proves nothing)")
            // Another user, who wrote nothing since, reads from the standby meanwhile.
            let replicaBefore = try await reads(client, "replica")
            #expect(try await within(.seconds(5)) {
                let listed = try await client.send(.get, "/v1/entries", token: reader.token)
                let replica = try await reads(client, "replica")
                return listed.status == .ok && replica > replicaBefore
            })
        }
    }

    @Test func aPositionSentBackHoldsOnAnotherInstance() async throws {
        // Replayed 8 s late, within both instances' lag limit: B's first read must reach the standby before the
        // write does (3 s was once too short on a machine under disk pressure).
        try await TestReplicas.delayReplay(by: .seconds(8))
        try await withInstance(lagLimit: .seconds(30)) { a in
            try await withInstance(lagLimit: .seconds(30)) { b in
                for client in [a, b] {
                    #expect(try await within(.seconds(10)) {
                        try await gauge(client, "weighin_replica_available") == 1
                    })
                }
                let user = try await a.newUser()
                let created = try await a.send(
                    .post, "/v1/entries", token: user.token, json: #"{"weight": 80, "recorded_on": "2026-01-02"}"#)
                let position = try #require(created.header("Weighin-Position"))
                let id = try #require(created.json["id"]?.stringValue)
                // B knows nothing of the write: without the position its read goes to the standby, which lacks it.
                #expect(try await b.send(.get, "/v1/entries/\(id)", token: user.token).status == .notFound)
                var sent = HTTPFields()
                sent[HTTPField.Name("Weighin-Position")!] = position
                #expect(try await b.send(.get, "/v1/entries/\(id)", token: user.token, headers: sent).status == .ok)
                // A value that is not a position reads from the primary.
                sent[HTTPField.Name("Weighin-Position")!] = "not a position"
                #expect(try await b.send(.get, "/v1/entries/\(id)", token: user.token, headers: sent).status == .ok)
            }
        }
    }

    @Test func aStandbyLaggingPastTheLimitIsSkippedUntilItCatchesUp() async throws {
        try await TestReplicas.delayReplay(by: .seconds(3))
        try await withInstance(lagLimit: .seconds(1)) { client in
            let writer = try await client.newUser()
            let reader = try await client.newUser()
            // Writes the standby replays 3 s late: its lag passes the 1 s limit.
            #expect(try await within(.seconds(10)) {
                try await client.createEntry(writer.token, weight: "80", recordedOn: "2026-01-01")
                return try await gauge(client, "weighin_replica_available") == 0
            })
            #expect(try await gauge(client, "weighin_replica_lag_seconds") ?? 0 > 1)
            let replicaBefore = try await reads(client, "replica")
            #expect(try await client.send(.get, "/v1/entries", token: reader.token).status == .ok)
            #expect(try await reads(client, "replica") == replicaBefore)
            // Caught up: used again.
            try await TestReplicas.delayReplay(by: .zero)
            #expect(try await within(.seconds(10)) { try await gauge(client, "weighin_replica_available") == 1 })
            #expect(try await client.send(.get, "/v1/entries", token: reader.token).status == .ok)
            #expect(try await reads(client, "replica") > replicaBefore)
        }
    }

    @Test func aStandbyThatIsDownIsSkippedWithoutAnError() async throws {
        try await TestReplicas.delayReplay(by: .zero)
        let standby = try await TestReplicas.running().standby
        try await withInstance { client in
            let user = try await client.newUser()
            try await client.createEntry(user.token, weight: "80", recordedOn: "2026-01-01")
            #expect(try await within(.seconds(10)) { try await gauge(client, "weighin_replica_available") == 1 })
            await standby.stop()
            for _ in 0..<20 {
                let listed = try await client.send(.get, "/v1/entries", token: user.token)
                #expect(listed.status == .ok)
                #expect(listed.json["entries"]?.arrayValue?.count == 1)
            }
            #expect(try await gauge(client, "weighin_replica_available") == 0)
            try await standby.start()
            #expect(try await within(.seconds(15)) { try await gauge(client, "weighin_replica_available") == 1 })
            // A pooled connection opened before the restart fails once and sends that read to the primary (still
            // a 200); the next sample puts the standby back in use.
            let replicaBefore = try await reads(client, "replica")
            let backOnTheStandby = try await within(.seconds(5)) {
                let listed = try await client.send(.get, "/v1/entries", token: user.token)
                #expect(listed.status == .ok)
                return try await reads(client, "replica") > replicaBefore
            }
            #expect(backOnTheStandby)
        }
    }
}
