import Foundation
import HTTPTypes
import HummingbirdTesting
import Postgres
import Testing
import WireFormats

/// HTTP: GET /v1/entries/export (CSV and JSON) and POST /v1/entries/import (all rows or none, limits, round trips).
@Suite("HTTP: export and import")
struct ImportExportRouteTests {
    static let mebibyte = 1 << 20

    /// Strict RFC 4180 records in which every record, the last included, ends with CRLF; nil for anything else.
    static func csvRecords(_ bytes: [UInt8]) -> [[String]]? {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
        var records: [[String]] = []
        var fields: [String] = []
        var i = 0
        while i < bytes.count {
            var field: [UInt8] = []
            if bytes[i] == quote {
                i += 1
                while true {
                    guard i < bytes.count else { return nil }
                    if bytes[i] == quote {
                        if i + 1 < bytes.count, bytes[i + 1] == quote {
                            field.append(quote)
                            i += 2
                            continue
                        }
                        i += 1
                        break
                    }
                    field.append(bytes[i])
                    i += 1
                }
            } else {
                while i < bytes.count, bytes[i] != comma, bytes[i] != cr, bytes[i] != lf {
                    if bytes[i] == quote { return nil }
                    field.append(bytes[i])
                    i += 1
                }
            }
            guard let text = String(validating: field, as: UTF8.self) else { return nil }
            fields.append(text)
            guard i < bytes.count else { return nil }
            if bytes[i] == comma {
                i += 1
                guard i < bytes.count else { return nil }
                continue
            }
            guard bytes[i] == cr, i + 1 < bytes.count, bytes[i + 1] == lf else { return nil }
            i += 2
            records.append(fields)
            fields = []
        }
        return records
    }

    /// A field as RFC 4180 writes it: quoted (quotes doubled) when it holds a comma, quote, CR or LF.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Whether `bytes` hold the UTF-8 of `text` (byte-wise: CRLF is not one character here).
    static func contains(_ bytes: [UInt8], _ text: String) -> Bool {
        let needle = Array(text.utf8)
        guard !needle.isEmpty, bytes.count >= needle.count else { return needle.isEmpty }
        return (0...(bytes.count - needle.count)).contains { start in bytes[start..<(start + needle.count)].elementsEqual(needle) }
    }

    static func count(_ databaseURL: String, _ userID: String) async throws -> Int {
        try await TestDatabase.count(
            databaseURL, "SELECT count(*) AS n FROM weight_entries WHERE user_id = \(UUID(uuidString: userID)!)")
    }

    /// The user's rows as stored: recorded_on, weight, unit, note; by recorded_on then weight.
    static func storedRows(_ databaseURL: String, _ userID: String) async throws -> [[String?]] {
        try await TestDatabase.query(
            databaseURL,
            """
            SELECT recorded_on::text AS day, weight::text AS weight, unit, note FROM weight_entries
            WHERE user_id = \(UUID(uuidString: userID)!) ORDER BY recorded_on, weight, unit, note
            """
        ).map { row in
            [try row.decode(String.self, column: "day"), try row.decode(String.self, column: "weight"),
             try row.decode(String.self, column: "unit"), try row.decode(String?.self, column: "note")]
        }
    }

    static func importJSON(_ client: some TestClientProtocol, _ token: String, _ body: String, query: String = "") async throws
        -> TestResponse
    {
        try await client.sendBytes(.post, "/v1/entries/import" + query, token: token, body: Array(body.utf8))
    }

    /// Entries of several units and awkward notes, on distinct days except one (created in order).
    static let sample: [(day: String, weight: String, unit: String, note: String?)] = [
        ("2020-01-05", "71", "kg", ""), ("2020-01-01", "70", "kg", nil),
        ("2020-01-02", "150.5", "lb", "He said \"hi\", then left"), ("2020-01-03", "80.25", "kg", "line1\nline2"),
        ("2020-01-04", "65", "kg", "a\r\nb"), ("2019-12-31", "72", "kg", "plain note"),
        ("2020-01-02", "69.9", "kg", "caf\u{E9} \u{2615} ,"),
    ]

