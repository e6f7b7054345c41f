import Foundation

/// Where a reader of number text stands.
private enum NumberTextPart { case sign, integer, fraction, exponentSign, exponent }

/// The one exact conversion between decimal text and `Decimal`, both ways, for every layer (database values,
/// JSON numbers, CSV fields, bound parameters).
///
/// Weights must never pass through binary floating point, and Foundation's own conversions are slow (its
/// `description` goes through string replacement, its parser through locale settings): these work digit by digit,
/// and fall back to Foundation only beyond 18 significant digits.
extension Decimal {
    /// Reads `-?digits[.digits][(e|E)[+-]digits]` exactly; nil for any other text, for more than 38 significant
    /// digits, or for an exponent outside `Decimal`'s range.
    ///
    /// A leading `+`, a bare `.5` or `5.` are refused: every caller's grammar (PostgreSQL's `numeric` output, JSON,
    /// the API's CSV) writes digits on both sides of the point.
    ///
    /// It reads the text's memory: as a generic over any collection, called from another module, it ran unspecialized
    /// (about 150 instructions per character for every weight a listing decodes). `init(exactText:)` for other
    /// collections reads their bytes in place when they are contiguous.
    public init?(exactText text: UnsafeRawBufferPointer) {
        var negative = false
        var significand: UInt64 = 0
        var significantDigits = 0
        var pendingZeros = 0
        var fractionDigits = 0
        var exponent = 0
        var exponentNegative = false
        var part = NumberTextPart.sign
        var digitsInPart = 0
        var overflow = false
        for byte in text {
            switch (part, byte) {
            case (.sign, UInt8(ascii: "-")):
                negative = true
                part = .integer
            case (.sign, UInt8(ascii: "0")...UInt8(ascii: "9")), (.integer, UInt8(ascii: "0")...UInt8(ascii: "9")),
                (.fraction, UInt8(ascii: "0")...UInt8(ascii: "9")):
                if part == .sign { part = .integer }
                if part == .fraction { fractionDigits += 1 }
                digitsInPart += 1
                let digit = byte &- UInt8(ascii: "0")
                // Zeros are held back until a non-zero digit follows: trailing zeros never enter the significand.
                if digit == 0 {
                    if significantDigits > 0 { pendingZeros += 1 }
                    continue
                }
                significantDigits += pendingZeros + 1
                if significantDigits > 19 {
                    overflow = true
                } else {
                    for _ in 0..<pendingZeros { significand = significand &* 10 }
                    significand = significand &* 10 &+ UInt64(digit)
                }
                pendingZeros = 0
            case (.integer, UInt8(ascii: ".")) where digitsInPart > 0:
                part = .fraction
                digitsInPart = 0
            case (.integer, UInt8(ascii: "e")), (.integer, UInt8(ascii: "E")),
                (.fraction, UInt8(ascii: "e")), (.fraction, UInt8(ascii: "E")):
                guard digitsInPart > 0 else { return nil }
                part = .exponentSign
                digitsInPart = 0
            case (.exponentSign, UInt8(ascii: "-")), (.exponentSign, UInt8(ascii: "+")):
                exponentNegative = byte == UInt8(ascii: "-")
                part = .exponent
            case (.exponentSign, UInt8(ascii: "0")...UInt8(ascii: "9")), (.exponent, UInt8(ascii: "0")...UInt8(ascii: "9")):
                part = .exponent
                digitsInPart += 1
                // A huge exponent is out of range for any non-zero value; zero stays zero.
                if exponent < 1_000_000 { exponent = exponent * 10 + Int(byte &- UInt8(ascii: "0")) }
            default:
                return nil
            }
        }
        guard digitsInPart > 0, part != .sign, part != .exponentSign else { return nil }
        if exponentNegative { exponent = -exponent }
        if significantDigits == 0 {
            self = 0
            return
        }
        guard significantDigits <= 38 else { return nil }
        // Zeros after the last non-zero digit scale the value up; fraction digits scale it down.
        let scale = exponent + pendingZeros - fractionDigits
        let wide = overflow || significantDigits > 18
        if scale > 127 {
            // Beyond Decimal's exponent range: the excess zeros go into the significand while 38 digits allow
            // (Foundation keeps them there; multiplying would move them back into the exponent).
            guard significantDigits + (scale - 127) <= 38 else { return nil }
            let digits = wide ? Self.significantDigits(of: text) : String(significand)
            let padded = (negative ? "-" : "") + digits + String(repeating: "0", count: scale - 127) + "E127"
            guard let value = Decimal(string: padded, locale: Self.posix) else { return nil }
            self = value
            return
        }
        let magnitude: Decimal
        if wide {
            // Rare: more digits than a UInt64 holds; Foundation's parser is exact to 38 digits without an exponent.
            guard let parsed = Decimal(string: Self.significantDigits(of: text), locale: Self.posix) else { return nil }
            magnitude = parsed
        } else {
            magnitude = Decimal(significand)
        }
        guard scale >= -128 else { return nil }
        self = Decimal(sign: negative ? .minus : .plus, exponent: scale, significand: magnitude)
    }

