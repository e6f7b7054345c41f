import Foundation
import HTTPTypes
import HummingbirdTesting
import Postgres
import Testing
import WireFormats

/// HTTP: weight entries one at a time (create, read, change, delete), units and display, and every validation rule.
@Suite("HTTP: weight entries")
struct EntryRouteTests {
    static let mebibyte = 1 << 20

    /// The stored weight (as text), unit and note of an entry, read from the database.
    static func stored(_ databaseURL: String, _ id: String) async throws -> (weight: Decimal, unit: String, note: String?) {
        let rows = try await TestDatabase.query(
            databaseURL, "SELECT weight, unit, note FROM weight_entries WHERE id = \(UUID(uuidString: id)!)")
        let row = try #require(rows.first)
        return (try row.decode(Decimal.self, column: "weight"), try row.decode(String.self, column: "unit"),
                try row.decode(String?.self, column: "note"))
    }

    static func entryCount(_ databaseURL: String) async throws -> Int {
        try await TestDatabase.count(databaseURL, "SELECT count(*) AS n FROM weight_entries")
    }

    // MARK: - Create and read

    @Test func createAnswers201WithTheEntryAndItsLocation() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let response = try await client.send(
                .post, "/v1/entries", token: user.token,
                json: #"{"weight": 72.35, "unit": "kg", "recorded_on": "2020-05-01", "note": "after the run"}"#)
            #expect(response.status == .created)
            #expect(response.mediaType == "application/json")
            let entry = response.json
            #expect(entry.keys == entryMembers)
            let id = try #require(entry["id"]?.stringValue)
            #expect(id.count == 36 && UUID(uuidString: id) != nil)
            #expect(entry["weight"]?.decimal == dec("72.35"))
            #expect(entry["unit"]?.stringValue == "kg")
            #expect(entry["recorded_on"]?.stringValue == "2020-05-01")
            #expect(entry["note"]?.stringValue == "after the run")
            for member in ["created_at", "updated_at"] {
                let time = try #require(parseTimestamp(entry[member]?.stringValue ?? ""), "\(member)")
                #expect(abs(time.timeIntervalSinceNow) < 300)
            }
            #expect(response.headers[.location] == "/v1/entries/\(id)")
            let read = try await client.send(.get, "/v1/entries/\(id)", token: user.token)
            #expect(read.status == .ok)
            #expect(read.json == entry)

            let noNote = try await client.createEntry(user.token, weight: "70", recordedOn: "2020-05-02")
            #expect(noNote["note"] == .null)
            let nullNote = try await client.send(
                .post, "/v1/entries", token: user.token, json: #"{"weight": 70, "recorded_on": "2020-05-02", "note": null}"#)
            #expect(nullNote.status == .created)
            #expect(nullNote.json["note"] == .null)
        }
    }