    /// The sample in export order: oldest first, entries of one day in the order they were created.
    static var sampleOldestFirst: [(day: String, weight: String, unit: String, note: String?)] {
        sample.enumerated().sorted { ($0.element.day, $0.offset) < ($1.element.day, $1.offset) }.map(\.element)
    }

    static func createSample(_ client: some TestClientProtocol, _ token: String) async throws {
        for entry in sample {
            try await client.createEntry(token, weight: entry.weight, unit: entry.unit, recordedOn: entry.day, note: entry.note)
        }
    }

    // MARK: - Export

    @Test func csvExportIsRFC4180WithCRLFInEnteredUnitsOldestFirst() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser(weightUnit: "lb")
            try await Self.createSample(client, user.token)
            for uri in ["/v1/entries/export", "/v1/entries/export?format=csv"] {
                let response = try await client.send(.get, uri, token: user.token)
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.lowercased().replacingOccurrences(of: " ", with: "")
                        == "text/csv;charset=utf-8")
                let bytes = response.bytes
                #expect(bytes.starts(with: Array("recorded_on,weight,unit,note,measured_at,body_fat_percent,water_percent,muscle_percent,visceral_fat,source\r\n".utf8)))
                #expect(bytes.suffix(2).elementsEqual("\r\n".utf8))
                let records = try #require(Self.csvRecords(bytes), "not strict RFC 4180 with CRLF: \(response.text)")
                #expect(records.first == [
                    "recorded_on", "weight", "unit", "note", "measured_at", "body_fat_percent", "water_percent",
                    "muscle_percent", "visceral_fat", "source",
                ])
                let rows = Array(records.dropFirst())
                let expected = Self.sampleOldestFirst
                #expect(rows.count == expected.count)
                for (row, entry) in zip(rows, expected) {
                    #expect(row.count == 10)
                    guard row.count == 10 else { continue }
                    #expect(row[0] == entry.day)
                    #expect(Decimal(string: row[1], locale: Locale(identifier: "en_US_POSIX")) == dec(entry.weight), "\(row)")
                    #expect(row[1].allSatisfy { $0.isNumber || $0 == "." }, "weight \(row[1]) is a plain number")
                    #expect(row[2] == entry.unit)
                    #expect(row[3] == (entry.note ?? ""))
                }
                // Quoting exactly where RFC 4180 needs it.
                for entry in expected {
                    let field = Self.csvField(entry.note ?? "")
                    #expect(Self.contains(bytes, "," + entry.unit + "," + field + ",,,,,,\r\n"), "\(field)")
                }
                #expect(Self.contains(bytes, #""He said ""hi"", then left""#))
            }
        }
    }

    @Test func jsonExportIsAnArrayOfEntriesInEnteredUnitsOldestFirst() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser(weightUnit: "lb")
            try await Self.createSample(client, user.token)
            let response = try await client.send(.get, "/v1/entries/export?format=json", token: user.token)
            #expect(response.status == .ok)
            #expect(response.mediaType == "application/json")
            let entries = try #require(response.json.arrayValue)
            let expected = Self.sampleOldestFirst
            #expect(entries.count == expected.count)
            for (entry, source) in zip(entries, expected) {
                #expect(entry.keys == entryMembers)
                #expect(entry["recorded_on"]?.stringValue == source.day)
                #expect(entry["weight"]?.decimal == dec(source.weight))
                #expect(entry["unit"]?.stringValue == source.unit)
                if let note = source.note, !note.isEmpty {
                    #expect(entry["note"]?.stringValue == note)
                } else if source.note == nil {
                    #expect(entry["note"] == .null)
                } else {
                    #expect(entry["note"] == .null || entry["note"]?.stringValue == "")
                }
            }
            // The same entries as the listing, by id.
            let listed = try await client.listAll(user.token)
            #expect(Set(entries.compactMap { $0["id"]?.stringValue }) == Set(listed.compactMap { $0["id"]?.stringValue }))
            let empty = try await client.newUser()
            #expect(try await client.send(.get, "/v1/entries/export?format=json", token: empty.token).json == .array([]))
            let emptyCSV = try await client.send(.get, "/v1/entries/export", token: empty.token)
            #expect(emptyCSV.text == "recorded_on,weight,unit,note,measured_at,body_fat_percent,water_percent,muscle_percent,visceral_fat,source\r\n")
        }
    }

    @Test func exportFormatIsCsvOrJson() async throws {
        try await TestApp.run { client, _ in
            let user = try await client.newUser()
            for format in ["xml", "", "CSV", "jsonl"] {
                expectValidation(try await client.send(.get, "/v1/entries/export" + queryString(["format": format]), token: user.token),
                                 field: "format", format)
            }
        }
    }

    @Test func anExportOf2500EntriesIsCompleteAndOrdered() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            var csv = "recorded_on,weight,unit\r\n"
            var imported: [String] = []
            for index in 0..<2500 {
                let day = dayAfter("2015-01-01", index / 3)
                let weight = String(format: "%d.%02d", 50 + index % 50, index % 100)
                let unit = index % 4 == 0 ? "lb" : "kg"
                csv += "\(day),\(weight),\(unit)\r\n"
                imported.append("\(day) \(dec(weight)) \(unit)")
            }
            #expect(try await client.importCSV(user.token, csv).json == ["imported": 2500])

            let csvExport = try await client.send(.get, "/v1/entries/export", token: user.token)
            let records = try #require(Self.csvRecords(csvExport.bytes))
            #expect(records.count == 2501)
            let rows = records.dropFirst().map { "\($0[0]) \(dec($0[1])) \($0[2])" }
            #expect(rows.sorted() == imported.sorted())
            let days = records.dropFirst().map { $0[0] }
            #expect(days == days.sorted())

            let jsonExport = try await client.send(.get, "/v1/entries/export?format=json", token: user.token)
            let entries = try #require(jsonExport.json.arrayValue)
            #expect(entries.count == 2500)
            let ids = entries.compactMap { $0["id"]?.stringValue }
            #expect(Set(ids).count == 2500)
            let stored = try await TestDatabase.query(
                databaseURL, "SELECT id::text AS id FROM weight_entries WHERE user_id = \(UUID(uuidString: user.id)!)")
            #expect(Set(ids) == Set(try stored.map { try $0.decode(String.self, column: "id") }))
            let jsonDays = entries.compactMap { $0["recorded_on"]?.stringValue }
            #expect(jsonDays == jsonDays.sorted())
            #expect(entries.map { "\($0["recorded_on"]!.stringValue!) \($0["weight"]!.decimal!) \($0["unit"]!.stringValue!)" }
                .sorted() == imported.sorted())
        }
    }

    // MARK: - Import

    @Test func csvImportStoresEveryRowWithUnitsAndNotes() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser(weightUnit: "kg")
            let csv = "recorded_on,weight,unit,note\r\n" + "2021-01-01,70.5,kg,first\r\n" + "2021-01-02,150,lb,\r\n"
                + "2021-01-03,71,,\"quoted, with comma\nand newline\"\r\n" + "2021-01-04,160,lbs,\"say \"\"hi\"\"\"\r\n"
                + "2021-01-05,72.25,kg,last line without a break"
            let response = try await client.importCSV(user.token, csv)
            #expect(response.status == .ok)
            #expect(response.mediaType == "application/json")
            #expect(response.json == ["imported": 5])
            let rows = try await Self.storedRows(databaseURL, user.id)
            #expect(rows.count == 5)
            guard rows.count == 5 else { return }
            #expect(rows[0][0] == "2021-01-01" && dec(rows[0][1]!) == dec("70.5") && rows[0][2] == "kg" && rows[0][3] == "first")
            #expect(dec(rows[1][1]!) == 150 && rows[1][2] == "lb" && rows[1][3] == nil)
            #expect(dec(rows[2][1]!) == 71 && rows[2][2] == "kg" && rows[2][3] == "quoted, with comma\nand newline")
            #expect(dec(rows[3][1]!) == 160 && rows[3][2] == "lb" && rows[3][3] == "say \"hi\"")
            #expect(dec(rows[4][1]!) == dec("72.25") && rows[4][3] == "last line without a break")
            // Columns in another order, unit and note optional, charset parameter.
            let other = "note,weight,recorded_on\r\nn,73,2021-02-01\r\n,74,2021-02-02\r\n"
            let reordered = try await client.sendBytes(
                .post, "/v1/entries/import", token: user.token, body: Array(other.utf8), contentType: "text/csv; charset=utf-8")
            #expect(reordered.json == ["imported": 2])
            #expect(try await client.importCSV(user.token, "recorded_on,weight\r\n2021-03-01,75\r\n").json == ["imported": 1])
            #expect(try await client.importCSV(user.token, "recorded_on,weight,unit,note\r\n").json == ["imported": 0])
            // Any field may be quoted (RFC 4180), the header's too.
            let quoted = "\"recorded_on\",\"weight\",\"unit\"\r\n\"2021-03-02\",\"76.5\",\"kg\"\r\n"
            #expect(try await client.importCSV(user.token, quoted).json == ["imported": 1])
            let all = try await Self.storedRows(databaseURL, user.id)
            #expect(all.count == 9)
            #expect(all.contains { $0[0] == "2021-02-01" && $0[3] == "n" && $0[2] == "kg" })
            #expect(all.contains { $0[0] == "2021-02-02" && $0[3] == nil })
        }
    }

    @Test func rowsWithoutAUnitAreInTheDisplayUnit() async throws {
        try await TestApp.run { client, databaseURL in
            let kgUser = try await client.newUser(weightUnit: "kg")
            let csv = "recorded_on,weight,unit\r\n2021-01-01,70,\r\n2021-01-02,80,kg\r\n2021-01-03,90,lb\r\n"
            #expect(try await client.importCSV(kgUser.token, csv, query: "?unit=lb").json == ["imported": 3])
            #expect(try await Self.storedRows(databaseURL, kgUser.id).map { $0[2] } == ["lb", "kg", "lb"])
            #expect(try await client.importCSV(kgUser.token, "recorded_on,weight\r\n2021-01-04,100\r\n", query: "?unit=lbs").status == .ok)
            #expect(try await Self.storedRows(databaseURL, kgUser.id).last?[2] == "lb")
            #expect(try await client.importCSV(kgUser.token, "recorded_on,weight\r\n2021-01-05,100\r\n").status == .ok)
            #expect(try await Self.storedRows(databaseURL, kgUser.id).last?[2] == "kg")

            let lbUser = try await client.newUser(weightUnit: "lb")
            #expect(try await client.importCSV(lbUser.token, "recorded_on,weight,unit\r\n2021-01-01,150,\r\n").status == .ok)
            let json = #"[{"weight": 151, "recorded_on": "2021-01-02"}, {"weight": 70, "unit": "", "recorded_on": "2021-01-03"}]"#
            #expect(try await Self.importJSON(client, lbUser.token, json).json == ["imported": 2])
            #expect(try await Self.importJSON(client, lbUser.token, #"[{"weight": 60, "recorded_on": "2021-01-04"}]"#, query: "?unit=kg")
                .status == .ok)
            #expect(try await Self.storedRows(databaseURL, lbUser.id).map { $0[2] } == ["lb", "lb", "lb", "kg"])
            // The display limit applies to such rows: 1500 is fine in lb, not in kg.
            let heavy = "recorded_on,weight\r\n2021-01-06,1500\r\n"
            expectProblem(try await client.importCSV(kgUser.token, heavy), .unprocessableContent, "validation_failed")
            #expect(try await client.importCSV(kgUser.token, heavy, query: "?unit=lb").status == .ok)
            expectValidation(try await client.importCSV(kgUser.token, heavy, query: "?unit=stone"), field: "unit")
        }
    }

    @Test func jsonImportTakesEntryBodies() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser(weightUnit: "kg")
            let body = """
                [{"weight": 70, "recorded_on": "2021-02-01"},
                 {"weight": 150, "unit": "lbs", "recorded_on": "2021-02-02", "note": "n"},
                 {"recorded_on": "2021-02-03", "note": null, "weight": 71.25, "unit": "kg"}]
                """
            let response = try await Self.importJSON(client, user.token, body)
            #expect(response.status == .ok)
            #expect(response.json == ["imported": 3])
            let rows = try await Self.storedRows(databaseURL, user.id)
            #expect(rows.map { $0[2] } == ["kg", "lb", "kg"])
            #expect(rows.map { $0[3] } == [nil, "n", nil])
            #expect(rows.map { dec($0[1]!) } == [70, 150, dec("71.25")])
            #expect(try await Self.importJSON(client, user.token, "[]").json == ["imported": 0])
            #expect(try await client.sendBytes(.post, "/v1/entries/import", token: user.token,
                                               body: Array(#"[{"weight": 1, "recorded_on": "2021-02-04"}]"#.utf8),
                                               contentType: "application/json; charset=utf-8").status == .ok)
        }
    }

    @Test func exportsImportAgainUnchanged() async throws {
        try await TestApp.run { client, databaseURL in
            let source = try await client.newUser(weightUnit: "lb")
            for (index, entry) in Self.sample.enumerated() {
                try await client.createEntry(source.token, weight: entry.weight, unit: entry.unit,
                                             recordedOn: dayAfter("2020-03-01", index), note: entry.note)
            }
            // JSON: what export produces, import accepts (ignoring id, created_at, updated_at).
            let jsonExport = try await client.send(.get, "/v1/entries/export?format=json", token: source.token)
            let jsonCopy = try await client.newUser(weightUnit: "kg")
            let imported = try await client.sendBytes(.post, "/v1/entries/import", token: jsonCopy.token, body: jsonExport.bytes)
            #expect(imported.json == ["imported": .number(JSONNumber(Self.sample.count))], "\(imported.text)")
            let copied = try await client.send(.get, "/v1/entries/export?format=json", token: jsonCopy.token)
            let strip: Set<String> = ["id", "created_at", "updated_at"]
            let normalize = { (value: JSONValue) -> [JSONValue] in
                (value.arrayValue ?? []).map { entry in
                    var entry = entry.removing(strip)
                    if entry["note"]?.stringValue == "", case .object(var object) = entry {
                        object.members = object.members.map { $0.key == "note" ? (key: "note", value: .null) : $0 }
                        entry = .object(object)
                    }
                    return entry
                }
            }
            #expect(normalize(copied.json) == normalize(jsonExport.json))
            #expect(normalize(copied.json).count == Self.sample.count)

            // CSV: the same bytes come back.
            let csvExport = try await client.send(.get, "/v1/entries/export", token: source.token)
            let csvCopy = try await client.newUser(weightUnit: "kg")
            let csvImported = try await client.sendBytes(
                .post, "/v1/entries/import", token: csvCopy.token, body: csvExport.bytes, contentType: "text/csv")
            #expect(csvImported.json == ["imported": .number(JSONNumber(Self.sample.count))], "\(csvImported.text)")
            let again = try await client.send(.get, "/v1/entries/export", token: csvCopy.token)
            #expect(again.text == csvExport.text)
            #expect(try await Self.storedRows(databaseURL, csvCopy.id).map { Array($0[0...2]) }
                    == (try await Self.storedRows(databaseURL, source.id)).map { Array($0[0...2]) })
        }
    }

    @Test func aFailingCSVRowIs422NamingRowAndColumnAndStoresNothing() async throws {
        try await awayFromMidnight()
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser(weightUnit: "kg")
            let header = "recorded_on,weight,unit,note\r\n"
            let good = "2021-01-01,70,kg,ok\r\n2021-01-02,71,kg,\r\n"
            let bad: [(String, String)] = [
                ("2021-01-03,abc,kg,\r\n", "weight"), ("2021-01-03,0,kg,\r\n", "weight"), ("2021-01-03,-1,kg,\r\n", "weight"),
                ("2021-01-03,70.123,kg,\r\n", "weight"), ("2021-01-03,1000.01,kg,\r\n", "weight"),
                ("2021-01-03,2204.63,lb,\r\n", "weight"), ("2021-01-03,,kg,\r\n", "weight"), ("2021-01-03,1e999,kg,\r\n", "weight"),
                ("2021-02-30,70,kg,\r\n", "recorded_on"), (",70,kg,\r\n", "recorded_on"), ("1899-12-31,70,kg,\r\n", "recorded_on"),
                ("2021-1-3,70,kg,\r\n", "recorded_on"), ("\(utcDay(2)),70,kg,\r\n", "recorded_on"),
                ("2021-01-03,70,stone,\r\n", "unit"), ("2021-01-03,70,KG,\r\n", "unit"),
                ("2021-01-03,70,kg,\(String(repeating: "n", count: 501))\r\n", "note"),
                ("2021-01-03,70,kg,\(String(repeating: "n", count: 70_000))\r\n", "note"),
            ]
            for (row, field) in bad {
                let response = try await client.importCSV(user.token, header + good + row + "2021-01-04,72,kg,\r\n")
                let problem = expectValidation(response, field: field, "\(row.prefix(60))")
                #expect(problem["row"]?.intValue == 3, "\(row.prefix(60)): row \(problem["row"].map { "\($0)" } ?? "missing")")
                #expect(try await Self.count(databaseURL, user.id) == 0, "\(row.prefix(60))")
            }
            // A record with more fields than the header.
            let extra = try await client.importCSV(user.token, header + good + "2021-01-03,70,kg,note,extra\r\n")
            let extraProblem = expectProblem(extra, .unprocessableContent, "validation_failed")
            #expect(extraProblem["row"]?.intValue == 3)
            // The first row.
            let first = try await client.importCSV(user.token, header + "2021-01-01,0,kg,\r\n" + good)
            #expect(expectValidation(first, field: "weight")["row"]?.intValue == 1)
            #expect(try await Self.count(databaseURL, user.id) == 0)
        }
    }

    /// The COPY stores rows as they are read, in chunks of about 10,000: a row failing after several chunks were sent
    /// still stores nothing, answers with its own row, and leaves nothing waiting (the next import goes through).
    @Test func aRowFailingAfterRowsWereSentToTheDatabaseStoresNothing() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let row = Array("2021-01-01,70\r\n".utf8)
            for (rowNumber, type) in [(40_000, "text/csv"), (35_001, "application/json")] {
                let body: [UInt8]
                if type == "text/csv" {
                    var csv = Array("recorded_on,weight\r\n".utf8)
                    for _ in 1..<rowNumber { csv += row }
                    csv += Array("2021-01-01,-5\r\n".utf8)
                    for _ in 0..<10 { csv += row }
                    body = csv
                } else {
                    let good = #"{"weight": 70, "recorded_on": "2021-01-01"}"#
                    let items = Array(repeating: good, count: rowNumber - 1) + [#"{"weight": -5, "recorded_on": "2021-01-01"}"#, good]
                    body = Array(("[" + items.joined(separator: ",") + "]").utf8)
                }
                let answer = try await client.sendBytes(.post, "/v1/entries/import", token: user.token, body: body, contentType: type)
                #expect(expectValidation(answer, field: "weight", type)["row"]?.intValue == rowNumber, "\(type)")
                #expect(try await Self.count(databaseURL, user.id) == 0, "\(type)")
            }
            let next = try await client.importCSV(user.token, "recorded_on,weight\r\n2021-01-01,70\r\n")
            #expect(next.json == ["imported": 1])
            #expect(try await Self.count(databaseURL, user.id) == 1)
        }
    }

    @Test func aCSVHeaderWithoutRecordedOnOrWeightFailsAsRow0() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let cases: [(String, String)] = [
                ("weight,unit,note\r\n70,kg,\r\n", "recorded_on"), ("recorded_on,unit,note\r\n2021-01-01,kg,\r\n", "weight"),
                ("unit,note\r\nkg,\r\n", "weight"), ("2021-01-01,70,kg,\r\n2021-01-02,71,kg,\r\n", "recorded_on"),
            ]
            for (csv, missing) in cases {
                let problem = expectValidation(try await client.importCSV(user.token, csv), field: missing, csv)
                #expect(problem["row"]?.intValue == 0, "\(csv)")
            }
            #expect(try await Self.count(databaseURL, user.id) == 0)
        }
    }

    @Test func aFailingJSONRowIs422NamingRowAndFieldAndStoresNothing() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let valid = #"{"weight": 70, "recorded_on": "2021-01-01"}"#
            let cases: [(String, Int, String?)] = [
                ("[\(valid), {\"wieght\": 70, \"recorded_on\": \"2021-01-02\"}]", 2, "wieght"),
                ("[\(valid), \(valid), {\"weight\": \"80\", \"recorded_on\": \"2021-01-02\"}]", 3, "weight"),
                ("[\(valid), {\"weight\": 70}]", 2, "recorded_on"),
                ("[\(valid), {\"weight\": 70, \"recorded_on\": \"2021-02-30\"}]", 2, "recorded_on"),
                ("[\(valid), {\"weight\": 70, \"recorded_on\": \"2021-01-02\", \"unit\": \"stone\"}]", 2, "unit"),
                ("[\(valid), {\"weight\": 70.001, \"recorded_on\": \"2021-01-02\"}]", 2, "weight"),
                ("[\(valid), {\"weight\": 70, \"recorded_on\": \"2021-01-02\", \"note\": 5}]", 2, "note"),
                ("[5, \(valid)]", 1, nil), ("[\(valid), [70, \"2021-01-01\"]]", 2, nil), ("[\(valid), null]", 2, nil),
            ]
            for (body, row, field) in cases {
                let response = try await Self.importJSON(client, user.token, body)
                let problem = expectProblem(response, .unprocessableContent, "validation_failed", body)
                #expect(problem["row"]?.intValue == row, "\(body)")
                if let field { #expect(errorFields(problem).contains(field), "\(body): \(response.text)") }
            }
            #expect(try await Self.count(databaseURL, user.id) == 0)
            // A body that is JSON but not an array, and one that is not JSON.
            expectProblem(try await Self.importJSON(client, user.token, valid), .unprocessableContent)
            expectProblem(try await Self.importJSON(client, user.token, "[" + valid), .badRequest, "malformed_json")
            expectProblem(try await Self.importJSON(client, user.token, #"[{"weight": NaN, "recorded_on": "2021-01-01"}]"#),
                          .badRequest, "malformed_json")
            #expect(try await Self.count(databaseURL, user.id) == 0)
        }
    }

    @Test func aBodyThatIsNotCSVIs400() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let bodies: [(String, [UInt8])] = [
                ("unterminated quote", Array("recorded_on,weight\r\n\"2021-01-01,70\r\n".utf8)),
                ("quote inside a field", Array("recorded_on,weight\r\n2021\"-01-01,70\r\n".utf8)),
                ("text after a closing quote", Array("recorded_on,weight\r\n\"2021-01-01\"x,70\r\n".utf8)),
                ("invalid UTF-8", Array("recorded_on,weight,unit,note\r\n2021-01-01,70,kg,".utf8) + [0xFF, 0xFE] + Array("\r\n".utf8)),
                ("bare CR", Array("recorded_on,weight\r2021-01-01,70\r".utf8)),
            ]
            for (label, body) in bodies {
                let response = try await client.sendBytes(.post, "/v1/entries/import", token: user.token, body: body, contentType: "text/csv")
                expectProblem(response, .badRequest, "malformed_csv", label)
            }
            #expect(try await Self.count(databaseURL, user.id) == 0)
        }
    }

    @Test func atMost100000Rows() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let row = Array("2021-01-01,70\r\n".utf8)
            let header = Array("recorded_on,weight\r\n".utf8)
            var tooMany = header
            tooMany.reserveCapacity(header.count + row.count * 100_001)
            for _ in 0..<100_001 { tooMany += row }
            let csv = try await client.sendBytes(.post, "/v1/entries/import", token: user.token, body: tooMany, contentType: "text/csv")
            expectProblem(csv, .unprocessableContent, "too_many_rows")
            let item = Array(#"{"weight": 70, "recorded_on": "2021-01-01"}"#.utf8)
            var json: [UInt8] = [UInt8(ascii: "[")]
            json.reserveCapacity(100_001 * (item.count + 1) + 2)
            for index in 0..<100_001 {
                if index > 0 { json.append(UInt8(ascii: ",")) }
                json += item
            }
            json.append(UInt8(ascii: "]"))
            expectProblem(try await client.sendBytes(.post, "/v1/entries/import", token: user.token, body: json),
                          .unprocessableContent, "too_many_rows")
            #expect(try await Self.count(databaseURL, user.id) == 0)
            // Exactly 100,000 rows are accepted.
            let exact = Array(tooMany.dropLast(row.count))
            let accepted = try await client.sendBytes(.post, "/v1/entries/import", token: user.token, body: exact, contentType: "text/csv")
            #expect(accepted.json == ["imported": 100_000], "\(accepted.status) \(accepted.text.prefix(200))")
            #expect(try await Self.count(databaseURL, user.id) == 100_000)
        }
    }

    @Test func importSizeAndContentTypeRules() async throws {
        try await TestApp.run { client, databaseURL in
            let user = try await client.newUser()
            let limit = 10 * Self.mebibyte
            let item = Array(#"[{"weight": 70, "recorded_on": "2021-01-01"}"#.utf8)
            // Exactly 10 MiB of JSON (whitespace padding) is accepted; one byte more is 413.
            let exact = item + Array(repeating: UInt8(ascii: " "), count: limit - item.count - 1) + [UInt8(ascii: "]")]
            #expect(exact.count == limit)
            #expect(try await client.sendBytes(.post, "/v1/entries/import", token: user.token, body: exact).json == ["imported": 1])
            let over = item + Array(repeating: UInt8(ascii: " "), count: limit - item.count) + [UInt8(ascii: "]")]
            expectProblem(try await client.sendBytes(.post, "/v1/entries/import", token: user.token, body: over),
                          .contentTooLarge, "payload_too_large")
            let row = Array("2021-01-02,70\r\n".utf8)
            var csv = Array("recorded_on,weight\r\n".utf8)
            while csv.count <= limit { csv += row }
            expectProblem(try await client.sendBytes(.post, "/v1/entries/import", token: user.token, body: csv, contentType: "text/csv"),
                          .contentTooLarge, "payload_too_large")
            // More than 1 MiB is fine for import.
            var twoMiB = Array("recorded_on,weight,unit,note\r\n".utf8)
            let noted = Array("2021-01-03,70,kg,\(String(repeating: "n", count: 480))\r\n".utf8)
            while twoMiB.count < 2 * Self.mebibyte { twoMiB += noted }
            let big = try await client.sendBytes(.post, "/v1/entries/import", token: user.token, body: twoMiB, contentType: "text/csv")
            #expect(big.status == .ok, "\(big.text.prefix(200))")
            let stored = try await Self.count(databaseURL, user.id)
            for type in [nil, "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data"] as [String?] {
                let response = try await client.sendBytes(
                    .post, "/v1/entries/import", token: user.token, body: Array("recorded_on,weight\r\n2021-01-01,70\r\n".utf8),
                    contentType: type)
                expectProblem(response, .unsupportedMediaType, "unsupported_media_type", type ?? "none")
            }
            #expect(try await Self.count(databaseURL, user.id) == stored)
        }
    }

    @Test func importAndExportOnALiveServer() async throws {
        try await TestApp.run(.live) { client, _ in
            let user = try await client.newUser()
            let csv = "recorded_on,weight,unit,note\r\n2022-01-02,80,kg,\"a, b\"\r\n2022-01-01,176.5,lb,\r\n"
            #expect(try await client.importCSV(user.token, csv).json == ["imported": 2])
            let export = try await client.send(.get, "/v1/entries/export", token: user.token)
            #expect(export.headers[.contentType]?.lowercased().hasPrefix("text/csv") == true)
            let records = try #require(Self.csvRecords(export.bytes))
            #expect(records.count == 3)
            #expect(records.dropFirst().map { $0[0] } == ["2022-01-01", "2022-01-02"])
            #expect(records.last?[3] == "a, b")
            let json = try await client.send(.get, "/v1/entries/export?format=json", token: user.token)
            #expect(json.json.arrayValue?.map { $0["unit"]?.stringValue } == ["lb", "kg"])
            let failing = try await client.importCSV(user.token, "recorded_on,weight\r\n2022-01-03,0\r\n")
            #expect(expectValidation(failing, field: "weight")["row"]?.intValue == 1)
        }
    }
}
