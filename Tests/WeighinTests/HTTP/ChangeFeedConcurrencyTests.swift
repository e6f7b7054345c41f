import Foundation
import HTTPTypes
import HummingbirdTesting
import Postgres
import Synchronization
import Testing
import WireFormats

/// The feed's guarantee: a reader that follows it while many writers of the same user commit in any order never
/// skips a change, so the copy it rebuilds equals the table once the writers stop.
@Suite("HTTP: the change feed under concurrent writers")
struct ChangeFeedConcurrencyTests {
    /// One writer's work: creates, PATCHes, deletes, PUTs by client id and small imports, on its own entries and
    /// on the shared client ids (so writers also race on the same rows).
    static func write(_ client: any TestClientProtocol, _ token: String, writer: Int, operations: Int) async throws {
        var mine: [String] = []
        var random = SystemRandomNumberGenerator()
        for step in 0..<operations {
            let day = "2026-0\(1 + writer % 9)-\(String(format: "%02d", 1 + step % 28))"
            switch Int.random(in: 0..<10, using: &random) {
            case 0...2:
                let entry = try await client.createEntry(token, weight: "\(60 + step % 40)", recordedOn: day)
                mine.append(entry["id"]!.stringValue!)
            case 3...4 where !mine.isEmpty:
                let id = mine.randomElement(using: &random)!
                try await client.send(.patch, "/v1/entries/\(id)", token: token, json: #"{"note": "w\#(writer) s\#(step)"}"#)
            case 5 where !mine.isEmpty:
                let id = mine.remove(at: Int.random(in: 0..<mine.count, using: &random))
                try await client.send(.delete, "/v1/entries/\(id)", token: token)
            case 6, 7:
                // Shared ids: several writers replace the same entries; versions race (409s are expected).
                let shared = "shared-\(step % 5)"
                try await client.send(
                    .put, "/v1/entries/by-client-id/\(shared)", token: token,
                    json: #"{"weight": \#(70 + writer), "recorded_on": "\#(day)", "client_version": \#(step * 10 + writer)}"#)
            case 8:
                let csv = "recorded_on,weight,unit\n\(day),71,kg\n\(day),72,kg\n\(day),73,kg\n"
                let imported = try await client.importCSV(token, csv)
                if imported.status == .tooManyRequests { continue }  // another writer's import holds the gate
            default:
                // Delete a shared entry by its id, if it exists now.
                let found = try await client.listAll(token).first { $0["client_record_id"]?.stringValue?.hasPrefix("shared-") == true }
                if let id = found?["id"]?.stringValue { try await client.send(.delete, "/v1/entries/\(id)", token: token) }
            }
        }
    }

    @Test(arguments: 0..<4)
    func aReaderFollowingTheFeedRebuildsTheTable(round: Int) async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let writers = 6
            var copy: [String: JSONValue] = [:]
            var cursor: String?
            let done = Done()
            let writing = Task {
                defer { done.value.withLock { $0 = true } }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for writer in 0..<writers {
                        group.addTask { try await Self.write(client, user.token, writer: writer, operations: 30) }
                    }
                    try await group.waitForAll()
                }
            }
            // Follow the feed in small pages while the writers run (bounded: the writers end within the test's time).
            var reads = 0
            let deadline = ContinuousClock.now + .seconds(120)
            while !done.value.withLock({ $0 }), ContinuousClock.now < deadline {
                let page = try await ChangeFeedRouteTests.follow(client, user.token, from: cursor, limit: 3)
                try ChangeFeedRouteTests.apply(page.changes, to: &copy)
                cursor = page.cursor
                reads += 1
            }
            try await writing.value
            // Once more after the last commit: the copy must now be the table.
            let last = try await ChangeFeedRouteTests.follow(client, user.token, from: cursor, limit: 3)
            try ChangeFeedRouteTests.apply(last.changes, to: &copy)
            let table = try await client.listAll(user.token)
            #expect(table.count > 0)
            #expect(copy.count == table.count, "round \(round): \(reads) reads")
            #expect(copy == Dictionary(uniqueKeysWithValues: table.map { ($0["id"]!.stringValue!, $0) }),
                    "round \(round): the rebuilt copy differs from the table")
        }
    }

    /// Set once the writers have ended.
    final class Done: Sendable {
        let value = Mutex(false)
    }

    /// The mechanism itself: a transaction that has taken the user's next change number holds back every other
    /// writer of that user until it commits, so a reader never sees a later change before an earlier one.
    @Test func aLaterWriterWaitsForTheEarlierCommit() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let userID = UUID(uuidString: user.id)!
            let start = try await ChangeFeedRouteTests.follow(client, user.token).cursor
            let early = try await PostgresConnection.connect(try PostgresConfiguration(conninfo: databaseURL))
            defer { early.close() }
            try await early.query("BEGIN")
            try await early.query(
                """
                INSERT INTO weight_entries (user_id, weight, unit, recorded_on, change_seq)
                VALUES (\(userID), 80, 'kg', '2026-06-01', weighin_change_seq(\(userID)))
                """)
            // A second writer starts now and must wait; the feed meanwhile shows neither.
            let late = Task { try await client.createEntry(user.token, weight: "81", recordedOn: "2026-06-02") }
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await ChangeFeedRouteTests.follow(client, user.token, from: start).changes.isEmpty)
            try await early.query("COMMIT")
            let lateEntry = try await late.value
            let changes = try await ChangeFeedRouteTests.follow(client, user.token, from: start).changes
            #expect(changes.count == 2)
            #expect(changes.last?["entry"]?["id"] == lateEntry["id"], "the later commit comes later in the feed")
        }
    }
}
