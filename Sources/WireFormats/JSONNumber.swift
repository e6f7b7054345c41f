#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Primitives

/// A JSON number kept as its exact source text, with exact conversions on demand.
///
/// Money and weights must not be rounded through `Double`, so values are derived from the digits themselves.
public struct JSONNumber: Sendable, Equatable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// The number exactly as written in the source, e.g. `72.350` or `7e1`.
    public let text: String

    init(validatedText: String) {
        self.text = validatedText
    }

    /// Creates a number from JSON number text, or nil when `text` is not exactly one RFC 8259 number (no whitespace).
    public init?(_ text: String) {
        guard case .number(let number) = try? JSONParser.parse(Array(text.utf8)), number.text == text else {
            return nil
        }
        self = number
    }

    /// Creates a number from an integer.
    public init(_ value: Int) {
        self.text = String(value)
    }

    public init(integerLiteral value: Int) {
        self.init(value)
    }

    /// Creates a number from a `Decimal`, or nil for NaN (which JSON cannot express).
    public init?(_ value: Decimal) {
        guard !value.isNaN else { return nil }
        self.text = value.plainText
    }

    /// The exact value, or nil when `Decimal` cannot hold it exactly.
    ///
    /// That is the case for more than 38 significant digits, or an exponent outside `Decimal`'s range (`1e999`, `1e-999`).
    public var decimal: Decimal? {
        Decimal(exactText: text.utf8)
    }

    /// Digits after the decimal point of the exact value with trailing zeros removed: `80.00` → 0, `72.35` → 2, `1e-3` → 3.
    ///
    /// Meaningful when ``decimal`` is non-nil; used to enforce precision rules such as "at most two decimals".
    public var decimalPlaces: Int {
        max(0, -normalized.exponent)
    }

    /// The exact value as an `Int`, or nil when it has a fractional part or does not fit (`10.0` → 10, `1.5` → nil).
    public var int: Int? {
        normalized.int
    }

    public var description: String {
        text
    }

    /// Text used by ``JSONValue/canonicalBytes``: plain notation of the exact value, or the source text when ``decimal`` is nil.
    var canonicalText: String {
        decimal?.plainText ?? text
    }

    var normalized: NormalizedDecimal {
        NormalizedDecimal(validatedText: text)
    }

    /// Numeric equality: `70`, `70.0` and `7e1` are equal.
    ///
    /// Numbers with an astronomically large exponent (beyond about ±10^15) compare by source text.
    public static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        if lhs.text == rhs.text { return true }
        let left = lhs.normalized
        let right = rhs.normalized
        return !left.isExponentOverflowing && !right.isExponentOverflowing && left == right
    }
}
