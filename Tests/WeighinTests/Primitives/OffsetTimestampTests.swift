import Foundation
import Primitives
import Testing

/// RFC 3339 timestamps with their offset: strict reading, and written back in the same offset.
@Suite("OffsetTimestamp")
struct OffsetTimestampTests {
    @Test(arguments: [
        ("2026-11-26T07:30:00+01:00", "2026-11-26T07:30:00+01:00"),
        ("2026-11-26T07:30:00Z", "2026-11-26T07:30:00Z"),
        ("2026-11-26T07:30:00+00:00", "2026-11-26T07:30:00+00:00"),
        ("2026-11-26T07:30:00.500+01:00", "2026-11-26T07:30:00.5+01:00"),
        ("2026-11-26T07:30:00.000Z", "2026-11-26T07:30:00Z"),
        ("2026-11-26T07:30:00.123456-09:30", "2026-11-26T07:30:00.123456-09:30"),
        ("2026-12-31T23:59:59.999999+14:00", "2026-12-31T23:59:59.999999+14:00"),
        ("1969-12-31T23:00:00-12:00", "1969-12-31T23:00:00-12:00"),
        ("1900-01-01T00:00:00+05:45", "1900-01-01T00:00:00+05:45"),
    ])
    func readsAndWritesBackInItsOwnOffset(_ sent: String, _ written: String) throws {
        let timestamp = try #require(OffsetTimestamp(rfc3339: sent), "\(sent)")
        #expect(timestamp.rfc3339 == written)
        #expect(OffsetTimestamp(rfc3339: written) == timestamp)
    }

    @Test func theInstantIsTheSameWhateverTheOffset() throws {
        let paris = try #require(OffsetTimestamp(rfc3339: "2026-11-26T07:30:00+01:00"))
        let utc = try #require(OffsetTimestamp(rfc3339: "2026-11-26T06:30:00Z"))
        let newYork = try #require(OffsetTimestamp(rfc3339: "2026-11-26T01:30:00-05:00"))
        #expect(paris.microseconds == utc.microseconds && utc.microseconds == newYork.microseconds)
        #expect(utc.date == Date(timeIntervalSince1970: 1_795_674_600))
        #expect(paris.offsetMinutes == 60 && utc.isZulu && newYork.offsetMinutes == -300)
    }

    @Test(arguments: [
        ("2026-11-26T23:30:00-05:00", "2026-11-26"), ("2026-11-27T00:30:00.25+09:00", "2026-11-27"),
        ("2026-11-27T04:30:00Z", "2026-11-27"), ("1969-12-31T23:59:59.999999-00:01", "1969-12-31"),
        ("1970-01-01T00:00:00+14:00", "1970-01-01"),
    ])
    func theLocalDateIsTheDayWhereItWasWritten(_ sent: String, _ day: String) throws {
        #expect(try #require(OffsetTimestamp(rfc3339: sent)).localDate.description == day)
    }

    @Test(arguments: [
        "2026-11-26T07:30:00", "2026-11-26T07:30+01:00", "2026-11-26 07:30:00Z", "2026-11-26t07:30:00Z",
        "2026-11-26T07:30:00z", "2026-11-26T24:00:00Z", "2026-12-31T23:59:60Z", "2026-11-26T07:30:00.1234567Z",
        "2026-11-26T07:30:00.Z", "2026-11-26T07:30:00+14:01", "2026-11-26T07:30:00-12:01", "2026-11-26T07:30:00-00:00",
        "2026-11-26T07:30:00+0100", "2026-11-26T07:30:00+01", "2026-02-30T07:30:00Z", "0000-01-01T00:00:00Z",
        "2026-11-26T07:60:00Z", "2026-11-26T07:30:00+01:60", "", "2026-11-26T07:30:00+01:00 ",
    ])
    func refusesWhatIsNotAStrictRFC3339TimestampWithAnOffset(_ text: String) {
        #expect(OffsetTimestamp(rfc3339: text) == nil, "\(text)")
    }
}
