import Foundation
import Primitives
import Testing

@Suite("Hex and UUID bytes")
struct HexTests {
    @Test func hexWritesEveryByteAsTwoLowercaseDigits() {
        let bytes = (0...255).map(UInt8.init)
        var text: [UInt8] = []
        Hex.append(bytes, to: &text)
        let expected = bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        #expect(String(decoding: text, as: UTF8.self) == expected)
    }

    @Test func everyByteIsAHexDigitOrNot() {
        for byte in UInt8.min...UInt8.max {
            let expected = byte < 0x80 ? UInt8(String(UnicodeScalar(byte)), radix: 16) : nil
            #expect(Hex.value(of: byte) == expected, "\(byte)")
        }
    }

    @Test func uuidTextAndBytesAgreeWithFoundation() throws {
        for _ in 0..<1000 {
            let id = UUID()
            #expect(id.lowercasedString == id.uuidString.lowercased())
            #expect(UUID(canonical: id.uuidString.utf8) == id)
            #expect(UUID(canonical: id.lowercasedString.utf8) == id)
            #expect(UUID(canonical: AnyCollection(id.uuidString.utf8)) == id, "a collection without contiguous storage")
            #expect(UUID(bytes: id.bytes) == id)
        }
    }

    @Test(arguments: ["", "00000000-0000-0000-0000-00000000000", "000000000000-0000-0000-0000-00000000",
                      "{00000000-0000-0000-0000-000000000000}", "00000000-0000-0000-0000-00000000000g",
                      "00000000000000000000000000000000",
                      "00000000_0000_0000_0000_000000000000", "00000000-0000-0000-0000-0000000000-0",
                      ":0000000-0000-0000-0000-000000000000", "@0000000-0000-0000-0000-000000000000",
                      "`0000000-0000-0000-0000-000000000000", "G0000000-0000-0000-0000-000000000000",
                      "/0000000-0000-0000-0000-000000000000", "\u{e9}000000-0000-0000-0000-00000000000"])
    func uuidRefusesOtherForms(_ text: String) {
        #expect(UUID(canonical: text.utf8) == nil)
    }
}
