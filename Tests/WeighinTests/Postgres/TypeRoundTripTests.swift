import Foundation
@testable import Postgres
import Primitives
import Testing

@Suite("Postgres: values round trip through the server exactly")
struct TypeRoundTripTests {
    let pool: PostgresPool

    init() async throws {
        pool = try await TestCluster.makePool(migrated: false)
    }

    /// Binds `value`, has the server cast it to `type` and send it back, and decodes it.
    func roundTrip<T: PostgresEncodable & PostgresDecodable>(_ value: T, as type: String) async throws -> T {
        let rows = try await pool.query("SELECT \(value)::\(unsafeSQL: type) AS v")
        return try rows[0].decode(T.self, column: "v")
    }

    @Test func strings() async throws {
        for value in ["", "plain", "café ☕ \u{1F600}", "quote ' and \" and \\ and $1", String(repeating: "x", count: 100_000)] {
            #expect(try await roundTrip(value, as: "text") == value)
        }
    }

    @Test func integers() async throws {
        for value in [0, 1, -1, Int.max, Int.min] {
            #expect(try await roundTrip(value, as: "int8") == value)
        }
        for value in [Int32.max, Int32.min, 0] {
            #expect(try await roundTrip(value, as: "int4") == value)
        }
        for value in [Int64.max, Int64.min] {
            #expect(try await roundTrip(value, as: "int8") == value)
        }
    }

    @Test func booleans() async throws {
        #expect(try await roundTrip(true, as: "bool") == true)
        #expect(try await roundTrip(false, as: "bool") == false)
    }

    @Test func doubles() async throws {
        for value in [0.1, -2.5e-300, 1.7976931348623157e308, 72.35] {
            #expect(try await roundTrip(value, as: "float8") == value)
        }
        #expect(try await roundTrip(Double.infinity, as: "float8") == .infinity)
    }

    @Test(arguments: ["72.35", "0.29", "0.07", "1.15", "4.35", "19.99", "999.99", "2204.62", "0.01", "-12.5",
                      "123456789012345678901234567890.12345678"])
    func decimalsAreExact(_ text: String) async throws {
        let value = Decimal(string: text)!
        let back = try await roundTrip(value, as: "numeric")
        #expect(back == value)
        #expect(back.description == value.description)
        // The server computed with the exact value too: 72.35 * 100 is 7235, not 7234.999...
        let rows = try await pool.query("SELECT (\(value) * 100)::text AS hundredfold")
        #expect(Decimal(string: try rows[0].decode(String.self, column: "hundredfold")) == value * 100)
    }

    /// The text `NumericText` spells from a binary `numeric`, next to the server's own `numeric_out`.
    func spelled(_ rows: PostgresRows, row: Int) -> String? {
        NumericText.withPlainText(rows.result.bytes(row: row, column: 0)) { String(decoding: $0, as: UTF8.self) }
    }

    @Test(arguments: ["0", "0.00", "-0.5", "0.0001", "0.00001234", "-0.000000001", "1", "10000", "100000000",
                      "1e20", "12345.6789", "-99999999.99999999", "9999.9999", "10000.0001", "72.350",
                      "123456789012345678901234567890.12345678"])
    func binaryNumericIsSpelledAsTheServerWritesIt(_ text: String) async throws {
        let rows = try await pool.query("SELECT \(text)::numeric AS n, \(text)::numeric::text AS t")
        let server = try rows[0].decode(String.self, column: "t")
        #expect(spelled(rows, row: 0) == server)
        #expect(try rows[0].decode(Decimal.self, column: "n") == Decimal(exactText: server.utf8))
    }

    @Test func binaryNumericMatchesTheServersTextForThousandsOfValues() async throws {
        // Both signs, magnitudes from 10^-12 to 10^30 and scales from 0 to 14, rounded by the server.
        let rows = try await pool.query("""
            SELECT n, n::text AS t
            FROM (SELECT round(((random() - 0.5) * 10 ^ (g % 43 - 12))::numeric, g % 15) AS n
                  FROM generate_series(1, 3000) AS g) AS v
            """)
        #expect(rows.count == 3000)
        var mismatches: [String] = []
        for index in 0..<rows.count {
            let server = try rows[index].decode(String.self, column: "t")
            // Beyond 38 digits neither path has a `Decimal`: decoding throws where the text gives nil.
            let value = try? rows[index].decode(Decimal.self, column: "n")
            if spelled(rows, row: index) != server || value != Decimal(exactText: server.utf8) {
                mismatches.append(server)
            }
        }
        #expect(mismatches.isEmpty, "spelled or read differently: \(mismatches.prefix(5))")
    }

