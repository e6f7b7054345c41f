import Foundation
import Primitives
import Testing

@Suite("Base64URL")
struct Base64URLTests {
    /// Foundation's base64, turned into base64url without padding, as the reference.
    static func reference(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    @Test func agreesWithFoundationEitherWay() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<70 {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
                let text = Base64URL.encode(bytes)
                #expect(text == Self.reference(bytes))
                #expect(Base64URL.decode(text) == bytes)
            }
        }
    }

    @Test(arguments: ["A", "AAAAA", "AB", "AAB", "AA==", "AA+/", "AA A", "é", "AA\u{0}A"])
    func refusesWhatIsNotCanonical(_ text: String) {
        // "AB" and "AAB" carry set bits after the last whole byte: another text for the same bytes.
        #expect(Base64URL.decode(text) == nil)
    }
}
