import Testing
@testable import Primitives

@Suite("TimestampText.parse")
struct TimestampTextTests {
    private func parse(_ text: String, offsetRequired: Bool = true) -> Int64? {
        Array(text.utf8).withUnsafeBytes { TimestampText.parse($0, offsetRequired: offsetRequired) }
    }

    /// 2026-11-26 07:30:00 UTC in microseconds since the epoch.
    private let base: Int64 = 1_795_678_200 * 1_000_000

    @Test func readsEachOffsetFormPostgreSQLWrites() {
        #expect(parse("2026-11-26 07:30:00+00") == base)
        #expect(parse("2026-11-26 07:30:00.123456+00") == base + 123_456)
        #expect(parse("2026-11-26 13:00:00+05:30") == base)
        #expect(parse("2026-11-26 04:30:00-03") == base)
        #expect(parse("2026-11-26 08:31:03+01:01:03") == base)
        #expect(parse("2026-11-26T07:30:00.5+00") == base + 500_000)
    }

    @Test func aMissingOffsetIsUTCOnlyWhenAllowed() {
        #expect(parse("2026-11-26 07:30:00") == nil)
        #expect(parse("2026-11-26 07:30:00", offsetRequired: false) == base)
    }

    @Test("malformed offsets are refused", arguments: [
        "2026-11-26 07:30:00+", "2026-11-26 07:30:00+1", "2026-11-26 07:30:00+01:", "2026-11-26 07:30:00+01:0",
        "2026-11-26 07:30:00+01:02:03:04", "2026-11-26 07:30:00Z", "2026-11-26 07:30:00+0a",
    ])
    func malformedOffset(text: String) {
        #expect(parse(text) == nil)
    }
}
