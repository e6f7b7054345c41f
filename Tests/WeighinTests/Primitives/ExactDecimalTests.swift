import Foundation
import Primitives
import Testing

@Suite("Exact decimal text")
struct ExactDecimalTests {
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

    @Test(arguments: [
        ("72.35", "72.35"), ("72.350", "72.35"), ("-0.5", "-0.5"), ("0", "0"), ("-0", "0"), ("100", "100"),
        ("0.001", "0.001"), ("1e5", "100000"), ("1E+2", "100"), ("1.5e-3", "0.0015"), ("0e99999999999", "0"),
        ("1002", "1002"), ("0.45359237", "0.45359237"), ("12345678901234567.89", "12345678901234567.89"),
        ("123456789012345678901234567890.12", "123456789012345678901234567890.12"),
        ("1e130", "10000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"),
    ])
    func readsExactly(_ text: String, _ expected: String) throws {
        let value = try #require(Decimal(exactText: text.utf8), "\(text)")
        #expect(value == Decimal(string: expected, locale: Locale(identifier: "en_US_POSIX"))!, "\(text)")
    }

    @Test(arguments: ["", "-", "+1", ".5", "5.", "1e", "1e+", "1..2", "1.2.3", "--1", "1-", "NaN", " 1", "1 ", "0x10",
                      "1e999", "1e-999", "123456789012345678901234567890123456789", "١"])
    func refusesWhatIsNotExactDecimalText(_ text: String) {
        #expect(Decimal(exactText: text.utf8) == nil, "\(text)")
    }

    @Test func readsWhatItWrites() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let significand = UInt64.random(in: 0...999_999_999_999_999, using: &generator)
            let value = Decimal(
                sign: Bool.random(using: &generator) ? .minus : .plus, exponent: Int.random(in: -20...20, using: &generator),
                significand: Decimal(significand))
            #expect(Decimal(exactText: value.plainText.utf8) == value, "\(value.plainText)")
        }
    }
}
