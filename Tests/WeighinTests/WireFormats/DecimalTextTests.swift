import Foundation
import Testing
@testable import WireFormats

@Suite("Decimal.plainText")
struct DecimalTextTests {
    @Test(arguments: ["72.35", "72.50", "0.45359237", "-0.5", "0", "-0", "100", "1200.000", "0.001", "1e5", "12345678901234567.89",
                      "123456789012345678901234567890.12", "-99999999999999999999", "1e-30", "3.4e38", "999.99", "0.1"])
    func sameTextAsDescription(_ text: String) throws {
        let value = try #require(Decimal(string: text))
        #expect(value.plainText == value.description)
    }

    @Test func sameTextAsDescriptionForRandomValues() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let digits = Int.random(in: 1...24, using: &generator)
            let whole = String((0..<digits).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
            let scale = Int.random(in: 0...digits, using: &generator)
            var text = whole
            if scale > 0 { text.insert(".", at: text.index(text.endIndex, offsetBy: -scale)) }
            if Bool.random(using: &generator) { text = "-" + text }
            if text.hasPrefix(".") || text.hasPrefix("-.") { text = text.replacingOccurrences(of: ".", with: "0.") }
            let value = try #require(Decimal(string: text), "\(text)")
            #expect(value.plainText == value.description, "\(text)")
            let exponent = Int.random(in: -20...20, using: &generator)
            let scaled = Decimal(sign: value.sign, exponent: exponent, significand: value.magnitude)
            #expect(scaled.plainText == scaled.description, "\(text)e\(exponent)")
        }
        #expect(Decimal.nan.plainText == Decimal.nan.description)
    }
}
