import Testing
@testable import WireFormats

@Suite("JSONParser rejects everything RFC 8259 does")
struct JSONParserRejectionTests {
    @Test("malformed text", arguments: [
        // empty or trailing garbage
        "", " ", "\r\n\t", "{} x", "1 2", "[1]]", "{}}", "nullx", "truee", "\"a\"\"b\"", "1,",
        // numbers outside the grammar
        "NaN", "Infinity", "-Infinity", "+1", "01", "-01", "00", "1.", ".5", "-.5", "-", "--1", "- 1",
        "1e", "1e+", "1E-", "1.e3", "1.5e", "0x10", "0X1F", "1_000", "[01]", "{\"a\":.5}", "nan", "inf",
        // quoting
        "'a'", "{'a':1}", "{a:1}", "\"abc", "\"", "[\"a]",
        // trailing, leading and doubled commas
        "[1,]", "{\"a\":1,}", "[,1]", "{,}", "[1,,2]", "[,]", "{\"a\":1,,\"b\":2}",
        // comments
        "// c\n1", "/* c */ 1", "[1 /* c */]", "# c\n1", "[1]// c",
        // unescaped control characters in strings
        "\"a\u{01}b\"", "\"\t\"", "\"\n\"", "\"\r\"", "\"\u{1F}\"", "\"\u{0}\"",
        // invalid escapes
        #""\x41""#, #""\a""#, #""\'""#, #""\u12""#, #""\u12G4""#, #""\U0041""#, #""\""#, #""\"#, #""\u""#, #""\ ""#,
        #""\0""#, #""\v""#,
        // lone or unpaired surrogate escapes
        #""\uD800""#, #""\uDC00""#, #""\uD800\u0041""#, #""\uD800x""#, #""\uDBFF\uDBFF""#, #""\uDC00\uD800""#,
        #""\uD800\n""#, #""\uDFFF""#, #""\ud83d""#,
        // unterminated structures
        "[", "{", "[1", "{\"a\":1", "{\"a\"", "{\"a\":", "[1,", "{\"a\":1,", "[[]",
        // structural mistakes
        "{1:2}", "{\"a\" 1}", "{\"a\":1 \"b\":2}", "[1 2]", "{\"a\"::1}", "{\"a\":1:2}", "[\"a\":1]", "{[]:1}",
        "{null:1}", "}", "]", ":", ",",
        // misspelled literals
        "tru", "nul", "fals", "True", "NULL", "FALSE", "undefined", "nil",
        // whitespace JSON does not allow
        "\u{0C}1", "\u{0B}1", "\u{A0}1", "1\u{0C}", "[1,\u{2028}2]",
    ])
    func malformedText(text: String) {
        let error = jsonError(text)
        #expect(error?.kind == .malformed, "\(text.debugDescription) should be rejected as malformed")
    }

    @Test("invalid UTF-8 inside strings", arguments: [
        [0xC0, 0xAF],  // overlong '/'
        [0xC1, 0xBF],  // overlong
        [0xE0, 0x80, 0xAF],  // overlong 3-byte
        [0xE0, 0x9F, 0xBF],  // overlong 3-byte, highest
        [0xF0, 0x80, 0x80, 0xAF],  // overlong 4-byte
        [0xF0, 0x8F, 0xBF, 0xBF],  // overlong 4-byte, highest
        [0xED, 0xA0, 0x80],  // U+D800 encoded
        [0xED, 0xBF, 0xBF],  // U+DFFF encoded
        [0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80],  // CESU-8 surrogate pair
        [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
        [0xF5, 0x80, 0x80, 0x80], [0xF8], [0xFC], [0xFE], [0xFF],  // bytes 0xF5–0xFF
        [0x80], [0xBF], [0x41, 0x80, 0x41],  // stray continuation bytes
        [0xC2], [0xE2, 0x82], [0xF0, 0x9F, 0x98],  // truncated before the closing quote
        [0xC2, 0x41], [0xE2, 0x41, 0x82], [0xF0, 0x9F, 0x41, 0x80],  // continuation missing
    ] as [[UInt8]])
    func invalidUTF8InString(sequence: [UInt8]) {
        let quote = UInt8(ascii: "\"")
        #expect(jsonError([quote] + sequence + [quote])?.kind == .malformed)
        #expect(jsonError(Array("{\"".utf8) + sequence + Array("\":1}".utf8))?.kind == .malformed)
        #expect(jsonError(Array("[\"a\\n".utf8) + sequence + [quote, UInt8(ascii: "]")])?.kind == .malformed)
    }

    @Test("invalid bytes outside strings and truncation at end of input", arguments: [
        [0xFF], [0x80], [0xC3, 0xA9], [0x5B, 0xFF, 0x5D], [0x22, 0xE2, 0x82], [0x22, 0xF0], [0x31, 0x00],
    ] as [[UInt8]])
    func invalidBytes(bytes: [UInt8]) {
        #expect(jsonError(bytes)?.kind == .malformed)
    }

    @Test("a UTF-8 byte order mark is rejected", arguments: ["1", "{}", "\"x\"", ""])
    func byteOrderMark(text: String) {
        let error = jsonError([0xEF, 0xBB, 0xBF] + Array(text.utf8))
        #expect(error?.kind == .malformed)
        #expect(error?.offset == 0)
    }

    @Test("error offsets point at the problem", arguments: [
        ("[1,]", 3), ("01", 0), ("{\"a\":1} x", 8), ("\"ab\u{01}\"", 3), ("[1 2]", 3), ("", 0), ("\"abc", 0),
        (#"["\uD800"]"#, 2), ("  tru", 2), ("1.", 2),
    ])
    func offsets(text: String, offset: Int) {
        #expect(jsonError(text)?.offset == offset)
    }

    @Test func errorDescriptions() throws {
        let error = try #require(jsonError("[1,]"))
        #expect(error.description.contains("byte 3"))
        #expect(error.description.contains(error.reason))
        #expect(jsonError("01")?.reason.contains("leading zero") == true)
        #expect(jsonError("")?.reason == "empty input")
        let limit = try #require(jsonError("[[1]]", limits: JSONLimits(maxDepth: 1)))
        #expect(limit.description.contains("limit"))
    }
}
