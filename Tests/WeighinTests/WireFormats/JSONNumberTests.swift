import Foundation
import Testing
@testable import WireFormats

@Suite("JSONNumber exact conversions")
struct JSONNumberTests {
    @Test("prices and weights come back exactly", arguments: [
        "0.29", "0.07", "1.15", "4.35", "19.99", "72.35", "999.99", "2204.62", "-72.35", "0.1", "100", "0.5",
    ])
    func exactDecimals(text: String) throws {
        let value = try #require(try parseJSON(text).numberValue?.decimal)
        #expect(value.description == text)
        #expect(value == Decimal(string: text))
    }

    @Test("normalized forms", arguments: [
        ("72.350", "72.35"), ("7235e-2", "72.35"), ("80.00", "80"), ("1.5e1", "15"), ("1e-3", "0.001"),
        ("-0", "0"), ("0.000", "0"), ("0e999999999999999999999", "0"), ("1E2", "100"), ("-1.50E+1", "-15"),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
        ("0.00012345678901234567890123456789012345678", "0.00012345678901234567890123456789012345678"),
    ])
    func normalized(text: String, expected: String) throws {
        #expect(number(text).decimal?.description == expected)
    }

    @Test("values Decimal cannot hold give nil", arguments: [
        "1e999", "-1e999", "1e-999", "1e-129", "12e-129", "1e165", "1e99999999999999999999",
        "123456789012345678901234567890123456789", "1.23456789012345678901234567890123456789",
    ])
    func unrepresentable(text: String) {
        #expect(number(text).decimal == nil)
    }

    @Test("edges Decimal can hold", arguments: [
        ("1e127", "1E127"), ("1e130", "1000E127"), ("1e164", "10000000000000000000000000000000000000E127"),
        ("1e-128", "1E-128"), ("12345678901234567890123456789012345678000", "12345678901234567890123456789012345678E3"),
        ("99999999999999999999999999999999999999e89", "99999999999999999999999999999999999999E89"),
    ])
    func representableEdges(text: String, equivalent: String) throws {
        let value = try #require(number(text).decimal)
        #expect(value == Decimal(string: equivalent))
    }

    @Test("decimal places", arguments: [
        ("80.00", 0), ("72.35", 2), ("1.5e1", 0), ("1e-3", 3), ("0", 0), ("0.000", 0), ("-0.5", 1), ("100", 0),
        ("1.10", 1), ("72.351", 3), ("123e-2", 2), ("1e5", 0),
    ])
    func decimalPlaces(text: String, places: Int) {
        #expect(number(text).decimalPlaces == places)
    }

    @Test("exact integers", arguments: [
        ("10.0", 10), ("0", 0), ("-0", 0), ("1e18", 1_000_000_000_000_000_000), ("1200e-2", 12), ("-42", -42),
        ("9223372036854775807", Int.max), ("-9223372036854775808", Int.min), ("0e999999999999999999999", 0),
        ("92233720368547758.07e2", Int.max),
    ])
    func integers(text: String, expected: Int) {
        #expect(number(text).int == expected)
    }

    @Test("not exact integers", arguments: [
        "1.5", "1e400", "123e-2", "9223372036854775808", "-9223372036854775809", "1e19", "0.1", "1e-400",
        "1e99999999999999999999",
    ])
    func nonIntegers(text: String) {
        #expect(number(text).int == nil)
    }

    @Test func numericEquality() {
        for text in ["70.0", "70.00", "7e1", "700e-1", "0.7E2"] {
            #expect(number(text) == number("70"), "\(text)")
        }
        #expect(number("-0") == number("0"))
        #expect(number("70") != number("71"))
        #expect(number("70") != number("-70"))
        #expect(number("1e99999999999999999999") == number("1e99999999999999999999"))
        #expect(number("1e99999999999999999999") != number("1e99999999999999999998"))
        #expect(JSONValue.number(number("1.0")) == 1)
    }

    @Test func initializers() throws {
        #expect(JSONNumber("1.5")?.text == "1.5")
        for invalid in [" 1", "1 ", "01", "abc", "", "[1]", "1.", "+1", "\"1\""] {
            #expect(JSONNumber(invalid) == nil, "\(invalid.debugDescription)")
        }
        #expect(JSONNumber(-42).text == "-42")
        #expect(JSONNumber(try #require(Decimal(string: "72.35")))?.text == "72.35")
        #expect(JSONNumber(Decimal.nan) == nil)
        let literal: JSONNumber = 7
        #expect(literal.description == "7")
    }
}
