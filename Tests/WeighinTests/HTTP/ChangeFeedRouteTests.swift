import Foundation
import HTTPTypes
import HummingbirdTesting
import Postgres
import Testing
import WireFormats

@testable import WeighinService

/// `GET /v1/changes`: the feed of a user's entries, with deletions, paging, cursors and the retention's 410.
@Suite("HTTP: the change feed")
struct ChangeFeedRouteTests {
    /// Every page from `cursor` until `has_more` is false: the changes and the last `next_cursor`.
    static func follow(
        _ client: any TestClientProtocol, _ token: String, from cursor: String? = nil, limit: Int = 1000,
        unit: String? = nil
    ) async throws -> (changes: [JSONValue], cursor: String) {
        var changes: [JSONValue] = []
        var cursor = cursor
        for _ in 0..<10_000 {
            var parameters = ["limit": String(limit)]
            if let cursor { parameters["cursor"] = cursor }
            if let unit { parameters["unit"] = unit }
            let page = try await client.send(.get, "/v1/changes" + queryString(parameters), token: token)
            guard page.status == .ok, let items = page.json["changes"]?.arrayValue,
                let next = page.json["next_cursor"]?.stringValue, let more = page.json["has_more"]?.boolValue
            else { throw TestFailure("the feed answered \(page.status): \(page.text)") }
            let ids = items.map { $0["entry"]?["id"]?.stringValue ?? $0["id"]?.stringValue ?? "" }
            guard Set(ids).count == ids.count else { throw TestFailure("an entry twice in one page: \(page.text)") }
            changes += items
            cursor = next
            if !more { return (changes, next) }
        }
        throw TestFailure("has_more never became false")
    }

    /// Applies changes to a copy of the user's entries, by id.
    static func apply(_ changes: [JSONValue], to copy: inout [String: JSONValue]) throws {
        for change in changes {
            switch change["op"]?.stringValue {
            case "upsert":
                let entry = try #require(change["entry"])
                copy[try #require(entry["id"]?.stringValue)] = entry
            case "delete":
                copy[try #require(change["id"]?.stringValue)] = nil
            default:
                throw TestFailure("unknown change \(change)")
            }
        }
    }

    @Test func createsChangesAndDeletionsArriveOnceInTheirLatestState() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let empty = try await client.send(.get, "/v1/changes", token: user.token)
            #expect(empty.status == .ok && empty.json["changes"]?.arrayValue?.isEmpty == true, "\(empty.text)")
            #expect(empty.json["has_more"] == .bool(false) && empty.json["next_cursor"]?.stringValue != nil)
            #expect(empty.headers[.cacheControl] == "no-store")
            let start = try #require(empty.json["next_cursor"]?.stringValue)

            let a = try await client.createEntry(user.token, weight: "80", recordedOn: "2026-01-01")
            let b = try await client.createEntry(user.token, weight: "81", recordedOn: "2026-01-02")
            let c = try await client.createEntry(user.token, weight: "82", recordedOn: "2026-01-03")
            let first = try await Self.follow(client, user.token, from: start)
            #expect(first.changes.map { $0["entry"]?["id"] } == [a["id"], b["id"], c["id"]], "in the order of change")
            #expect(first.changes.first?["entry"] == a, "the entry exactly as the API shows it")

            // a changes (moves to the end), b is deleted; c untouched.
            let patched = try await client.send(
                .patch, "/v1/entries/\(a["id"]!.stringValue!)", token: user.token, json: #"{"weight": 79}"#)
            #expect(patched.status == .ok)
            #expect(try await client.send(.delete, "/v1/entries/\(b["id"]!.stringValue!)", token: user.token).status
                == .noContent)
            let second = try await Self.follow(client, user.token, from: first.cursor)
            #expect(second.changes.count == 2, "\(second.changes)")
            #expect(second.changes[0]["op"]?.stringValue == "upsert" && second.changes[0]["entry"] == patched.json)
            #expect(second.changes[1]["op"]?.stringValue == "delete" && second.changes[1]["id"] == b["id"])
            let deletedAt = try #require(second.changes[1]["deleted_at"]?.stringValue.flatMap(parseTimestamp))
            #expect(abs(deletedAt.timeIntervalSinceNow) < 60)
            #expect(Set(second.changes[1].objectValue?.keys ?? []) == ["op", "id", "deleted_at"])

            // From the beginning: every live entry once, each in its latest state.
            var copy: [String: JSONValue] = [:]
            try Self.apply(try await Self.follow(client, user.token).changes, to: &copy)
            let listed = try await client.listAll(user.token)
            #expect(copy == Dictionary(uniqueKeysWithValues: listed.map { ($0["id"]!.stringValue!, $0) }))

            // Nothing new: no change, the same cursor and the same tag.
            let again = try await client.send(.get, "/v1/changes?cursor=\(second.cursor)", token: user.token)
            #expect(again.json["changes"]?.arrayValue?.isEmpty == true && again.json["next_cursor"]?.stringValue == second.cursor)
            let tag = try #require(again.headers[.eTag])
            let notModified = try await client.send(
                .get, "/v1/changes?cursor=\(second.cursor)", token: user.token, headers: [.ifNoneMatch: tag])
            #expect(notModified.status == .notModified && notModified.bytes.isEmpty)
            #expect(notModified.headers[.eTag] == tag)
        }
    }