    @Test func numericWithoutADecimalValueIsRefused() async throws {
        for special in ["NaN", "Infinity", "-Infinity"] {
            let rows = try await pool.query("SELECT \(special)::numeric AS n")
            let error = #expect(throws: PostgresError.self) { try rows[0].decode(Decimal.self, column: "n") }
            #expect(error?.code == .decodingFailed)
            #expect(error?.column == "n")
        }
    }

    @Test func everyAcceptedColumnTypeDecodesFromItsBinaryForm() async throws {
        let rows = try await pool.query("""
            SELECT (-12)::int2 AS small, 70000::int4 AS four, 4000000000::oid AS object, 0.5::float4 AS single,
                   '{"a": [1, "é"]}'::jsonb AS document, '{"a":1}'::json AS plain, 'ab'::char(4) AS padded,
                   'pg'::name AS identifier, 'x' AS literal, '2026-11-26 07:30:00.25'::timestamp AS local,
                   42::int8 AS whole
            """)
        let row = rows[0]
        #expect(try row.decode(Int.self, column: "small") == -12)
        #expect(try row.decode(Int32.self, column: "small") == -12)
        #expect(try row.decode(Int64.self, column: "four") == 70_000)
        #expect(try row.decode(Int.self, column: "object") == 4_000_000_000)
        #expect(try row.decode(Double.self, column: "single") == 0.5)
        #expect(try row.decode(String.self, column: "document") == #"{"a": [1, "é"]}"#)
        #expect(try row.decode(String.self, column: "plain") == #"{"a":1}"#)
        #expect(try row.decode(String.self, column: "padded") == "ab  ")
        #expect(try row.decode(String.self, column: "identifier") == "pg")
        #expect(try row.decode(String.self, column: "literal") == "x")
        #expect(TimestampText.format(try row.decode(Date.self, column: "local")) == "2026-11-26T07:30:00.250000Z")
        #expect(try row.decode(Decimal.self, column: "small") == -12)
        #expect(try row.decode(Decimal.self, column: "whole") == 42)
        #expect(throws: PostgresError.self) { try row.decode(Int32.self, column: "whole") }
    }

    @Test func infiniteDaysAndInstantsAreRefused() async throws {
        let rows = try await pool.query("""
            SELECT 'infinity'::date AS later, '-infinity'::date AS earlier,
                   'infinity'::timestamptz AS never, '-infinity'::timestamptz AS always
            """)
        for column in ["later", "earlier"] {
            #expect(throws: PostgresError.self) { try rows[0].decode(CalendarDate.self, column: column) }
        }
        for column in ["never", "always"] {
            #expect(throws: PostgresError.self) { try rows[0].decode(Date.self, column: column) }
        }
    }

    @Test func uuids() async throws {
        let value = UUID()
        #expect(try await roundTrip(value, as: "uuid") == value)
    }

    @Test func calendarDates() async throws {
        for text in ["1900-01-01", "1970-01-01", "2024-02-29", "2026-11-26", "1969-12-31", "9999-12-31"] {
            let value = try #require(CalendarDate(iso: text))
            #expect(try await roundTrip(value, as: "date") == value)
            #expect(try await roundTrip(value, as: "date").description == text)
        }
    }

    @Test func calendarDateTextMatchesTheDatabaseForEveryDayOfFourCenturies() async throws {
        // From 1800-01-01 for 146,097 days (one full Gregorian cycle), as PostgreSQL writes them.
        let start = try #require(CalendarDate(iso: "1800-01-01"))
        let rows = try await pool.query("""
            SELECT to_char(d, 'YYYY-MM-DD') AS text FROM generate_series(\(start), \(start.adding(days: 146_096)), interval '1 day') AS d
            """)
        #expect(rows.count == 146_097)
        for (offset, row) in rows.enumerated() {
            let text = try row.decode(String.self, column: "text")
            let day = start.adding(days: offset)
            guard day.description == text, CalendarDate(iso: text) == day else {
                Issue.record("day \(offset): \(day.description), PostgreSQL says \(text)")
                return
            }
        }
    }

