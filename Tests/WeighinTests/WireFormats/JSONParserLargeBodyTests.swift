import Testing
@testable import WireFormats

@Suite("JSONParser on a large body")
struct JSONParserLargeBodyTests {
    /// Not timed: guards that a 10 MiB array of 100,000 small objects parses within the default limits.
    @Test func tenMebibyteArray() throws {
        var body: [UInt8] = [UInt8(ascii: "[")]
        body.reserveCapacity(10_600_000)
        for id in 0..<100_000 {
            if id > 0 {
                body.append(UInt8(ascii: ","))
            }
            body.append(contentsOf: #"{"id":\#(id),"date":"2024-05-01","weight":72.35,"unit":"kg","note":"after the morning run, \u00e9 #\#(id % 97)"}"#.utf8)
        }
        body.append(UInt8(ascii: "]"))
        #expect(body.count > 10_000_000)
        let parsed = try JSONParser.parse(body)
        #expect(parsed.arrayValue?.count == 100_000)
    }
}
