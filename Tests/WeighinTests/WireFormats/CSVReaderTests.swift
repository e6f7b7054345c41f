import Testing
@testable import WireFormats

@Suite("CSVReader")
struct CSVReaderTests {
    @Test("records and line breaks", arguments: [
        ("a,b,c\r\n1,2,3\r\n", [["a", "b", "c"], ["1", "2", "3"]]),
        ("a,b,c\n1,2,3\n", [["a", "b", "c"], ["1", "2", "3"]]),
        ("a,b,c\r\n1,2,3", [["a", "b", "c"], ["1", "2", "3"]]),
        ("a\n1\r\n2", [["a"], ["1"], ["2"]]),
        ("date,weight\n2024-05-01,72.35\n", [["date", "weight"], ["2024-05-01", "72.35"]]),
        (" a , b ", [[" a ", " b "]]),
        ("ragged\n1,2,3\n", [["ragged"], ["1", "2", "3"]]),
    ])
    func records(text: String, expected: [[String]]) throws {
        #expect(try csv(text) == expected)
    }

    @Test("empty fields", arguments: [
        (",,", [["", "", ""]]),
        ("a,\n", [["a", ""]]),
        ("a,", [["a", ""]]),
        (",a", [["", "a"]]),
        ("\"\"", [[""]]),
        ("\"\",\"\"\r\n", [["", ""]]),
    ])
    func emptyFields(text: String, expected: [[String]]) throws {
        #expect(try csv(text) == expected)
    }

    @Test("quoted fields", arguments: [
        ("\"a,b\",c", [["a,b", "c"]]),
        ("\"say \"\"hi\"\"\"", [["say \"hi\""]]),
        ("\"\"\"\"", [["\""]]),
        ("\"line1\r\nline2\",x\r\ny", [["line1\r\nline2", "x"], ["y"]]),
        ("\"a\nb\"\n", [["a\nb"]]),
        ("\"cr\ronly\"", [["cr\ronly"]]),
        ("\"é😀\",ü", [["é😀", "ü"]]),
        ("\"a\"\"\",\"\"\"b\"", [["a\"", "\"b"]]),
    ])
    func quoted(text: String, expected: [[String]]) throws {
        #expect(try csv(text) == expected)
    }

    @Test("empty lines", arguments: [
        ("a\n\nb\n", [["a"], [""], ["b"]]),
        ("a\r\n\r\nb", [["a"], [""], ["b"]]),
        ("\n\na", [[""], [""], ["a"]]),
        ("a\n\n", [["a"]]),
        ("a\r\n\r\n\r\n", [["a"]]),
        ("a\n\nb\n\n", [["a"], [""], ["b"]]),
        ("", []),
        ("\n", []),
        ("\r\n\n", []),
    ])
    func emptyLines(text: String, expected: [[String]]) throws {
        #expect(try csv(text) == expected)
    }

    @Test func byteOrderMarkIsStripped() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        #expect(try CSVReader.parse(bom + Array("a,b\r\n".utf8), limits: CSVLimits(maxRecords: 5)) == [["a", "b"]])
        #expect(try CSVReader.parse(bom + Array("\"a\"".utf8), limits: CSVLimits(maxRecords: 5)) == [["a"]])
        #expect(try CSVReader.parse(bom, limits: CSVLimits(maxRecords: 5)) == [])
        // Only a leading BOM is removed.
        #expect(try csv("a,\u{FEFF}b") == [["a", "\u{FEFF}b"]])
    }

    @Test func nonContiguousInput() throws {
        #expect(try CSVReader.parse(AnySequence(Array("a,b\n".utf8)), limits: CSVLimits(maxRecords: 5)) == [["a", "b"]])
        #expect(try CSVReader.parse("x".utf8, limits: CSVLimits(maxRecords: 5)) == [["x"]])
    }

    @Test("malformed input reports the record", arguments: [
        ("a,b\"c", 1),  // quote inside an unquoted field
        ("a\nb,c\"\n", 2),
        ("\"a\"b", 1),  // characters after a closing quote
        ("x\n\"a\" ,b", 2),
        ("\"a\"\"b\"c", 1),
        ("a\nb\n\"abc", 3),  // unterminated quoted field
        ("a\n\"abc\ndef", 2),
        ("\"", 1),
        ("a\rb", 1),  // carriage return without line feed
        ("a\n\r", 2),
        ("a\n\nb\"c", 3),  // empty lines count as records
        ("\"x\ny\"\nbad\"", 2),  // multi-line fields count once
        ("\"a\"\r", 1),
    ])
    func malformed(text: String, record: Int) throws {
        let error = try #require(csvError(text))
        #expect(error.kind == .malformed)
        #expect(error.record == record)
        #expect(error.description.contains("record \(record)"))
    }

    @Test("invalid UTF-8 reports the record", arguments: [
        [0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80], [0xC3],
    ] as [[UInt8]])
    func invalidUTF8(sequence: [UInt8]) {
        let header = Array("date,weight\n".utf8)
        #expect(csvError(header + Array("x,".utf8) + sequence + Array("y\n".utf8))?.record == 2)
        #expect(csvError(header + Array("x,\"".utf8) + sequence + Array("\"\n".utf8))?.record == 2)
        #expect(csvError(header + Array("a\n\"x\n".utf8) + sequence + Array("\"".utf8))?.kind == .malformed)
        #expect(csvError(sequence)?.kind == .malformed)
    }

    @Test func recordLimit() throws {
        let limits = CSVLimits(maxRecords: 2)
        #expect(try csv("a\nb\n", limits: limits).count == 2)
        let error = try #require(csvError("a\nb\nc\n", limits: limits))
        #expect(error.kind == .tooManyRecords)
        #expect(error.record == 3)
        // Trailing empty lines are not records; an empty line in the middle is.
        #expect(try csv("a\nb\n\n\n\n", limits: limits).count == 2)
        #expect(csvError("a\n\nb", limits: limits)?.kind == .tooManyRecords)
        #expect(csvError("", limits: CSVLimits(maxRecords: 0)) == nil)
        #expect(csvError("a", limits: CSVLimits(maxRecords: 0))?.kind == .tooManyRecords)
    }

    @Test func fieldLengthLimit() throws {
        let limits = CSVLimits(maxRecords: 10, maxFieldBytes: 4)
        #expect(try csv("abcd,\"ab,d\",\"a\"\"\"\"b\",éé", limits: limits) == [["abcd", "ab,d", "a\"\"b", "éé"]])
        for text in ["abcde", "x\n\"abcde\"", "\"a\"\"\"\"\"\"b\"", "ééa", "a,b\nc,12345"] {
            let error = csvError(text, limits: limits)
            #expect(error?.kind == .fieldTooLong, "\(text.debugDescription)")
        }
        #expect(csvError("a,b\nc,12345", limits: limits)?.record == 2)
        #expect(CSVLimits(maxRecords: 1).maxFieldBytes == 65_536)
    }
}