    @Test func pagesAreBoundedAndImportsAppearRowByRow() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser(weightUnit: "lb")
            let csv = "recorded_on,weight,unit\n" + (1...25).map { "2026-02-\(String(format: "%02d", $0)),\(70 + $0),kg" }
                .joined(separator: "\n") + "\n"
            #expect(try await client.importCSV(user.token, csv).status == .ok)
            var pages = 0
            var cursor: String?
            var seen: [JSONValue] = []
            while true {
                let query = "?limit=7" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await client.send(.get, "/v1/changes" + query, token: user.token)
                let items = try #require(page.json["changes"]?.arrayValue)
                #expect(items.count <= 7)
                seen += items
                pages += 1
                cursor = page.json["next_cursor"]?.stringValue
                if page.json["has_more"] == .bool(false) { break }
            }
            #expect(pages == 4 && seen.count == 25)
            #expect(Set(seen.compactMap { $0["entry"]?["id"]?.stringValue }).count == 25)
            #expect(seen.allSatisfy { $0["entry"]?["unit"]?.stringValue == "lb" }, "shown in the user's unit")
            // A cursor works with any unit.
            let inKg = try await Self.follow(client, user.token, limit: 10, unit: "kg")
            #expect(inKg.changes.count == 25 && inKg.changes.allSatisfy { $0["entry"]?["unit"]?.stringValue == "kg" })
        }
    }

    @Test func forgedForeignAndMalformedCursorsAndLimitsAre422() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let other = try await client.newUser()
            try await client.createEntry(user.token, weight: "80", recordedOn: "2026-01-01")
            let cursor = try await Self.follow(client, user.token).cursor
            var altered = Array(cursor.utf8)
            altered[5] = altered[5] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            for bad in [String(decoding: altered, as: UTF8.self), "abc", "", cursor + "A"] {
                expectValidation(
                    try await client.send(.get, "/v1/changes" + queryString(["cursor": bad]), token: user.token),
                    field: "cursor", bad)
            }
            expectValidation(try await client.send(.get, "/v1/changes?cursor=\(cursor)", token: other.token), field: "cursor")
            // The listing's cursors are not the feed's.
            let listing = try await client.send(.get, "/v1/entries?limit=1", token: user.token)
            #expect(listing.json["next_cursor"] == .null)
            for limit in ["0", "1001", "-1", "ten", "1.5"] {
                expectValidation(try await client.send(.get, "/v1/changes?limit=\(limit)", token: user.token), field: "limit")
            }
            expectValidation(try await client.send(.get, "/v1/changes?unit=stone", token: user.token), field: "unit")
            expectUnauthorized(try await client.send(.get, "/v1/changes"))
        }
    }

    @Test func aCursorFromBeforeThePurgedDeletionsIs410() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let kept = try await client.createEntry(user.token, weight: "80", recordedOn: "2026-01-01")
            let gone = try await client.createEntry(user.token, weight: "81", recordedOn: "2026-01-02")
            let before = try await Self.follow(client, user.token).cursor
            #expect(try await client.send(.delete, "/v1/entries/\(gone["id"]!.stringValue!)", token: user.token).status
                == .noContent)
            let after = try await Self.follow(client, user.token, from: before)
            #expect(after.changes.map { $0["op"]?.stringValue } == ["delete"])

            // The deletion passes the retention and the maintenance job purges it.
            try await TestDatabase.query(
                databaseURL, "UPDATE entry_tombstones SET deleted_at = now() - interval '31 days'")
            let pool = PostgresPool(configuration: .init(connection: try PostgresConfiguration(conninfo: databaseURL), size: 1))
            defer { pool.close() }
            let services = try await WeighinServices(pool: pool, configuration: TestApp.service)
            #expect(try await services.purgeExpired() >= 1)
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM entry_tombstones") == 0)

            let expired = expectProblem(
                try await client.send(.get, "/v1/changes?cursor=\(before)", token: user.token), .gone, "cursor_expired")
            #expect(expired["detail"]?.stringValue?.isEmpty == false)
            // A cursor after the purged deletion still works; starting over works.
            #expect(try await client.send(.get, "/v1/changes?cursor=\(after.cursor)", token: user.token).status == .ok)
            let fresh = try await Self.follow(client, user.token)
            #expect(fresh.changes.map { $0["entry"]?["id"] } == [kept["id"]])
        }
    }

    @Test func deletingTheAccountLeavesNoTombstones() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let entry = try await client.createEntry(user.token, weight: "80", recordedOn: "2026-01-01")
            #expect(try await client.send(.delete, "/v1/entries/\(entry["id"]!.stringValue!)", token: user.token).status
                == .noContent)
            try await client.createEntry(user.token, weight: "81", recordedOn: "2026-01-02")
            let id = UUID(uuidString: user.id)!
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM entry_tombstones WHERE user_id = \(id)") == 1)
            #expect(try await client.send(.delete, "/v1/me", token: user.token).status == .noContent)
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM entry_tombstones WHERE user_id = \(id)") == 0)
        }
    }

    @Test func theFeedWorksOverARealServer() async throws {
        try await TestApp.run(.live) { client, _ in
            let user = try await client.newUser()
            let put = try await client.send(
                .put, "/v1/entries/by-client-id/scale-1", token: user.token,
                json: #"{"weight": 80.4, "recorded_on": "2026-03-01", "client_version": 1}"#)
            #expect(put.status == .created)
            let feed = try await Self.follow(client, user.token)
            #expect(feed.changes.count == 1 && feed.changes[0]["entry"] == put.json)
            #expect(feed.changes[0]["entry"]?["client_record_id"]?.stringValue == "scale-1")
        }
    }
}
