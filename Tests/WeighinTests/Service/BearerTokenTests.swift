import Foundation
import Testing
@testable import WeighinService

@Suite("BearerToken")
struct BearerTokenTests {
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