    @Test func timestampsKeepMicroseconds() async throws {
        let rows = try await pool.query("SELECT '2026-11-26 07:30:00.123456+00'::timestamptz AS t, now() AS n")
        let t = try rows[0].decode(Date.self, column: "t")
        #expect(TimestampText.format(t) == "2026-11-26T07:30:00.123456Z")
        let back = try await roundTrip(t, as: "timestamptz")
        #expect(TimestampText.microseconds(back) == TimestampText.microseconds(t))
        // Another session time zone would change the text form; the binary form is the instant whatever the zone.
        let zoned = try await pool.withConnection { connection in
            try await connection.query("SET TIME ZONE 'Asia/Kolkata'")
            let rows = try await connection.query("SELECT '2026-11-26 07:30:00.5+00'::timestamptz AS t")
            try await connection.query("RESET TIME ZONE")
            return rows
        }
        #expect(TimestampText.format(try zoned[0].decode(Date.self, column: "t")) == "2026-11-26T07:30:00.500000Z")
    }

    @Test func bytea() async throws {
        let value = (0...255).map(UInt8.init) + [0, 0, 1]
        #expect(try await roundTrip(value, as: "bytea") == value)
        #expect(try await roundTrip([UInt8](), as: "bytea") == [])
    }

    @Test func nullsDecodeAsNilForEveryType() async throws {
        let rows = try await pool.query(
            """
            SELECT \(String?.none) AS s, \(Int?.none) AS i, \(Int32?.none) AS i4, \(Bool?.none) AS b,
                   \(Double?.none) AS d, \(Decimal?.none) AS n, \(UUID?.none) AS u, \(CalendarDate?.none) AS day,
                   \(Date?.none) AS t, \([UInt8]?.none) AS bytes
            """)
        let row = rows[0]
        #expect(try row.decode(String?.self, column: "s") == nil)
        #expect(try row.decode(Int?.self, column: "i") == nil)
        #expect(try row.decode(Int32?.self, column: "i4") == nil)
        #expect(try row.decode(Bool?.self, column: "b") == nil)
        #expect(try row.decode(Double?.self, column: "d") == nil)
        #expect(try row.decode(Decimal?.self, column: "n") == nil)
        #expect(try row.decode(UUID?.self, column: "u") == nil)
        #expect(try row.decode(CalendarDate?.self, column: "day") == nil)
        #expect(try row.decode(Date?.self, column: "t") == nil)
        #expect(try row.decode([UInt8]?.self, column: "bytes") == nil)
        // Bound NULLs keep their type: the server sees text, int8, ...
        let types = try await pool.query("SELECT pg_typeof(\(String?.none))::text AS a, pg_typeof(\(Int?.none))::text AS b")
        #expect(try types[0].decode(String.self, column: "a") == "text")
        #expect(try types[0].decode(String.self, column: "b") == "bigint")
        // Optional values that are present decode as values.
        let present = try await pool.query("SELECT \(Optional("x")) AS s")
        #expect(try present[0].decode(String?.self, column: "s") == "x")
    }

    @Test func decodingByPositionAndByName() async throws {
        let rows = try await pool.query("SELECT 1::int4 AS one, 'two' AS two")
        #expect(try rows[0].decode(Int32.self, at: 0) == 1)
        #expect(try rows[0].decode(String.self, at: 1) == "two")
        #expect(try rows[0].decode(String.self, column: "two") == "two")
        #expect(rows.columnNames == ["one", "two"])
    }

    @Test func typeMismatchNamesTheColumn() async throws {
        let rows = try await pool.query("SELECT 'abc'::text AS label, NULL::int8 AS missing")
        let mismatch = #expect(throws: PostgresError.self) { try rows[0].decode(Int.self, column: "label") }
        #expect(mismatch?.code == .decodingFailed)
        #expect(mismatch?.column == "label")
        #expect(mismatch?.description.contains("label") == true)
        let null = #expect(throws: PostgresError.self) { try rows[0].decode(Int.self, column: "missing") }
        #expect(null?.description.contains("missing") == true)
        let unknown = #expect(throws: PostgresError.self) { try rows[0].decode(Int.self, column: "nope") }
        #expect(unknown?.description.contains("nope") == true)
    }

    @Test func manyRows() async throws {
        let rows = try await pool.query("SELECT g AS n FROM generate_series(1, 10000) AS g")
        #expect(rows.count == 10_000)
        #expect(try rows.map { try $0.decode(Int.self, column: "n") }.reduce(0, +) == 50_005_000)
    }
}
