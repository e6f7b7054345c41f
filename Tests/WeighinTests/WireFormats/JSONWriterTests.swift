import Foundation
import Testing
@testable import WireFormats

@Suite("JSONWriter")
struct JSONWriterTests {
    @Test func everyCall() throws {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("id")
        writer.number(42)
        writer.key("weight")
        writer.number(try #require(Decimal(string: "72.35")))
        writer.key("raw")
        writer.rawNumber("1.50e2")
        writer.key("tags")
        writer.beginArray()
        writer.string("a")
        writer.bool(true)
        writer.bool(false)
        writer.null()
        writer.beginArray()
        writer.endArray()
        writer.beginObject()
        writer.endObject()
        writer.endArray()
        writer.key("nested")
        writer.beginObject()
        writer.key("x")
        writer.number(-1)
        writer.endObject()
        writer.endObject()
        #expect(writer.bytes.utf8String
            == #"{"id":42,"weight":72.35,"raw":1.50e2,"tags":["a",true,false,null,[],{}],"nested":{"x":-1}}"#)
    }

    @Test func asciiTextIsWrittenInPlaceBetweenQuotesAndSeparated() {
        var writer = JSONWriter(capacity: 64)
        writer.beginArray()
        writer.asciiString(capacity: 8) { buffer in
            for (index, byte) in "2026-12".utf8.enumerated() { buffer[index] = byte }
            return 7
        }
        writer.asciiString(capacity: 4) { _ in 0 }
        writer.beginObject()
        writer.key("at")
        writer.asciiString(capacity: 3) { buffer in
            buffer[0] = UInt8(ascii: "Z")
            return 1
        }
        writer.key("n")
        writer.null()
        writer.endObject()
        writer.endArray()
        #expect(writer.bytes.utf8String == #"["2026-12","",{"at":"Z","n":null}]"#)
    }

    /// The writer keeps its own memory: it grows past the room it started with, and a copy is a value of its own.
    @Test func growsPastItsRoomAndCopiesAreIndependent() {
        var writer = JSONWriter(capacity: 1)
        writer.beginArray()
        for index in 0..<1_000 {
            writer.beginObject()
            writer.key("index")
            writer.number(index)
            writer.key("name")
            writer.string("entry \(index)")
            writer.endObject()
        }
        var copy = writer
        writer.endArray()
        copy.null()
        copy.endArray()
        let expected = (0..<1_000).map { #"{"index":\#($0),"name":"entry \#($0)"}"# }.joined(separator: ",")
        #expect(writer.bytes.utf8String == "[" + expected + "]")
        #expect(copy.bytes.utf8String == "[" + expected + ",null]")
    }

    @Test func topLevelSequenceAndExistingBuffer() {
        var writer = JSONWriter(bytes: Array("data: ".utf8))
        writer.beginArray()
        writer.number(Int.min)
        writer.number(Decimal.nan)
        writer.number(Decimal(0))
        writer.endArray()
        #expect(writer.bytes.utf8String == "data: [-9223372036854775808,null,0]")
    }

    @Test("string escaping", arguments: [
        ("plain", #""plain""#),
        ("\"\\", #""\"\\""#),
        ("\n\r\t\u{08}\u{0C}", #""\n\r\t\b\f""#),
        ("\u{0}\u{01}\u{1F}", #""\u0000\u0001\u001f""#),
        ("é😀€ü", "\"é😀€ü\""),
        ("a\u{2028}b\u{2029}c", #""a\u2028b\u2029c""#),
        ("/\u{7F}'<>", "\"/\u{7F}'<>\""),
        ("\u{2027}\u{202A}", "\"\u{2027}\u{202A}\""),
        ("", #""""#),
    ])
    func escaping(input: String, expected: String) throws {
        var writer = JSONWriter()
        writer.string(input)
        #expect(writer.bytes.utf8String == expected)
        #expect(try JSONParser.parse(writer.bytes) == .string(input))
        var keyed = JSONWriter()
        keyed.beginObject()
        keyed.key(escaping: input)
        keyed.null()
        keyed.endObject()
        #expect(keyed.bytes.utf8String == "{\(expected):null}")
    }

    @Test func writeValuePreservesSourceTextAndOrder() throws {
        let text = #"{"z":[1.50e2,-0,"a\"b"],"a":{"k":null,"k":true},"e":[],"o":{}}"#
        let value = try parseJSON(text)
        var writer = JSONWriter()
        writer.write(value)
        #expect(writer.bytes.utf8String == text)
        #expect(try JSONParser.parse(writer.bytes) == value)
    }

    @Test func roundTripOfAllControlAndSpecialCharacters() throws {
        let scalars = (0..<0x80).compactMap(Unicode.Scalar.init) + ["\u{FEFF}", "\u{2028}", "\u{10FFFF}", "\u{FFFD}"]
        let text = String(String.UnicodeScalarView(scalars))
        var writer = JSONWriter()
        writer.write([.string(text), ["k\(text)": .string(text)]])
        let parsed = try JSONParser.parse(writer.bytes)
        #expect(parsed == [.string(text), ["k\(text)": .string(text)]])
    }
}

@Suite("JSONValue.canonicalBytes")
struct JSONCanonicalTests {
    private func canonical(_ text: String) throws -> String {
        try parseJSON(text).canonicalBytes.utf8String
    }

    @Test func equalAsParsedJSON() throws {
        let left = try parseJSON(#"{"b":1,"a":70.0}"#)
        let right = try parseJSON(#"{ "a" : 70, "b" : 1.00 }"#)
        #expect(left.canonicalBytes == right.canonicalBytes)
        #expect(try canonical(#"{"b":1,"a":70.0}"#) == #"{"a":70,"b":1}"#)
        #expect(try parseJSON(#"{"a":"70"}"#).canonicalBytes != parseJSON(#"{"a":70}"#).canonicalBytes)
    }

    @Test("numbers are normalized", arguments: [
        ("70", "70"), ("70.0", "70"), ("70.00", "70"), ("7e1", "70"), ("700e-1", "70"), ("0.7E+2", "70"),
        ("-0", "0"), ("0.0e5", "0"), ("1.5e-3", "0.0015"), ("-72.350", "-72.35"), ("1E2", "100"),
        ("1e999", "1e999"), ("-1E999", "-1E999"), ("1e-999", "1e-999"),
        ("123456789012345678901234567890123456789", "123456789012345678901234567890123456789"),
    ])
    func numbers(text: String, expected: String) throws {
        #expect(try canonical(text) == expected)
        #expect(try canonical("[\(text)]") == "[\(expected)]")
    }

    @Test func keysSortByUnicodeScalarsAndDuplicatesKeepOrder() throws {
        #expect(try canonical(#"{"b":1,"é":2,"a":3,"B":4,"aa":5,"":6,"😀":7,"\uFFFF":8}"#)
            == "{\"\":6,\"B\":4,\"a\":3,\"aa\":5,\"b\":1,\"é\":2,\"\u{FFFF}\":8,\"😀\":7}")
        #expect(try canonical(#"{"b":1,"a":2,"a":1}"#) == #"{"a":2,"a":1,"b":1}"#)
    }

    @Test func nestedValuesAndWhitespace() throws {
        #expect(try canonical(" [ { \"y\" : [ 2.0 , { \"d\":1, \"c\":0 } ] , \"x\" : null } , true , \"\\u0041\\n\" ] ")
            == #"[{"x":null,"y":[2,{"c":0,"d":1}]},true,"A\n"]"#)
        #expect(try canonical(#"[3,1,2]"#) == "[3,1,2]")
    }
}