    private static let posix = Locale(identifier: "en_US_POSIX")

    /// `init(exactText:)` for any text (a `String`'s UTF-8 view, an array), read in place when it is contiguous.
    @inlinable
    public init?(exactText text: some Collection<UInt8>) {
        let parsed = text.withContiguousStorageIfAvailable { Decimal(exactText: UnsafeRawBufferPointer($0)) }
            ?? Array(text).withUnsafeBytes { Decimal(exactText: $0) }
        guard let parsed else { return nil }
        self = parsed
    }

    /// The significant digits of already validated number text: no sign, point, exponent, leading or trailing
    /// zeros.
    private static func significantDigits(of text: UnsafeRawBufferPointer) -> String {
        var digits: [UInt8] = []
        for byte in text {
            if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") { break }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { continue }
            if digits.isEmpty, byte == UInt8(ascii: "0") { continue }
            digits.append(byte)
        }
        while digits.last == UInt8(ascii: "0") { digits.removeLast() }
        return String(decoding: digits, as: UTF8.self)
    }

    /// The value in plain positional notation, exactly as `description` writes it (`72.35`, `-0.5`, `1200`; NaN
    /// is `NaN`).
    public var plainText: String {
        var text = ""
        withPlainTextUTF8 { text = String(decoding: $0, as: UTF8.self) }
        return text
    }

    /// Calls `body` with `plainText`'s UTF-8 bytes: for writers that append them to their own output without a
    /// `String` in between (a listing writes 30 weights per page).
    ///
    /// `description` goes through Foundation's string replacement and costs about 0.8 µs, so this takes the
    /// significand as an integer and writes its digits, the point and the sign from the end of a buffer on the
    /// stack (a `String` built and then inserted into cost a listed entry 1,300 instructions more), and falls back
    /// to `description` beyond 18 significant digits. (Not generic: called from another module, a generic one runs
    /// unspecialized.)
    public func withPlainTextUTF8(_ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        let exponent = self.exponent
        // The significand is a non-negative integer; below 10^18 (checked through its double, which rounds
        // monotonically and holds 10^18 exactly) it fits a UInt64. (Decimal's own `<` costs 150 ns.)
        let significand = isNaN || isZero ? nil : NSDecimalNumber(decimal: self.significand)
        guard let significand, exponent > -40, exponent < 40, significand.doubleValue < 1e18 else {
            var text = description
            return text.withUTF8(body)
        }
        let negative = sign == .minus
        // At most a sign, 18 digits and 39 zeros, or 39 fraction digits, a point, one integer digit and a sign.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buffer in
            var start = buffer.count
            var rest = significand.uint64Value
            func put(_ byte: UInt8) {
                start -= 1
                buffer[start] = byte
            }
            func putDigit() {
                put(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10))
                rest /= 10
            }
            if exponent >= 0 {
                for _ in 0..<exponent { put(UInt8(ascii: "0")) }
            } else {
                for _ in 0 ..< -exponent { putDigit() }
                put(UInt8(ascii: "."))
            }
            repeat { putDigit() } while rest > 0
            if negative { put(UInt8(ascii: "-")) }
            body(UnsafeBufferPointer(rebasing: buffer[start...]))
        }
    }
}
