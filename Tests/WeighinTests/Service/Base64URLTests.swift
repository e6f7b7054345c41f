import Foundation
import Testing
@testable import WeighinService

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

    @Test func tokensRoundTrip() throws {
        let user = UUID()
        let token = BearerToken(newFor: user)
        #expect(token.text.hasPrefix("wi_") && token.text.utf8.count == 57)
        #expect(BearerToken(parsing: token.text)?.userID == user)
        var altered = Array(token.text.utf8)
        altered[altered.count - 1] = altered.last == UInt8(ascii: "A") ? UInt8(ascii: "Q") : UInt8(ascii: "A")
        let alteredText = String(decoding: altered, as: UTF8.self)
        // The last character holds 4 unused bits: most changes there are refused outright, and any other change
        // makes another hash, which no stored token has.
        if let parsed = BearerToken(parsing: alteredText) { #expect(parsed.text != token.text) }
        #expect(BearerToken(parsing: "wi_" + String(repeating: "=", count: 54)) == nil)
        #expect(BearerToken(parsing: String(token.text.dropFirst(3))) == nil)
    }
}
