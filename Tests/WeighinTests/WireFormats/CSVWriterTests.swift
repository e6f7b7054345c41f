import Testing
@testable import WireFormats

@Suite("CSVWriter")
struct CSVWriterTests {
    @Test func quotingOnlyWhenNeeded() {
        var writer = CSVWriter()
        writer.writeRecord(["a", "b,c", "d\"e", "f\ng", "h\ri", "", " sp ", "é😀"])
        writer.writeRecord(["last"])
        #expect(writer.bytes.utf8String == "a,\"b,c\",\"d\"\"e\",\"f\ng\",\"h\ri\",, sp ,é😀\r\nlast\r\n")
    }

    @Test func emptyRecords() {
        var writer = CSVWriter(bytes: Array("x\r\n".utf8))
        writer.writeRecord([""])
        writer.writeRecord(["", ""])
        writer.writeRecord([String]())
        #expect(writer.bytes.utf8String == "x\r\n\"\"\r\n,\r\n\r\n")
    }

    @Test("round trips", arguments: [
        [["date", "weight", "note"], ["2024-05-01", "72.35", "after run, felt \"great\""]],
        [["\"", "\"\"", ",", "\r\n", "\n", "\r", "a\r\nb,c\"d"]],
        [[""], ["", ""], ["a"], [""]],
        [["😀", "é,ü", " leading", "trailing ", "\u{FEFF}bom-like"]],
        [["\""], [","], ["=1+2"], ["-5"]],
        [["x"], [""]],
    ] as [[[String]]])
    func roundTrip(records: [[String]]) throws {
        var writer = CSVWriter()
        for record in records {
            writer.writeRecord(record)
        }
        #expect(try CSVReader.parse(writer.bytes, limits: CSVLimits(maxRecords: 100)) == records)
    }
}
