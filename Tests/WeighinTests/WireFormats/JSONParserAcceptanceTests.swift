import Testing
@testable import WireFormats

@Suite("JSONParser accepts RFC 8259 JSON")
struct JSONParserAcceptanceTests {
    static let topLevelCases: [(String, JSONValue)] = [
        ("null", .null),
        ("true", .bool(true)),
        ("false", .bool(false)),
        ("0", 0),
        ("-12", -12),
        ("\"x\"", "x"),
        ("[]", []),
        ("{}", .object(JSONObject())),
        (" \t\r\n[ 1 , 2 ]\n\r\t ", [1, 2]),
        ("{ \"a\" : [ ] , \"b\" : { } }", ["a": [], "b": .object(JSONObject())]),
    ]

    @Test("any top-level value", arguments: topLevelCases)
    func topLevel(text: String, expected: JSONValue) throws {
        #expect(try parseJSON(text) == expected)
    }

    @Test("numbers keep their source text", arguments: [
        "0", "-0", "0.0", "1e5", "1E+5", "1e-5", "-1.25e-3", "72.350", "123456789012345678901234567890", "1e999",
    ])
    func numberText(text: String) throws {
        #expect(try parseJSON(text).numberValue?.text == text)
        #expect(try parseJSON("[\(text)]").arrayValue?.first?.numberValue?.text == text)
    }

    @Test("escape sequences", arguments: [
        (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{08}\u{0C}\n\r\t"),
        (#""\u0041\u00e9\u20AC""#, "Aé€"),
        (#""\ud83d\ude00""#, "😀"),
        (#""\uD834\uDD1E clef""#, "𝄞 clef"),
        (#""a\u0000b""#, "a\u{0}b"),
        (#""plain \n then raw é""#, "plain \n then raw é"),
        (#""\uFFFF\uFEFF""#, "\u{FFFF}\u{FEFF}"),
    ])
    func escapes(text: String, expected: String) throws {
        #expect(try parseJSON(text) == .string(expected))
    }

    @Test func rawUTF8AndDelete() throws {
        #expect(try parseJSON("\"é€😀 ü\u{7F}\"") == .string("é€😀 ü\u{7F}"))
        #expect(try parseJSON("{\"gewicht\":\"kg · ½\"}").objectValue?["gewicht"] == "kg · ½")
    }

    @Test func nestedStructure() throws {
        let value = try parseJSON(#"{"a":[1,{"b":null,"c":[true,false]}],"d":{"e":"f"},"g":[[],[[]]]}"#)
        let expected: JSONValue = [
            "a": [1, ["b": .null, "c": [true, false]]],
            "d": ["e": "f"],
            "g": [[], [[]]],
        ]
        #expect(value == expected)
    }

    @Test func memberOrderAndDuplicatesArePreserved() throws {
        let object = try #require(try parseJSON(#"{"z":1,"a":2,"z":3,"m":{"x":1,"x":2}}"#).objectValue)
        #expect(object.keys == ["z", "a", "z", "m"])
        #expect(object["z"] == 1)
        #expect(object["missing"] == nil)
        #expect(object.count == 4)
        #expect(object["m"]?.objectValue?.keys == ["x", "x"])
    }

    @Test func accessors() throws {
        let value = try parseJSON(#"[null,true,1.5,"s",[],{}]"#)
        let elements = try #require(value.arrayValue)
        #expect(elements[0].isNull)
        #expect(elements[1].boolValue == true)
        #expect(elements[2].numberValue?.text == "1.5")
        #expect(elements[3].stringValue == "s")
        #expect(elements[4].arrayValue == [])
        #expect(elements[5].objectValue?.isEmpty == true)
        #expect(elements[3].numberValue == nil)
        #expect(value.objectValue == nil)
    }

    @Test func inputTypes() throws {
        let text = #"{"weight":72.35}"#
        let expected: JSONValue = ["weight": .number(number("72.35"))]
        #expect(try JSONParser.parse(text.utf8) == expected)
        #expect(try JSONParser.parse(AnySequence(Array(text.utf8))) == expected)
        #expect(try JSONParser.parse(Array(text.utf8)[...]) == expected)
        let raw = try Array(text.utf8).withUnsafeBytes { buffer throws(JSONParseError) in
            try JSONParser.parse(buffer)
        }
        #expect(raw == expected)
        let empty = [UInt8]().withUnsafeBytes { buffer in jsonError(buffer) }
        #expect(empty?.reason == "empty input")
        #expect(throws: JSONParseError.self) {
            try Array("[1,]".utf8).withUnsafeBytes { buffer throws(JSONParseError) in try JSONParser.parse(buffer) }
        }
    }

    @Test func descriptionIsCompactJSON() throws {
        #expect(try parseJSON(#" { "a" : [ 1.50 , "x\n" ] } "#).description == #"{"a":[1.50,"x\n"]}"#)
    }
}