    @Test func theContractsConversionExamples() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser(weightUnit: "kg")
            // 180.2 lb shows as 81.74 kg.
            let pounds = try await client.createEntry(user.token, weight: "180.2", unit: "lb", recordedOn: "2021-01-01")
            #expect(pounds["weight"]?.decimal == dec("81.74"))
            #expect(pounds["unit"]?.stringValue == "kg")
            #expect(dec("81.74") == shown("180.2", "lb", in: "kg"))
            let id = try #require(pounds["id"]?.stringValue)
            let asPounds = try await client.send(.get, "/v1/entries/\(id)?unit=lb", token: user.token)
            #expect(asPounds.json["weight"]?.decimal == dec("180.2"))
            #expect(asPounds.json["unit"]?.stringValue == "lb")
            #expect(try await Self.stored(databaseURL, id).weight == dec("180.2"))
            #expect(try await Self.stored(databaseURL, id).unit == "lb")
            // 80 kg shows as 176.37 lb.
            let kilograms = try await client.createEntry(user.token, weight: "80", unit: "kg", recordedOn: "2021-01-02", query: "?unit=lb")
            #expect(kilograms["weight"]?.decimal == dec("176.37"))
            #expect(kilograms["unit"]?.stringValue == "lb")
            #expect(dec("176.37") == shown("80", "kg", in: "lb"))
            let lbUser = try await client.newUser(weightUnit: "lb")
            let seen = try await client.createEntry(lbUser.token, weight: "80", unit: "kg", recordedOn: "2021-01-02")
            #expect(seen["weight"]?.decimal == dec("176.37"))
            #expect(seen["unit"]?.stringValue == "lb")
            let kgID = try #require(kilograms["id"]?.stringValue)
            #expect(try await client.send(.get, "/v1/entries/\(kgID)", token: user.token).json["weight"]?.decimal == 80)
        }
    }

    @Test(arguments: [
        ("0.29", "kg"), ("0.07", "kg"), ("1.15", "kg"), ("4.35", "kg"), ("19.99", "kg"), ("72.35", "kg"),
        ("999.99", "kg"), ("0.01", "kg"), ("1000", "kg"), ("1000.00", "kg"), ("2204.62", "lb"), ("0.01", "lb"),
        ("70.10", "kg"), ("7e1", "kg"), ("7.25E1", "lb"),
    ])
    func weightsRoundTripExactly(weight: String, unit: String) async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser(weightUnit: unit)
            let entry = try await client.createEntry(user.token, weight: weight, unit: unit, recordedOn: "2020-01-01")
            #expect(entry["weight"]?.decimal == dec(weight))
            #expect(entry["unit"]?.stringValue == unit)
            let id = try #require(entry["id"]?.stringValue)
            #expect(try await client.send(.get, "/v1/entries/\(id)", token: user.token).json["weight"]?.decimal == dec(weight))
            #expect(try await Self.stored(databaseURL, id).weight == dec(weight))
            // The number is written as a plain JSON number, not a string.
            #expect(entry["weight"]?.numberValue != nil)
        }
    }

    @Test func aWeightWithoutUnitIsInTheDisplayUnit() async throws {
        try await TestApp.run { client, databaseURL in
            let kgUser = try await client.newUser(weightUnit: "kg")
            let plain = try await client.createEntry(kgUser.token, weight: "70", unit: nil, recordedOn: "2020-01-01")
            #expect(try await Self.stored(databaseURL, plain["id"]!.stringValue!).unit == "kg")
            let queried = try await client.createEntry(kgUser.token, weight: "70", unit: nil, recordedOn: "2020-01-01", query: "?unit=lb")
            let queriedStored = try await Self.stored(databaseURL, queried["id"]!.stringValue!)
            #expect(queriedStored.unit == "lb" && queriedStored.weight == 70)
            #expect(queried["weight"]?.decimal == 70 && queried["unit"]?.stringValue == "lb")
            let lbUser = try await client.newUser(weightUnit: "lb")
            let lbEntry = try await client.createEntry(lbUser.token, weight: "150", unit: nil, recordedOn: "2020-01-01")
            #expect(try await Self.stored(databaseURL, lbEntry["id"]!.stringValue!).unit == "lb")
            let kgQueried = try await client.createEntry(lbUser.token, weight: "65", unit: nil, recordedOn: "2020-01-01", query: "?unit=kg")
            #expect(try await Self.stored(databaseURL, kgQueried["id"]!.stringValue!).unit == "kg")
            // The display limit applies: 1500 is fine in lb but not in kg.
            #expect(try await client.send(.post, "/v1/entries?unit=lb", token: kgUser.token,
                                          json: #"{"weight": 1500, "recorded_on": "2020-01-01"}"#).status == .created)
            expectValidation(try await client.send(.post, "/v1/entries", token: kgUser.token,
                                                   json: #"{"weight": 1500, "recorded_on": "2020-01-01"}"#), field: "weight")
            expectValidation(try await client.send(.post, "/v1/entries", token: lbUser.token,
                                                   json: #"{"weight": 2204.63, "recorded_on": "2020-01-01"}"#), field: "weight")
            // PATCH with a weight and no unit: in the display unit of that request.
            let id = try #require(plain["id"]?.stringValue)
            let patched = try await client.send(.patch, "/v1/entries/\(id)?unit=lb", token: kgUser.token, json: #"{"weight": 71}"#)
            #expect(patched.status == .ok)
            #expect(patched.json["weight"]?.decimal == 71 && patched.json["unit"]?.stringValue == "lb")
            let after = try await Self.stored(databaseURL, id)
            #expect(after.weight == 71 && after.unit == "lb")
            // PATCH with weight and unit: that unit, whatever the display.
            let both = try await client.send(.patch, "/v1/entries/\(id)?unit=lb", token: kgUser.token,
                                             json: #"{"weight": 72.5, "unit": "kg"}"#)
            #expect(both.json["weight"]?.decimal == shown("72.5", "kg", in: "lb"))
            let bothStored = try await Self.stored(databaseURL, id)
            #expect(bothStored.weight == dec("72.5") && bothStored.unit == "kg")
        }
    }

    @Test func patchWithUnitAloneRelabelsTheStoredNumber() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser(weightUnit: "kg")
            let entry = try await client.createEntry(user.token, weight: "80", unit: "kg", recordedOn: "2020-01-01")
            let id = try #require(entry["id"]?.stringValue)
            let relabelled = try await client.send(.patch, "/v1/entries/\(id)", token: user.token, json: #"{"unit": "lb"}"#)
            #expect(relabelled.status == .ok)
            // Shown in the display unit (kg): 80 lb is 36.29 kg.
            #expect(relabelled.json["weight"]?.decimal == shown("80", "lb", in: "kg"))
            #expect(relabelled.json["unit"]?.stringValue == "kg")
            let stored = try await Self.stored(databaseURL, id)
            #expect(stored.weight == 80 && stored.unit == "lb")
            #expect(try await client.send(.get, "/v1/entries/\(id)?unit=lb", token: user.token).json["weight"]?.decimal == 80)
            // And back, spelled lbs the other way round.
            let entry2 = try await client.createEntry(user.token, weight: "150", unit: "kg", recordedOn: "2020-01-02")
            let id2 = try #require(entry2["id"]?.stringValue)
            #expect(try await client.send(.patch, "/v1/entries/\(id2)", token: user.token, json: #"{"unit": "lbs"}"#).status == .ok)
            #expect(try await Self.stored(databaseURL, id2).unit == "lb")
            #expect(try await client.send(.patch, "/v1/entries/\(id2)", token: user.token, json: #"{"unit": "kg"}"#).status == .ok)
            #expect(try await Self.stored(databaseURL, id2).weight == 150)
        }
    }

    @Test func aRelabelAboveTheUnitsMaximumIs422AndChangesNothing() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser(weightUnit: "lb")
            let entry = try await client.createEntry(user.token, weight: "2000", unit: "lb", recordedOn: "2020-01-01", note: "heavy")
            let id = try #require(entry["id"]?.stringValue)
            let response = try await client.send(.patch, "/v1/entries/\(id)", token: user.token, json: #"{"unit": "kg"}"#)
            let problem = expectProblem(response, .unprocessableContent, "validation_failed")
            #expect(errorFields(problem).contains { $0 == "unit" || $0 == "weight" }, "\(response.text)")
            let stored = try await Self.stored(databaseURL, id)
            #expect(stored.weight == 2000 && stored.unit == "lb" && stored.note == "heavy")
            #expect(try await client.send(.get, "/v1/entries/\(id)", token: user.token).json == entry)
            // Together with another change: still nothing changes.
            let combined = try await client.send(
                .patch, "/v1/entries/\(id)", token: user.token, json: #"{"unit": "kg", "note": "changed"}"#)
            #expect(combined.status == .unprocessableContent)
            #expect(try await Self.stored(databaseURL, id).note == "heavy")
        }
    }

    @Test func patchChangesOnlyTheGivenFields() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let entry = try await client.createEntry(user.token, weight: "80", unit: "kg", recordedOn: "2020-06-01", note: "first")
            let id = try #require(entry["id"]?.stringValue)
            let patched = try await client.send(.patch, "/v1/entries/\(id)", token: user.token, json: #"{"weight": 79.5, "note": "second"}"#)
            #expect(patched.status == .ok)
            #expect(patched.json.keys == entryMembers)
            #expect(patched.json["id"] == entry["id"])
            #expect(patched.json["weight"]?.decimal == dec("79.5"))
            #expect(patched.json["note"]?.stringValue == "second")
            #expect(patched.json["recorded_on"]?.stringValue == "2020-06-01")
            #expect(patched.json["created_at"] == entry["created_at"])
            let created = try #require(parseTimestamp(entry["updated_at"]?.stringValue ?? ""))
            let updated = try #require(parseTimestamp(patched.json["updated_at"]?.stringValue ?? ""))
            #expect(updated >= created)
            #expect(try await client.send(.get, "/v1/entries/\(id)", token: user.token).json == patched.json)

            let moved = try await client.send(.patch, "/v1/entries/\(id)", token: user.token, json: #"{"recorded_on": "2020-06-09"}"#)
            #expect(moved.json["recorded_on"]?.stringValue == "2020-06-09")
            #expect(moved.json["weight"]?.decimal == dec("79.5") && moved.json["note"]?.stringValue == "second")

            let cleared = try await client.send(.patch, "/v1/entries/\(id)", token: user.token, json: #"{"note": null}"#)
            #expect(cleared.status == .ok)
            #expect(cleared.json["note"] == .null)
            #expect(try await client.send(.get, "/v1/entries/\(id)", token: user.token).json["note"] == .null)
            #expect(cleared.json["weight"]?.decimal == dec("79.5"))
        }
    }

    @Test func changingTheUsersWeightUnitNeverChangesEntries() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser(weightUnit: "kg")
            let a = try await client.createEntry(user.token, weight: "80", unit: "kg", recordedOn: "2020-01-01")
            let b = try await client.createEntry(user.token, weight: "150", unit: "lb", recordedOn: "2020-01-02")
            let ids = [a["id"]!.stringValue!, b["id"]!.stringValue!]
            // Another token of the user, used (so possibly remembered) before the change.
            let other = try await client.token(email: user.email, password: "correct horse")
            #expect(try await client.send(.get, "/v1/entries/\(ids[0])", token: other).json["unit"]?.stringValue == "kg")
            let rows: SQL = "SELECT id, weight::text AS w, unit, updated_at::text AS u FROM weight_entries ORDER BY id"
            let before = try await TestDatabase.query(databaseURL, rows).map {
                try [$0.decode(String.self, column: "w"), $0.decode(String.self, column: "unit"), $0.decode(String.self, column: "u")]
            }
            #expect(try await client.send(.patch, "/v1/me", token: user.token, json: #"{"weight_unit": "lb"}"#).status == .ok)
            let after = try await TestDatabase.query(databaseURL, rows).map {
                try [$0.decode(String.self, column: "w"), $0.decode(String.self, column: "unit"), $0.decode(String.self, column: "u")]
            }
            #expect(before == after)
            // Shown in the new display unit.
            let shownA = try await client.send(.get, "/v1/entries/\(ids[0])", token: user.token).json
            #expect(shownA["weight"]?.decimal == shown("80", "kg", in: "lb") && shownA["unit"]?.stringValue == "lb")
            let shownB = try await client.send(.get, "/v1/entries/\(ids[1])", token: user.token).json
            #expect(shownB["weight"]?.decimal == 150 && shownB["unit"]?.stringValue == "lb")
            let throughOther = try await client.send(.get, "/v1/entries/\(ids[0])", token: other).json
            #expect(throughOther["unit"]?.stringValue == "lb" && throughOther["weight"]?.decimal == shown("80", "kg", in: "lb"))
            let statsThroughOther = try await client.send(.get, "/v1/stats", token: other).json
            #expect(statsThroughOther["unit"]?.stringValue == "lb")
            #expect(try await client.send(.patch, "/v1/me", token: user.token, json: #"{"weight_unit": "kg"}"#).status == .ok)
            #expect(try await client.send(.get, "/v1/entries/\(ids[0])", token: user.token).json["weight"]?.decimal == 80)
            #expect(try await client.send(.get, "/v1/entries/\(ids[1])", token: user.token).json["weight"]?.decimal
                    == shown("150", "lb", in: "kg"))
        }
    }

    @Test func deleteAnswers204ThenTheEntryIsGone() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let entry = try await client.createEntry(user.token, weight: "80", recordedOn: "2020-06-01")
            let keep = try await client.createEntry(user.token, weight: "81", recordedOn: "2020-06-01")
            let id = try #require(entry["id"]?.stringValue)
            let deleted = try await client.send(.delete, "/v1/entries/\(id)", token: user.token)
            #expect(deleted.status == .noContent)
            #expect(deleted.body.readableBytes == 0)
            expectProblem(try await client.send(.get, "/v1/entries/\(id)", token: user.token), .notFound, "not_found")
            expectProblem(try await client.send(.patch, "/v1/entries/\(id)", token: user.token, json: #"{"note": "x"}"#),
                          .notFound, "not_found")
            expectProblem(try await client.send(.delete, "/v1/entries/\(id)", token: user.token), .notFound, "not_found")
            #expect(try await client.listAll(user.token).map { $0["id"] } == [keep["id"]])
            #expect(try await Self.entryCount(databaseURL) == 1)
        }
    }

    // MARK: - Validation

    static let invalidWeights: [(String, String)] = [
        (#""weight": 0"#, "zero"), (#""weight": -1"#, "negative"), (#""weight": -0.01"#, "small negative"),
        (#""weight": 0.00"#, "zero with decimals"),
        (#""weight": 1000.01, "unit": "kg""#, "1000.01 kg"), (#""weight": 2204.63, "unit": "lb""#, "2204.63 lb"),
        (#""weight": 2204.63, "unit": "lbs""#, "2204.63 lbs"), (#""weight": 1001"#, "1001 in the display unit kg"),
        (#""weight": 70.123"#, "three decimals"), (#""weight": 0.001"#, "tiny"), (#""weight": 7.0123e1"#, "three decimals in exponent form"),
        (#""weight": "80""#, "string"), (#""weight": "NaN""#, "string NaN"), (#""weight": null"#, "null"),
        (#""weight": true"#, "boolean"), (#""weight": [80]"#, "array"), (#""weight": {"kg": 80}"#, "object"),
        (#""weight": 1e999"#, "1e999"), (#""weight": -1e999"#, "-1e999"), (#""weight": 1e-999"#, "1e-999"),
        (#""note": "no weight""#, "missing"),
    ]

    @Test func invalidWeightsAre422OnWeight() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser(weightUnit: "kg")
            for (members, label) in Self.invalidWeights {
                let response = try await client.send(
                    .post, "/v1/entries", token: user.token, json: #"{"recorded_on": "2020-01-01", \#(members)}"#)
                expectValidation(response, field: "weight", label)
            }
            #expect(try await Self.entryCount(databaseURL) == 0)
        }
    }

    @Test func nonJSONLiteralsAre400() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let bodies: [(String, [UInt8])] = [
                ("NaN", Array(#"{"weight": NaN, "recorded_on": "2020-01-01"}"#.utf8)),
                ("Infinity", Array(#"{"weight": Infinity, "recorded_on": "2020-01-01"}"#.utf8)),
                ("-Infinity", Array(#"{"weight": -Infinity, "recorded_on": "2020-01-01"}"#.utf8)),
                ("empty", []), ("single quotes", Array("{'weight': 70, 'recorded_on': '2020-01-01'}".utf8)),
                ("trailing comma", Array(#"{"weight": 70, "recorded_on": "2020-01-01",}"#.utf8)),
                ("two values", Array(#"{"weight": 70, "recorded_on": "2020-01-01"}{}"#.utf8)),
                ("form data", Array("weight=70&recorded_on=2020-01-01".utf8)),
                ("leading zero", Array(#"{"weight": 070, "recorded_on": "2020-01-01"}"#.utf8)),
                ("hex", Array(#"{"weight": 0x46, "recorded_on": "2020-01-01"}"#.utf8)),
                ("unterminated", Array(#"{"weight": 70, "recorded_on": "2020-01-01""#.utf8)),
                ("invalid UTF-8 in a string", Array(#"{"weight": 70, "recorded_on": "2020-01-01", "note": ""#.utf8) + [0xFF, 0xFE]
                    + Array(#""}"#.utf8)),
                ("invalid UTF-8 outside strings", Array(#"{"weight": 70, "recorded_on": "2020-01-01"} "#.utf8) + [0xC3]),
                ("overlong UTF-8", Array(#"{"weight": 70, "recorded_on": "2020-01-01", "note": ""#.utf8) + [0xC0, 0xAF]
                    + Array(#""}"#.utf8)),
            ]
            for (label, body) in bodies {
                let response = try await client.sendBytes(.post, "/v1/entries", token: user.token, body: body)
                expectProblem(response, .badRequest, "malformed_json", label)
            }
            #expect(try await Self.entryCount(databaseURL) == 0)
        }
    }

    @Test func recordedOnRules() async throws {
        try await awayFromMidnight()
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let invalid: [(String, String)] = [
                (#""2026-02-30""#, "February 30"), (#""2023-02-29""#, "February 29 of a common year"),
                (#""1900-02-29""#, "1900 is not a leap year"), (#""2023-04-31""#, "April 31"),
                (#""2023-13-01""#, "month 13"), (#""2023-00-10""#, "month 0"), (#""2023-01-00""#, "day 0"),
                (#""1899-12-31""#, "before 1900"), (jsonText(utcDay(2)), "two days ahead"),
                (jsonText(utcDay(30)), "a month ahead"), (#""2023-1-5""#, "not zero-padded"), (#""20230105""#, "compact"),
                (#""2023-01-05T00:00:00Z""#, "a timestamp"), (#""05/01/2023""#, "slashes"), (#""""#, "empty"),
                (#"" 2023-01-05""#, "leading space"), (#""2023-01-05 ""#, "trailing space"),
                (#""+2023-01-05""#, "sign"), (#""2023/01/05""#, "slashes in ISO order"),
                (jsonText("\u{FF12}\u{FF10}\u{FF12}\u{FF13}-01-05"), "full-width digits"),
                ("null", "null"), ("20230105", "a number"),
            ]
            for (value, label) in invalid {
                let response = try await client.send(
                    .post, "/v1/entries", token: user.token, json: #"{"weight": 70, "unit": "kg", "recorded_on": \#(value)}"#)
                expectValidation(response, field: "recorded_on", label)
            }
            expectValidation(try await client.send(.post, "/v1/entries", token: user.token, json: #"{"weight": 70}"#),
                             field: "recorded_on", "missing")
            #expect(try await Self.entryCount(databaseURL) == 0)
            for day in ["1900-01-01", "2024-02-29", "2000-02-29", utcDay(0), utcDay(1)] {
                let entry = try await client.createEntry(user.token, weight: "70", recordedOn: day)
                #expect(entry["recorded_on"]?.stringValue == day)
            }
        }
    }

    @Test func noteRules() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let tooLong: [(String, String)] = [
                (String(repeating: "n", count: 501), "501 characters"),
                (String(repeating: "x\u{301}", count: 250) + "y", "501 code points in 251 graphemes"),
            ]
            for (note, label) in tooLong {
                let response = try await client.send(
                    .post, "/v1/entries", token: user.token,
                    json: #"{"weight": 70, "recorded_on": "2020-01-01", "note": \#(jsonText(note))}"#)
                expectValidation(response, field: "note", label)
            }
            for value in ["5", #"["x"]"#, #"{"a": 1}"#, "true"] {
                let response = try await client.send(
                    .post, "/v1/entries", token: user.token, json: #"{"weight": 70, "recorded_on": "2020-01-01", "note": \#(value)}"#)
                expectValidation(response, field: "note", value)
            }
            #expect(try await Self.entryCount(databaseURL) == 0)
            // 500 code points (750 UTF-16 units, 1500 bytes) is accepted.
            let longest = String(repeating: "\u{1F600}", count: 250) + String(repeating: "\u{E9}", count: 250)
            #expect(try await client.createEntry(user.token, weight: "70", recordedOn: "2020-01-01", note: longest)["note"]?
                .stringValue == longest)
            let tricky = "caf\u{E9} \u{2615} \"quoted\", comma\nnew line\r\n\ttab \\ backslash \u{1F600} \u{0001}"
            let entry = try await client.createEntry(user.token, weight: "70", recordedOn: "2020-01-01", note: tricky)
            #expect(entry["note"]?.stringValue == tricky)
            let id = try #require(entry["id"]?.stringValue)
            #expect(try await client.send(.get, "/v1/entries/\(id)", token: user.token).json["note"]?.stringValue == tricky)
            #expect(try await Self.stored(databaseURL, id).note == tricky)
        }
    }

    @Test func escapedNotesAreStoredOrRefusedButNeverFail() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let escapes = [#""\ud800""#, #""\udc00x""#, #""\ud83d\ude00""#, #""\u00e9\u0041""#, #""a\/b\\c\"d""#, #""\u0000""#]
            for note in escapes {
                let response = try await client.send(
                    .post, "/v1/entries", token: user.token, json: #"{"weight": 70, "recorded_on": "2020-01-01", "note": \#(note)}"#)
                #expect(response.status == .created || response.status.kind == .clientError, "\(note): \(response.status) \(response.text)")
                if response.status.kind == .clientError { #expect(response.mediaType == "application/problem+json") }
            }
            let pair = try await client.send(
                .post, "/v1/entries", token: user.token, json: #"{"weight": 70, "recorded_on": "2020-01-01", "note": "\ud83d\ude00 \u00e9"}"#)
            #expect(pair.json["note"]?.stringValue == "\u{1F600} \u{E9}")
        }
    }

    @Test func unitRules() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            for value in [#""stone""#, #""pounds""#, #""""#, #""g""#, #""KG""#, #""Lb""#, #""LBS""#, #"" kg""#, "1", "null", "true"] {
                let response = try await client.send(
                    .post, "/v1/entries", token: user.token, json: #"{"weight": 70, "unit": \#(value), "recorded_on": "2020-01-01"}"#)
                expectValidation(response, field: "unit", value)
            }
            for query in ["?unit=stone", "?unit=KG", "?unit=", "?unit=pounds"] {
                let response = try await client.send(
                    .post, "/v1/entries\(query)", token: user.token, json: #"{"weight": 70, "recorded_on": "2020-01-01"}"#)
                expectValidation(response, field: "unit", query)
            }
            #expect(try await Self.entryCount(databaseURL) == 0)
            let lbs = try await client.createEntry(user.token, weight: "150", unit: "lbs", recordedOn: "2020-01-01", query: "?unit=lbs")
            #expect(lbs["unit"]?.stringValue == "lb" && lbs["weight"]?.decimal == 150)
            #expect(try await Self.stored(databaseURL, lbs["id"]!.stringValue!).unit == "lb")
        }
    }

    @Test func unknownFieldsAndNonObjectsAre422() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let typo = try await client.send(
                .post, "/v1/entries", token: user.token, json: #"{"weight": 70, "recorded_on": "2020-01-01", "wieght": 71}"#)
            expectValidation(typo, field: "wieght")
            let dropped = try await client.send(
                .post, "/v1/entries", token: user.token, json: #"{"wieght": 70, "recorded_on": "2020-01-01"}"#)
            expectValidation(dropped, field: "wieght")
            let id = try await client.send(
                .post, "/v1/entries", token: user.token, json: #"{"id": "x", "weight": 70, "recorded_on": "2020-01-01"}"#)
            expectValidation(id, field: "id")
            for body in ["[]", #""text""#, "42", "null", "true", #"[{"weight": 70, "recorded_on": "2020-01-01"}]"#] {
                let response = try await client.send(.post, "/v1/entries", token: user.token, json: body)
                expectProblem(response, .unprocessableContent, "validation_failed", body)
            }
            #expect(try await Self.entryCount(databaseURL) == 0)
        }
    }

    @Test func contentTypeAndSizeRules() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let entry = try await client.createEntry(user.token, weight: "70", recordedOn: "2020-01-01", note: "untouched")
            let id = try #require(entry["id"]?.stringValue)
            let body = Array(#"{"weight": 70, "recorded_on": "2020-01-04"}"#.utf8)
            let calls: [(HTTPRequest.Method, String)] = [(.post, "/v1/entries"), (.patch, "/v1/entries/\(id)")]
            for (method, path) in calls {
                for type in [nil, "text/plain", "application/x-www-form-urlencoded", "application/xml", "text/csv",
                             "application/json-patch+json"] as [String?] {
                    let response = try await client.sendBytes(method, path, token: user.token, body: body, contentType: type)
                    expectProblem(response, .unsupportedMediaType, "unsupported_media_type", "\(method) \(type ?? "none")")
                }
                // One byte over 1 MiB, padding valid JSON with whitespace.
                let over = Array(body.dropLast()) + Array(repeating: UInt8(ascii: " "), count: Self.mebibyte + 1 - body.count)
                    + [UInt8(ascii: "}")]
                #expect(over.count == Self.mebibyte + 1)
                expectProblem(try await client.sendBytes(method, path, token: user.token, body: over), .contentTooLarge,
                              "payload_too_large", "\(method) over 1 MiB")
            }
            // A huge note is too large before it is too long.
            let huge = Array(#"{"weight": 70, "recorded_on": "2020-01-05", "note": ""#.utf8)
                + Array(repeating: UInt8(ascii: "n"), count: 2 * Self.mebibyte) + Array(#""}"#.utf8)
            expectProblem(try await client.sendBytes(.post, "/v1/entries", token: user.token, body: huge), .contentTooLarge,
                          "payload_too_large")
            #expect(try await Self.entryCount(databaseURL) == 1)
            #expect(try await client.send(.get, "/v1/entries/\(id)", token: user.token).json == entry)

            // Exactly 1 MiB is accepted, and a charset parameter is fine.
            let exact = Array(body.dropLast()) + Array(repeating: UInt8(ascii: " "), count: Self.mebibyte - body.count)
                + [UInt8(ascii: "}")]
            #expect(exact.count == Self.mebibyte)
            #expect(try await client.sendBytes(.post, "/v1/entries", token: user.token, body: exact).status == .created)
            #expect(try await client.sendBytes(
                .post, "/v1/entries", token: user.token, body: body, contentType: "application/json; charset=utf-8").status == .created)
            #expect(try await Self.entryCount(databaseURL) == 3)
        }
    }

    @Test func deepNestingIsAClientErrorNotAServerError() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            for depth in [100, 100_000] {
                let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
                for body in [nested, #"{"weight": 70, "recorded_on": "2020-01-01", "note": \#(nested)}"#] {
                    let response = try await client.send(.post, "/v1/entries", token: user.token, json: body)
                    #expect(response.status.kind == .clientError, "depth \(depth): \(response.status)")
                    #expect(response.mediaType == "application/problem+json")
                    let patch = try await client.send(.patch, "/v1/me", token: user.token, json: body)
                    #expect(patch.status.kind == .clientError, "depth \(depth): \(patch.status)")
                }
                let objects = String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)
                let response = try await client.send(.post, "/v1/entries", token: user.token, json: objects)
                #expect(response.status.kind == .clientError, "objects depth \(depth): \(response.status)")
            }
            #expect(try await Self.entryCount(databaseURL) == 0)
            #expect(try await client.send(.get, "/healthz").status == .ok)
        }
    }

    @Test func invalidPatchesAre422AndChangeNothing() async throws {
        try await awayFromMidnight()
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            let entry = try await client.createEntry(user.token, weight: "75.25", unit: "kg", recordedOn: "2020-02-02", note: "keep me")
            let id = try #require(entry["id"]?.stringValue)
            let cases: [(String, String)] = [
                (#"{"weight": 0}"#, "weight"), (#"{"weight": -5}"#, "weight"), (#"{"weight": 1.234}"#, "weight"),
                (#"{"weight": "80"}"#, "weight"), (#"{"weight": null}"#, "weight"), (#"{"weight": 1e999}"#, "weight"),
                (#"{"weight": 1000.01, "unit": "kg"}"#, "weight"), (#"{"weight": 2204.63, "unit": "lb"}"#, "weight"),
                (#"{"weight": 1000.01}"#, "weight"),
                (#"{"recorded_on": "2026-02-30"}"#, "recorded_on"), (#"{"recorded_on": "1899-12-31"}"#, "recorded_on"),
                (#"{"recorded_on": \#(jsonText(utcDay(2)))}"#, "recorded_on"), (#"{"recorded_on": null}"#, "recorded_on"),
                (#"{"note": \#(jsonText(String(repeating: "n", count: 501)))}"#, "note"), (#"{"note": 5}"#, "note"),
                (#"{"unit": "stone"}"#, "unit"), (#"{"unit": null}"#, "unit"), (#"{"wieght": 70}"#, "wieght"),
                (#"{"note": "fine", "weight": 0}"#, "weight"), (#"{"id": "x"}"#, "id"),
            ]
            for (body, field) in cases {
                let response = try await client.send(.patch, "/v1/entries/\(id)", token: user.token, json: body)
                expectValidation(response, field: field, body)
            }
            for body in ["[]", "42", #""x""#] {
                expectProblem(try await client.send(.patch, "/v1/entries/\(id)", token: user.token, json: body),
                              .unprocessableContent, "validation_failed", body)
            }
            expectProblem(try await client.send(.patch, "/v1/entries/\(id)", token: user.token, json: #"{"note": NaN}"#),
                          .badRequest, "malformed_json")
            expectProblem(try await client.send(.patch, "/v1/entries/\(id)?unit=stone", token: user.token, json: #"{"note": "x"}"#),
                          .unprocessableContent, "validation_failed")
            #expect(try await client.send(.get, "/v1/entries/\(id)", token: user.token).json == entry)
        }
    }

    // MARK: - End to end

    @Test func entryLifeOnALiveServer() async throws {
        try await TestApp.run(.live) { client, databaseURL in
            let user = try await client.newUser(weightUnit: "kg")
            let created = try await client.send(
                .post, "/v1/entries", token: user.token, json: #"{"weight": 180.2, "unit": "lb", "recorded_on": "2022-03-04", "note": "live"}"#)
            #expect(created.status == .created)
            #expect(created.json["weight"]?.decimal == dec("81.74"))
            let location = try #require(created.headers[.location])
            #expect(location == "/v1/entries/\(created.json["id"]?.stringValue ?? "")")
            #expect(try await client.send(.get, location, token: user.token).json == created.json)
            let relabelled = try await client.send(.patch, location + "?unit=lb", token: user.token, json: #"{"unit": "kg", "note": null}"#)
            #expect(relabelled.json["weight"]?.decimal == shown("180.2", "kg", in: "lb"))
            #expect(relabelled.json["note"] == .null)
            expectValidation(try await client.send(.post, "/v1/entries", token: user.token, json: #"{"weight": 0.001, "recorded_on": "2022-03-04"}"#),
                             field: "weight")
            expectProblem(try await client.sendBytes(.post, "/v1/entries", token: user.token, body: Array("{".utf8)), .badRequest,
                          "malformed_json")
            #expect(try await client.send(.delete, location, token: user.token).status == .noContent)
            expectProblem(try await client.send(.get, location, token: user.token), .notFound, "not_found")
            #expect(try await Self.entryCount(databaseURL) == 0)
        }
    }
}
