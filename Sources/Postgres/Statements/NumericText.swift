import Foundation
import Primitives

/// A `numeric` in PostgreSQL's binary format read as a `Decimal`, with the result `Decimal(exactText:)` gives for
/// the text `numeric_out` sends for it.
///
/// The binary form is base-10000 digits with a weight and a display scale. A value of up to 18 significant digits
/// (every weight and percentage) is built from its digits at once; any other is spelled as `numeric_out` does
/// (the integer part without leading zeros, exactly `dscale` fraction digits) and read by `Decimal(exactText:)`.
enum NumericText {
    /// `numeric`'s sign word: positive, negative, and the special values that have no `Decimal`.
    private static let positive: UInt16 = 0x0000
    private static let negative: UInt16 = 0x4000

    /// The fixed part of the binary form, checked: digit count, weight of the first digit, sign and display scale.
    private struct Header {
        let binary: UnsafeRawBufferPointer
        let count: Int
        let weight: Int
        let isNegative: Bool
        let scale: Int

        /// Nil when the length does not match the count, or the sign is NaN, an infinity or unknown.
        init?(_ binary: UnsafeRawBufferPointer) {
            guard binary.count >= 8 else { return nil }
            self.binary = binary
            count = Int(binary.bigEndian(Int16.self, at: 0))
            weight = Int(binary.bigEndian(Int16.self, at: 2))
            let sign = binary.bigEndian(UInt16.self, at: 4)
            scale = Int(binary.bigEndian(UInt16.self, at: 6))
            guard count >= 0, binary.count == 8 + 2 * count, sign == positive || sign == negative, scale <= 0x3FFF
            else { return nil }
            isNegative = sign == negative
        }

        /// The base-10000 digit at `index` (0 outside the stored ones); nil when it is out of range.
        func digit(_ index: Int) -> Int? {
            guard index >= 0, index < count else { return 0 }
            let value = Int(binary.bigEndian(Int16.self, at: 8 + 2 * index))
            return (0..<10_000).contains(value) ? value : nil
        }
    }

    /// The exact value of the `numeric` in `binary`; nil when the bytes are malformed, the value is NaN or an
    /// infinity, or `Decimal` cannot hold it.
    static func decimal(_ binary: UnsafeRawBufferPointer) -> Decimal? {
        guard let header = Header(binary) else { return nil }
        guard header.count <= 5 else { return withPlainText(binary) { Decimal(exactText: $0) } ?? nil }
        // As `Decimal(exactText:)` reads digits: leading zeros skipped, trailing zeros moved into the exponent.
        var significand: UInt64 = 0
        var significantDigits = 0
        var pendingZeros = 0
        var lastExponent = 0
        for index in 0..<header.count {
            guard let group = header.digit(index) else { return nil }
            var divisor = 1000
            var exponent = 4 * (header.weight - index) + 3
            while divisor > 0 {
                let digit = UInt64(group / divisor % 10)
                if digit == 0 {
                    if significantDigits > 0 { pendingZeros += 1 }
                } else {
                    significantDigits += pendingZeros + 1
                    for _ in 0..<pendingZeros { significand &*= 10 }
                    significand = significand &* 10 &+ digit
                    pendingZeros = 0
                    lastExponent = exponent
                }
                divisor /= 10
                exponent -= 1
            }
        }
        if significantDigits == 0 { return 0 }
        guard significantDigits <= 18, (-128...127).contains(lastExponent) else {
            return withPlainText(binary) { Decimal(exactText: $0) } ?? nil
        }
        return Decimal(
            sign: header.isNegative ? .minus : .plus, exponent: lastExponent, significand: Decimal(significand))
    }

    /// Calls `body` with the text of the `numeric` in `binary`; nil when the bytes are malformed or the value is
    /// NaN or an infinity.
    static func withPlainText<R>(_ binary: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        guard let header = Header(binary) else { return nil }
        let weight = header.weight, scale = header.scale
        let digit = header.digit
        let capacity = 1 + 4 * max(weight + 1, 1) + 1 + scale + 3
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { text -> R? in
            var length = 0
            func put(_ byte: UInt8) {
                text[length] = byte
                length += 1
            }
            if header.isNegative { put(UInt8(ascii: "-")) }
            if weight < 0 {
                put(UInt8(ascii: "0"))
            } else {
                for index in 0...weight {
                    guard let group = digit(index) else { return nil }
                    var divisor = 1000
                    var started = index > 0
                    while divisor > 0 {
                        let d = group / divisor % 10
                        started = started || d > 0 || divisor == 1
                        if started { put(UInt8(ascii: "0") + UInt8(d)) }
                        divisor /= 10
                    }
                }
            }
            if scale > 0 {
                put(UInt8(ascii: "."))
                var written = 0
                var index = weight + 1
                while written < scale {
                    guard let group = digit(index) else { return nil }
                    var divisor = 1000
                    while divisor > 0, written < scale {
                        put(UInt8(ascii: "0") + UInt8(group / divisor % 10))
                        written += 1
                        divisor /= 10
                    }
                    index += 1
                }
            }
            return body(UnsafeRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(text)[..<length]))
        }
    }
}
