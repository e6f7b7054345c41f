import Foundation
import HTTPTypes
import HummingbirdTesting
import Postgres
import Testing
import WireFormats

/// HTTP: GET /v1/entries — order, from/to, limit, cursors (complete, stable while adding, unforgeable) and units.
@Suite("HTTP: listing entries")
struct ListingRouteTests {
    static func ids(_ entries: [JSONValue]) -> [String] {
        entries.compactMap { $0["id"]?.stringValue }
    }

    /// One page.
    static func page(
        _ client: some TestClientProtocol, _ token: String, _ parameters: [String: String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (entries: [JSONValue], next: String?) {
        let response = try await client.send(.get, "/v1/entries" + queryString(parameters), token: token)
        #expect(response.status == .ok, "\(response.text.prefix(300))", sourceLocation: sourceLocation)
        #expect(response.json.keys == ["entries", "next_cursor"], sourceLocation: sourceLocation)
        let next = response.json["next_cursor"]
        #expect(next == .null || next?.stringValue != nil, sourceLocation: sourceLocation)
        let entries = try #require(response.json["entries"]?.arrayValue, sourceLocation: sourceLocation)
        for entry in entries { #expect(entry.keys == entryMembers, sourceLocation: sourceLocation) }
        return (entries, next?.stringValue)
    }

    /// The contract's order: `recorded_on` newest first, then `created_at` newest first (then `id`).
    static func newestFirst(_ entries: [JSONValue]) -> [JSONValue] {
        entries.sorted { a, b in
            let (dayA, dayB) = (a["recorded_on"]!.stringValue!, b["recorded_on"]!.stringValue!)
            if dayA != dayB { return dayA > dayB }
            let (createdA, createdB) = (parseTimestamp(a["created_at"]!.stringValue!)!, parseTimestamp(b["created_at"]!.stringValue!)!)
            if createdA != createdB { return createdA > createdB }
            return a["id"]!.stringValue! > b["id"]!.stringValue!
        }
    }

    /// Whether `listed` is in the contract's order: by `recorded_on` and `created_at` newest first, and within equal ones
    /// by `id` (in one direction throughout).
    static func isInContractOrder(_ listed: [JSONValue]) -> Bool {
        var idDirection: Bool?
        for (a, b) in zip(listed, listed.dropFirst()) {
            let (dayA, dayB) = (a["recorded_on"]!.stringValue!, b["recorded_on"]!.stringValue!)
            if dayA != dayB {
                if dayA < dayB { return false }
                continue
            }
            let (createdA, createdB) = (parseTimestamp(a["created_at"]!.stringValue!)!, parseTimestamp(b["created_at"]!.stringValue!)!)
            if createdA != createdB {
                if createdA < createdB { return false }
                continue
            }
            let descending = a["id"]!.stringValue! > b["id"]!.stringValue!
            if let direction = idDirection, direction != descending { return false }
            idDirection = descending
        }
        return true
    }

    @Test func newestFirstByRecordedOnThenCreatedAt() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            var made: [JSONValue] = []
            for (weight, day) in [("70", "2019-03-02"), ("71", "2019-03-05"), ("72", "2019-03-02"), ("73", "2019-03-01"),
                                  ("74", "2019-03-02"), ("75", "2019-03-04")] {
                made.append(try await client.createEntry(user.token, weight: weight, recordedOn: day))
            }
            let expected = Self.ids(Self.newestFirst(made))
            // The three entries of 2019-03-02 come newest created first.
            #expect(Array(expected[2...4]) == Self.ids([made[4], made[2], made[0]]))
            #expect(Self.ids(try await client.listAll(user.token)) == expected)
            #expect(Self.ids(try await client.listAll(user.token, limit: 2)) == expected)
            let first = try await Self.page(client, user.token, [:])
            #expect(Self.ids(first.entries) == expected)
            #expect(first.next == nil)
            #expect(first.entries.map { $0 } == Self.newestFirst(made).map { $0 })
        }
    }

    @Test func entriesCreatedTogetherAreOrderedByID() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            // One import: one transaction, so the rows share created_at.
            var csv = "recorded_on,weight\r\n"
            for index in 0..<12 { csv += "2019-05-0\(index % 3 + 1),\(60 + index)\r\n" }
            #expect(try await client.importCSV(user.token, csv).json["imported"]?.intValue == 12)
            let distinct = try await TestDatabase.count(databaseURL, "SELECT count(DISTINCT created_at) AS n FROM weight_entries")
            let listed = try await client.listAll(user.token)
            #expect(listed.count == 12)
            #expect(Self.isInContractOrder(listed), "\(Self.ids(listed))")
            if distinct == 1 {
                // Ties on recorded_on and created_at: by id, one direction throughout.
                for day in ["2019-05-01", "2019-05-02", "2019-05-03"] {
                    let group = Self.ids(listed.filter { $0["recorded_on"]?.stringValue == day })
                    #expect(group == group.sorted() || group == group.sorted(by: >), "\(day): \(group)")
                }
            }
            for limit in [1, 2, 5] {
                #expect(Self.ids(try await client.listAll(user.token, limit: limit)) == Self.ids(listed), "limit \(limit)")
            }
        }
    }

    @Test func fromAndToAreInclusive() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            for day in 1...5 { try await client.createEntry(user.token, weight: "7\(day)", recordedOn: "2019-04-0\(day)") }
            func days(_ query: [String: String]) async throws -> [String] {
                try await client.listAll(user.token, query: query).compactMap { $0["recorded_on"]?.stringValue }
            }
            #expect(try await days(["from": "2019-04-02", "to": "2019-04-04"]) == ["2019-04-04", "2019-04-03", "2019-04-02"])
            #expect(try await days(["from": "2019-04-04"]) == ["2019-04-05", "2019-04-04"])
            #expect(try await days(["to": "2019-04-02"]) == ["2019-04-02", "2019-04-01"])
            #expect(try await days(["from": "2019-04-03", "to": "2019-04-03"]) == ["2019-04-03"])
            #expect(try await days(["from": "2019-05-01", "to": "2019-05-31"]) == [])
            #expect(try await days(["from": "1900-01-01", "to": "2019-03-31"]) == [])
            #expect(try await days([:]).count == 5)
        }
    }

    @Test func limitDefaultsTo100() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            var csv = "recorded_on,weight,unit,note\r\n"
            for day in 0..<101 { csv += "\(dayAfter("2018-01-01", day)),\(60 + day % 30),kg,\r\n" }
            #expect(try await client.importCSV(user.token, csv).json == ["imported": 101])
            let first = try await Self.page(client, user.token, [:])
            #expect(first.entries.count == 100)
            let cursor = try #require(first.next)
            let rest = try await Self.page(client, user.token, ["cursor": cursor])
            #expect(rest.entries.count == 1)
            #expect(rest.next == nil)
            #expect(Set(Self.ids(first.entries)).isDisjoint(with: Self.ids(rest.entries)))
            #expect(rest.entries.first?["recorded_on"]?.stringValue == "2018-01-01")
        }
    }

    @Test func limitMustBe1To1000() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            for day in 1...3 { try await client.createEntry(user.token, weight: "70", recordedOn: "2019-06-0\(day)") }
            let one = try await Self.page(client, user.token, ["limit": "1"])
            #expect(one.entries.count == 1 && one.next != nil)
            let all = try await Self.page(client, user.token, ["limit": "1000"])
            #expect(all.entries.count == 3 && all.next == nil)
            for limit in ["0", "1001", "-1", "abc", "1.5", "", "1e2", " 5", "+5", "99999999999999999999"] {
                expectValidation(try await client.send(.get, "/v1/entries" + queryString(["limit": limit]), token: user.token),
                                 field: "limit", "limit \(limit)")
            }
        }
    }

    @Test func rangeAndUnitErrors() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            expectValidation(try await client.send(.get, "/v1/entries?from=2019-07-03&to=2019-07-02", token: user.token), field: "from")
            for parameter in ["from", "to"] {
                for value in ["2019-02-30", "2019-13-01", "July 1st", "2019/07/01", "2019-7-1", "", "2019-07-01T00:00:00Z"] {
                    let response = try await client.send(.get, "/v1/entries" + queryString([parameter: value]), token: user.token)
                    expectValidation(response, field: parameter, "\(parameter)=\(value)")
                }
            }
            for unit in ["stone", "KG", "", "pounds"] {
                expectValidation(try await client.send(.get, "/v1/entries" + queryString(["unit": unit]), token: user.token),
                                 field: "unit", "unit=\(unit)")
            }
            #expect(try await client.send(.get, "/v1/entries?from=2019-07-02&to=2019-07-02&unit=lbs", token: user.token).status == .ok)
        }
    }

    @Test func extremeDatesAreAnsweredNotFailed() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            try await client.createEntry(user.token, weight: "70", recordedOn: "1900-01-01")
            try await client.createEntry(user.token, weight: "71", recordedOn: "2020-01-01")
            let queries: [[String: String]] = [
                ["from": "0000-01-01"], ["to": "0000-12-31"], ["from": "0001-01-01"], ["to": "9999-12-31"],
                ["from": "0001-01-01", "to": "9999-12-31"], ["from": "9999-12-31"], ["from": "0000-01-01", "to": "9999-12-31"],
            ]
            for query in queries {
                for path in ["/v1/entries", "/v1/stats", "/v1/trend", "/v1/trend?window=90&"] {
                    let uri = path.hasSuffix("&") ? path + queryString(query).dropFirst() : path + queryString(query)
                    let response = try await client.send(.get, uri, token: user.token)
                    #expect(response.status == .ok || response.status == .unprocessableContent, "\(uri): \(response.status) \(response.text)")
                    if response.status == .unprocessableContent {
                        #expect(errorFields(response.json).contains { query.keys.contains($0) }, "\(uri): \(response.text)")
                    }
                }
            }
            // The whole range includes both entries.
            let all = try await client.listAll(user.token, query: ["from": "0001-01-01", "to": "9999-12-31"])
            #expect(all.count == 2)
        }
    }

    @Test func cursorPagingVisitsEveryEntryExactlyOnce() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            var made: [JSONValue] = []
            for (weight, day) in [("70", "2019-08-01"), ("71", "2019-08-02"), ("72", "2019-08-02"), ("73", "2019-08-02"),
                                  ("74", "2019-08-03"), ("75", "2019-08-05"), ("76", "2019-08-06"), ("77", "2019-09-01")] {
                made.append(try await client.createEntry(user.token, weight: weight, recordedOn: day))
            }
            // Some created together (equal created_at), on days that already have entries.
            let csv = "recorded_on,weight\r\n2019-08-02,78\r\n2019-08-02,79\r\n2019-08-05,80\r\n2019-08-01,81\r\n2019-08-10,82\r\n"
            #expect(try await client.importCSV(user.token, csv).status == .ok)
            let range = ["from": "2019-08-01", "to": "2019-08-31"]
            let unpaged = try await client.listAll(user.token, query: range)
            #expect(unpaged.count == 12)
            #expect(Self.isInContractOrder(unpaged))
            for limit in [1, 2, 3, 7, 12, 13] {
                var seen: [JSONValue] = []
                var parameters = range
                parameters["limit"] = String(limit)
                var pages = 0
                while true {
                    let page = try await Self.page(client, user.token, parameters)
                    pages += 1
                    #expect(page.entries.count <= limit)
                    if page.next != nil { #expect(page.entries.count == limit, "limit \(limit): short page before the end") }
                    seen += page.entries
                    guard let next = page.next, pages < 50 else { break }
                    parameters["cursor"] = next
                }
                #expect(Self.ids(seen) == Self.ids(unpaged), "limit \(limit)")
                #expect(Set(Self.ids(seen)).count == seen.count, "limit \(limit): an entry came twice")
                #expect(pages <= 12 / limit + 1, "limit \(limit): \(pages) pages")
            }
            // The range is respected on every page.
            let august = try await client.listAll(user.token, query: range, limit: 2)
            #expect(!Self.ids(august).contains(made[7]["id"]!.stringValue!))
        }
    }

    @Test func pagingIsStableWhileEntriesAreAdded() async throws {
        try await awayFromMidnight()
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            var original: [JSONValue] = []
            for day in 1...9 {
                original.append(try await client.createEntry(user.token, weight: "7\(day)", recordedOn: "2003-01-0\(day)"))
            }
            original.append(try await client.createEntry(user.token, weight: "80", recordedOn: "2003-01-05"))
            var seen: [JSONValue] = []
            var added: [JSONValue] = []
            var ahead: [JSONValue] = []
            var page = try await Self.page(client, user.token, ["limit": "3"])
            seen += page.entries
            var pages = 1
            while let cursor = page.next, pages < 30 {
                let last = try #require(seen.last?["recorded_on"]?.stringValue)
                // Before the cursor: the newest day, and the last day seen (created later, so sorting before it).
                added.append(try await client.createEntry(user.token, weight: "90", recordedOn: utcDay()))
                added.append(try await client.createEntry(user.token, weight: "91", recordedOn: last))
                // After the cursor: an older day than any seen, still to come.
                let older = try await client.createEntry(user.token, weight: "92", recordedOn: "2002-12-\(30 - pages)")
                added.append(older)
                ahead.append(older)
                page = try await Self.page(client, user.token, ["limit": "3", "cursor": cursor])
                seen += page.entries
                pages += 1
            }
            #expect(page.next == nil)
            let seenIDs = Self.ids(seen)
            #expect(Set(seenIDs).count == seenIDs.count, "an entry came twice: \(seenIDs)")
            for entry in original {
                #expect(seenIDs.filter { $0 == entry["id"]?.stringValue }.count == 1, "\(entry) not seen exactly once")
            }
            // Entries added ahead of the cursor are visited too (once).
            for entry in ahead { #expect(seenIDs.contains(entry["id"]!.stringValue!)) }
            #expect(added.count >= 9)
            #expect(Self.isInContractOrder(seen.filter { entry in !added.contains { $0["id"] == entry["id"] } }))
        }
    }

    @Test func aCursorStaysValidWhenItsEntryIsDeleted() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            var made: [JSONValue] = []
            for day in 1...5 { made.append(try await client.createEntry(user.token, weight: "70", recordedOn: "2019-12-0\(day)")) }
            let first = try await Self.page(client, user.token, ["limit": "2"])
            let cursor = try #require(first.next)
            let last = try #require(first.entries.last?["id"]?.stringValue)
            #expect(try await client.send(.delete, "/v1/entries/\(last)", token: user.token).status == .noContent)
            let rest = try await client.listAll(user.token, query: ["cursor": cursor], limit: 2)
            #expect(Self.ids(rest) == Self.ids(Self.newestFirst(made)).suffix(3).map { $0 })
        }
    }

    @Test func cursorsTheServerDidNotIssueAre422() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let other = try await client.newUser()
            for day in 1...4 {
                try await client.createEntry(user.token, weight: "70", recordedOn: "2019-10-0\(day)")
                try await client.createEntry(other.token, weight: "80", recordedOn: "2019-10-0\(day)")
            }
            let real = try #require(try await Self.page(client, user.token, ["limit": "1"]).next)
            var forged: [(String, String)] = [
                ("garbage", "garbage"), ("0", "zero"), ("", "empty"), (String(repeating: "a", count: 300), "long"),
                ("eyJmb28iOiJiYXIifQ", "base64 JSON"), ("%%%", "percent signs"),
                (String(real.dropLast()), "truncated"), (real + "A", "extended"), (real + real, "doubled"),
            ]
            for index in [0, 5, real.count / 2, real.count - 3] {
                var characters = Array(real)
                characters[index] = characters[index] == "A" ? "B" : "A"
                forged.append((String(characters), "altered at \(index)"))
            }
            for (cursor, label) in forged where cursor != real {
                let response = try await client.send(.get, "/v1/entries" + queryString(["limit": "1", "cursor": cursor]), token: user.token)
                expectValidation(response, field: "cursor", label)
            }
            // Another user's real cursor.
            let theirs = try #require(try await Self.page(client, other.token, ["limit": "1"]).next)
            expectValidation(try await client.send(.get, "/v1/entries" + queryString(["limit": "1", "cursor": theirs]), token: user.token),
                             field: "cursor", "another user's cursor")
            expectValidation(try await client.send(.get, "/v1/entries" + queryString(["limit": "1", "cursor": real]), token: other.token),
                             field: "cursor", "my cursor sent by another user")
            // A cursor sent with another range.
            let ranged = ["from": "2019-10-01", "to": "2019-10-31", "limit": "1"]
            let rangedCursor = try #require(try await Self.page(client, user.token, ranged).next)
            for (changed, label) in [
                (["from": "2019-10-02", "to": "2019-10-31"], "other from"), (["from": "2019-10-01", "to": "2019-10-30"], "other to"),
                (["from": "2019-10-01"], "without to"), ([:], "without from and to"), (["to": "2019-10-31"], "without from"),
            ] as [([String: String], String)] {
                var parameters = changed
                parameters["limit"] = "1"
                parameters["cursor"] = rangedCursor
                expectValidation(try await client.send(.get, "/v1/entries" + queryString(parameters), token: user.token),
                                 field: "cursor", label)
            }
            // Same range, another unit or limit: fine.
            var same = ranged
            same["cursor"] = rangedCursor
            same["unit"] = "lb"
            same["limit"] = "2"
            #expect(try await client.send(.get, "/v1/entries" + queryString(same), token: user.token).status == .ok)
            #expect(try await client.send(.get, "/v1/entries" + queryString(["limit": "1", "cursor": real]), token: user.token).status == .ok)
        }
    }

    @Test func theUnitAppliesToEveryPage() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser(weightUnit: "kg")
            var made: [(id: String, weight: String, unit: String)] = []
            for (index, (weight, unit)) in [("70.5", "kg"), ("71.55", "kg"), ("180.2", "lb"), ("72.45", "kg"), ("150", "lb"),
                                            ("80", "kg"), ("99.99", "kg")].enumerated() {
                let entry = try await client.createEntry(user.token, weight: weight, unit: unit, recordedOn: "2019-11-0\(index + 1)")
                made.append((entry["id"]!.stringValue!, weight, unit))
            }
            for display in ["lb", "kg", nil] as [String?] {
                var query: [String: String] = [:]
                if let display { query["unit"] = display }
                let listed = try await client.listAll(user.token, query: query, limit: 2)
                #expect(listed.count == made.count)
                for entry in listed {
                    let source = try #require(made.first { $0.id == entry["id"]?.stringValue })
                    let unit = display ?? "kg"
                    #expect(entry["unit"]?.stringValue == unit)
                    #expect(entry["weight"]?.decimal == shown(source.weight, source.unit, in: unit), "\(entry) in \(unit)")
                }
            }
            let lbs = try await client.listAll(user.token, query: ["unit": "lbs"], limit: 3)
            #expect(lbs.allSatisfy { $0["unit"]?.stringValue == "lb" })
        }
    }

    @Test func listingOnALiveServer() async throws {
        try await TestApp.run(.live) { client, _ in
            let user = try await client.newUser(weightUnit: "lb")
            var csv = "recorded_on,weight,unit\r\n"
            for day in 0..<25 { csv += "\(dayAfter("2010-01-01", day % 10)),\(60 + day),kg\r\n" }
            #expect(try await client.importCSV(user.token, csv).status == .ok)
            let all = try await client.listAll(user.token, limit: 1000)
            let paged = try await client.listAll(user.token, query: ["from": "2010-01-01", "to": "2010-12-31"], limit: 4)
            #expect(Self.ids(all) == Self.ids(paged))
            #expect(all.count == 25)
            #expect(Self.isInContractOrder(all))
            #expect(paged.allSatisfy { $0["unit"]?.stringValue == "lb" })
            expectValidation(try await client.send(.get, "/v1/entries?cursor=forged", token: user.token), field: "cursor")
        }
    }
}
