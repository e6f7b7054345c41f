import Foundation
import HTTPTypes
import HummingbirdTesting
import Postgres
import Testing
import WireFormats

/// Entries as devices record them: `measured_at` with its offset, body composition, source; the listing order
/// within a day; export and import of every column.
@Suite("HTTP: readings with their time, body composition and source")
struct ReadingRouteTests {
    /// POSTs `body` (JSON text) and returns the answer.
    func post(_ client: some TestClientProtocol, _ token: String, _ body: String) async throws -> TestResponse {
        try await client.send(.post, "/v1/entries", token: token, json: body)
    }

    func created(_ client: some TestClientProtocol, _ token: String, _ body: String) async throws -> JSONValue {
        let response = try await post(client, token, body)
        #expect(response.status == .created, "\(body): \(response.text)")
        return response.json
    }

    @Test func measuredAtComesBackInItsOwnOffsetAndGivesTheDay() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            for (sent, back, day) in [
                ("2021-11-26T23:30:00-05:00", "2021-11-26T23:30:00-05:00", "2021-11-26"),
                ("2021-11-27T00:30:00.250+09:00", "2021-11-27T00:30:00.25+09:00", "2021-11-27"),
                ("2021-11-28T07:30:00Z", "2021-11-28T07:30:00Z", "2021-11-28"),
                ("2021-11-28T07:30:00+00:00", "2021-11-28T07:30:00+00:00", "2021-11-28"),
                ("2021-11-29T12:00:00.000001+14:00", "2021-11-29T12:00:00.000001+14:00", "2021-11-29"),
            ] {
                let entry = try await created(client, user.token, #"{"weight": 72, "measured_at": "\#(sent)"}"#)
                let fetched = try await client.send(.get, "/v1/entries/\(entry["id"]!.stringValue!)", token: user.token).json
                for seen in [entry, fetched] {
                    #expect(seen["measured_at"]?.stringValue == back, "\(sent)")
                    #expect(seen["recorded_on"]?.stringValue == day, "\(sent)")
                }
            }
        }
    }

    @Test func theDayAndTheTimeMustAgreeAndOneOfThemIsRequired() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let agreeing = try await created(
                client, user.token, #"{"weight": 70, "recorded_on": "2021-11-26", "measured_at": "2021-11-26T23:30:00-05:00"}"#)
            #expect(agreeing["recorded_on"]?.stringValue == "2021-11-26")
            expectValidation(
                try await post(client, user.token,
                               #"{"weight": 70, "recorded_on": "2021-11-27", "measured_at": "2021-11-26T23:30:00-05:00"}"#),
                field: "recorded_on")
            expectValidation(try await post(client, user.token, #"{"weight": 70}"#), field: "recorded_on")
            expectValidation(try await post(client, user.token, #"{"weight": 70, "measured_at": null}"#), field: "recorded_on")
            // A derived day out of range names measured_at; a given one names recorded_on.
            expectValidation(
                try await post(client, user.token, #"{"weight": 70, "measured_at": "1899-12-31T23:00:00Z"}"#),
                field: "measured_at")
            expectValidation(
                try await post(client, user.token,
                               #"{"weight": 70, "recorded_on": "1899-12-31", "measured_at": "1899-12-31T23:00:00Z"}"#),
                field: "recorded_on")
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM weight_entries") == 1)
        }
    }

    @Test(arguments: [
        "2021-11-26T07:30:00", "2021-11-26T24:00:00Z", "2021-12-31T23:59:60Z", "2021-11-26T07:30:00+14:30",
        "2021-11-26T07:30:00-12:30", "2021-11-26T07:30Z", "2021-11-26T07:30:00.1234567Z", "2021-11-26", "tomorrow",
        "2021-11-26T07:30:00-00:00", "2021-11-26 07:30:00Z",
    ])
    func aTimestampThatIsNotStrictRFC3339WithAnOffsetIsRefused(_ text: String) async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            expectValidation(
                try await post(client, user.token, #"{"weight": 70, "measured_at": "\#(text)"}"#), field: "measured_at",
                text)
            expectValidation(
                try await post(client, user.token, #"{"weight": 70, "recorded_on": "2021-11-26", "measured_at": 5}"#),
                field: "measured_at")
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM weight_entries") == 0)
        }
    }

    @Test func bodyCompositionAndSourceAreKeptExactlyAndNeverConverted() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let entry = try await created(client, user.token, """
                {"weight": 80, "unit": "kg", "recorded_on": "2021-10-02", "body_fat_percent": 23.45,
                 "water_percent": 55.10, "muscle_percent": 38, "visceral_fat": 9.0, "source": "  Withings Body+\\t"}
                """)
            let inPounds = try await client.send(.get, "/v1/entries/\(entry["id"]!.stringValue!)?unit=lb", token: user.token)
            for seen in [entry, inPounds.json] {
                #expect(seen["body_fat_percent"]?.decimal == dec("23.45"))
                #expect(seen["water_percent"]?.decimal == dec("55.1"))
                #expect(seen["muscle_percent"]?.decimal == dec("38"))
                #expect(seen["visceral_fat"]?.intValue == 9)
                #expect(seen["source"]?.stringValue == "Withings Body+")
            }
            #expect(inPounds.json["weight"]?.decimal == dec("176.37"))
        }
    }

    @Test func everyOutOfRangeCompositionFieldIsNamedInOneAnswer() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let response = try await post(client, user.token, """
                {"weight": 80, "recorded_on": "2021-10-02", "body_fat_percent": 0, "water_percent": 100,
                 "muscle_percent": 23.456, "visceral_fat": 60, "source": "   "}
                """)
            let problem = expectValidation(response, field: "body_fat_percent")
            #expect(Set(errorFields(problem)) ==
                    ["body_fat_percent", "water_percent", "muscle_percent", "visceral_fat", "source"], "\(response.text)")
            let types = try await post(client, user.token, """
                {"weight": 80, "recorded_on": "2021-10-02", "body_fat_percent": "20", "visceral_fat": 9.5,
                 "source": \(jsonText(String(repeating: "s", count: 101)))}
                """)
            #expect(Set(errorFields(expectValidation(types, field: "visceral_fat"))) ==
                    ["body_fat_percent", "visceral_fat", "source"], "\(types.text)")
            for edge in [#""body_fat_percent": 0.01"#, #""water_percent": 99.99"#, #""visceral_fat": 1"#,
                         #""visceral_fat": 59"#, #""source": "\#(String(repeating: "é", count: 100))""#] {
                #expect(try await post(client, user.token, #"{"weight": 80, "recorded_on": "2021-10-03", \#(edge)}"#)
                    .status == .created, "\(edge)")
            }
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM weight_entries") == 5)
        }
    }

    @Test func patchSetsOrClearsTheTimeAndTheCompositionAndKeepsTheDayInAgreement() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let entry = try await created(
                client, user.token, #"{"weight": 70, "recorded_on": "2021-10-02", "body_fat_percent": 20, "source": "scale"}"#)
            let uri = "/v1/entries/\(entry["id"]!.stringValue!)"
            let timed = try await client.send(.patch, uri, token: user.token, json: #"{"measured_at": "2021-10-05T06:00:00+02:00"}"#)
            #expect(timed.status == .ok)
            #expect(timed.json["recorded_on"]?.stringValue == "2021-10-05" && timed.json["measured_at"]?.stringValue == "2021-10-05T06:00:00+02:00")
            expectValidation(
                try await client.send(.patch, uri, token: user.token, json: #"{"recorded_on": "2021-10-06"}"#),
                field: "recorded_on", "a day alone must agree with the stored time")
            expectValidation(
                try await client.send(
                    .patch, uri, token: user.token,
                    json: #"{"recorded_on": "2021-10-06", "measured_at": "2021-10-05T23:00:00Z"}"#),
                field: "recorded_on")
            let both = try await client.send(
                .patch, uri, token: user.token, json: #"{"recorded_on": "2021-10-05", "measured_at": "2021-10-05T23:00:00-02:00"}"#)
            #expect(both.status == .ok && both.json["recorded_on"]?.stringValue == "2021-10-05", "\(both.text)")
            #expect(both.json["measured_at"]?.stringValue == "2021-10-05T23:00:00-02:00")
            let cleared = try await client.send(
                .patch, uri, token: user.token,
                json: #"{"measured_at": null, "body_fat_percent": null, "source": null, "water_percent": 50.5}"#)
            #expect(cleared.status == .ok)
            #expect(cleared.json["measured_at"] == .null && cleared.json["recorded_on"]?.stringValue == "2021-10-05")
            #expect(cleared.json["body_fat_percent"] == .null && cleared.json["source"] == .null)
            #expect(cleared.json["water_percent"]?.decimal == dec("50.5"))
            let moved = try await client.send(.patch, uri, token: user.token, json: #"{"recorded_on": "2021-10-06"}"#)
            #expect(moved.status == .ok && moved.json["recorded_on"]?.stringValue == "2021-10-06", "no time: the day moves")
        }
    }

    @Test func withinADayEntriesWithoutATimeComeFirstThenNewestTimeFirstAndPagingKeepsIt() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            var bodies: [String] = []
            for day in 1...3 {
                bodies += [
                    #"{"weight": 70, "measured_at": "2021-10-0\#(day)T21:00:00+02:00"}"#,
                    #"{"weight": 71, "recorded_on": "2021-10-0\#(day)"}"#,
                    #"{"weight": 72, "measured_at": "2021-10-0\#(day)T07:00:00+02:00"}"#,
                    #"{"weight": 73, "recorded_on": "2021-10-0\#(day)"}"#,
                    #"{"weight": 74, "measured_at": "2021-10-0\#(day)T07:00:00Z"}"#,
                ]
            }
            var ids: [String] = []
            for body in bodies { ids.append(try await created(client, user.token, body)["id"]!.stringValue!) }
            // Per day: no time (newest created first), then 07:00Z (= 09:00+02:00), 21:00+02:00 ... newest time first.
            var expected: [String] = []
            for day in (0..<3).reversed() {
                let d = Array(ids[(day * 5)..<(day * 5 + 5)])
                expected += [d[3], d[1], d[0], d[4], d[2]]
            }
            for limit in [1, 2, 4, 15] {
                let listed = try await client.listAll(user.token, limit: limit).compactMap { $0["id"]?.stringValue }
                #expect(listed == expected, "limit \(limit)")
            }
            let export = try await client.send(.get, "/v1/entries/export?format=json", token: user.token).json
            #expect(export.arrayValue?.compactMap { $0["id"]?.stringValue } == expected.reversed(), "export: oldest first")
        }
    }

    @Test func everyColumnRoundTripsThroughExportAndImportInAnyOrder() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            _ = try await created(client, user.token, """
                {"weight": 72.35, "unit": "kg", "measured_at": "2021-10-04T06:45:00.5-04:00", "body_fat_percent": 21.5,
                 "visceral_fat": 7, "source": "scale, \\"Body+\\"", "note": "a,b"}
                """)
            _ = try await created(client, user.token, #"{"weight": 160.4, "unit": "lb", "recorded_on": "2021-10-05"}"#)
            let csv = try await client.send(.get, "/v1/entries/export", token: user.token).text
            let json = try await client.send(.get, "/v1/entries/export?format=json", token: user.token)
            let other = try await client.newUser()
            #expect(try await client.importCSV(other.token, csv).json == ["imported": 2])
            let fromJSON = try await client.newUser()
            let imported = try await client.sendBytes(.post, "/v1/entries/import", token: fromJSON.token, body: json.bytes)
            #expect(imported.json == ["imported": 2], "\(imported.text)")
            let kept: Set<String> = ["id", "created_at", "updated_at"]
            let original = json.json.arrayValue!.map { $0.removing(kept) }
            for token in [other.token, fromJSON.token] {
                let again = try await client.send(.get, "/v1/entries/export?format=json", token: token).json
                #expect(again.arrayValue!.map { $0.removing(kept) } == original)
            }
            let reordered = "source,measured_at,weight,visceral_fat\r\nphone,2021-10-06T08:00:00+01:00,70.1,\r\n"
            #expect(try await client.importCSV(other.token, reordered).json == ["imported": 1])
        }
    }

    @Test(arguments: [
        ("weight,unit\r\n70,kg\r\n", "recorded_on"), ("recorded_on,unit\r\n2021-01-01,kg\r\n", "weight"),
        ("recorded_on,weight,heart_rate\r\n2021-01-01,70,60\r\n", "heart_rate"),
    ])
    func aHeaderWithoutWeightOrDayOrWithAnUnknownColumnFailsAsRowZero(_ csv: String, _ field: String) async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let problem = expectValidation(try await client.importCSV(user.token, csv), field: field)
            #expect(problem["row"]?.intValue == 0)
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM weight_entries") == 0)
        }
    }

    @Test func aFailingImportRowNamesItsColumnAndStoresNothing() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let csv = "measured_at,weight,body_fat_percent\r\n2021-10-01T07:00:00Z,70,20\r\n2021-10-02T07:00:00,71,101\r\n"
            let problem = expectValidation(try await client.importCSV(user.token, csv), field: "measured_at")
            #expect(problem["row"]?.intValue == 2)
            #expect(Set(errorFields(problem)) == ["measured_at", "body_fat_percent"])
            let disagreeing = "recorded_on,measured_at,weight\r\n2021-10-02,2021-10-01T07:00:00Z,70\r\n"
            expectValidation(try await client.importCSV(user.token, disagreeing), field: "recorded_on")
            #expect(try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM weight_entries") == 0)
        }
    }

    @Test func theDatabaseRefusesRowsWrittenByHandThatBreakTheRules() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let id = UUID(uuidString: user.id)!
            let statements: [SQL] = [
                "INSERT INTO weight_entries (user_id, weight, unit, recorded_on, body_fat_percent) VALUES (\(id), 70, 'kg', '2021-01-01', 100)",
                "INSERT INTO weight_entries (user_id, weight, unit, recorded_on, water_percent) VALUES (\(id), 70, 'kg', '2021-01-01', 20.123)",
                "INSERT INTO weight_entries (user_id, weight, unit, recorded_on, visceral_fat) VALUES (\(id), 70, 'kg', '2021-01-01', 60)",
                "INSERT INTO weight_entries (user_id, weight, unit, recorded_on, source) VALUES (\(id), 70, 'kg', '2021-01-01', '')",
                "INSERT INTO weight_entries (user_id, weight, unit, recorded_on, measured_at, measured_offset, measured_zulu) VALUES (\(id), 70, 'kg', '2021-01-02', '2021-01-01T12:00:00Z', 0, true)",
                "INSERT INTO weight_entries (user_id, weight, unit, recorded_on, measured_at, measured_offset, measured_zulu) VALUES (\(id), 70, 'kg', '2021-01-01', '2021-01-01T12:00:00Z', 900, false)",
                "INSERT INTO weight_entries (user_id, weight, unit, recorded_on, measured_at) VALUES (\(id), 70, 'kg', '2021-01-01', '2021-01-01T12:00:00Z')",
            ]
            for statement in statements {
                await #expect(throws: PostgresError.self, "\(statement.text)") {
                    try await TestDatabase.query(databaseURL, statement)
                }
            }
            // The local day is checked in the offset: 23:30-05:00 on the 26th is 04:30Z on the 27th.
            try await TestDatabase.query(
                databaseURL,
                "INSERT INTO weight_entries (user_id, weight, unit, recorded_on, measured_at, measured_offset, measured_zulu) VALUES (\(id), 70, 'kg', '2021-11-26', '2021-11-27T04:30:00Z', -300, false)")
            let listed = try await client.listAll(user.token)
            #expect(listed.first?["measured_at"]?.stringValue == "2021-11-26T23:30:00-05:00")
        }
    }
}
