#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A JSON number text reduced to exact sign × digits × 10^exponent, without leading or trailing zeros in `digits`.
///
/// Equality, decimal places and integer values of a ``JSONNumber`` are answered from this form (of any size), so no
/// value ever passes through `Double`; its `Decimal` value comes from `Decimal(exactText:)`.
struct NormalizedDecimal: Equatable {
    /// Exponents beyond this magnitude are not tracked exactly; such numbers only compare by text.
    static let exponentCeiling = 1_000_000_000_000_000

    var isNegative = false
    /// ASCII digits, first and last non-zero; empty for zero.
    var digits: [UInt8] = []
    var exponent = 0
    /// True when the source exponent exceeded ``exponentCeiling`` (and the value is not zero).
    var isExponentOverflowing = false

    /// Normalizes a text that matches the RFC 8259 number grammar.
    init(validatedText text: String) {
        var mantissa: [UInt8] = []
        mantissa.reserveCapacity(text.utf8.count)
        var fractionDigits = 0
        var sourceExponent = 0
        var exponentIsNegative = false
        var exponentOverflow = false
        enum Part { case integer, fraction, exponent }
        var part = Part.integer
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "-") where part == .integer: isNegative = true
            case UInt8(ascii: "-"): exponentIsNegative = true
            case UInt8(ascii: "+"): break
            case UInt8(ascii: "."): part = .fraction
            case UInt8(ascii: "e"), UInt8(ascii: "E"): part = .exponent
            default:
                switch part {
                case .integer: mantissa.append(byte)
                case .fraction: mantissa.append(byte); fractionDigits += 1
                case .exponent:
                    if sourceExponent < Self.exponentCeiling {
                        sourceExponent = sourceExponent * 10 + Int(byte &- UInt8(ascii: "0"))
                    } else {
                        exponentOverflow = true
                    }
                }
            }
        }
        guard let first = mantissa.firstIndex(where: { $0 != UInt8(ascii: "0") }),
            let last = mantissa.lastIndex(where: { $0 != UInt8(ascii: "0") })
        else {
            isNegative = false
            return
        }
        digits = Array(mantissa[first...last])
        exponent = (exponentIsNegative ? -sourceExponent : sourceExponent) - fractionDigits + (mantissa.count - 1 - last)
        isExponentOverflowing = exponentOverflow
    }

    var isZero: Bool {
        digits.isEmpty
    }

    /// The exact value as an `Int`, or nil when it is fractional or out of range.
    var int: Int? {
        guard !isExponentOverflowing, exponent >= 0, digits.count + exponent <= 19 else { return isZero ? 0 : nil }
        var value = 0
        for digit in digits + [UInt8](repeating: UInt8(ascii: "0"), count: exponent) {
            let scaled = value.multipliedReportingOverflow(by: 10)
            let magnitude = Int(digit &- UInt8(ascii: "0"))
            let next = isNegative
                ? scaled.partialValue.subtractingReportingOverflow(magnitude)
                : scaled.partialValue.addingReportingOverflow(magnitude)
            guard !scaled.overflow, !next.overflow else { return nil }
            value = next.partialValue
        }
        return value
    }
}
