import Foundation

/// A Swift type that can be read from a result column in PostgreSQL's text format.
///
/// Each type names the column types it accepts, so reading a `text` column as `Int` fails with an error naming
/// the column rather than producing a wrong value.
public protocol PostgresDecodable {
    /// Whether a column of this type can be read as `Self`.
    static func accepts(_ type: PostgresType) -> Bool
    /// Reads a non-NULL value from its text form (bytea arrives in hex form `\x...`). Returns nil when the text
    /// is not a valid value of `Self`.
    static func decode(text: UnsafeRawBufferPointer, type: PostgresType) -> Self?
    /// The value for SQL NULL; non-optional types throw.
    static func decodeNull() throws(PostgresError) -> Self
}

extension PostgresDecodable {
    public static func decodeNull() throws(PostgresError) -> Self {
        throw PostgresError(code: .decodingFailed, message: "unexpected NULL for non-optional \(Self.self)")
    }
}

extension String: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool {
        [.text, .varchar, .bpchar, .name, .unknown, .json, .jsonb].contains(type)
    }

    public static func decode(text: UnsafeRawBufferPointer, type: PostgresType) -> String? {
        String(decoding: text, as: UTF8.self)
    }
}

/// Parses an optionally signed decimal integer from ASCII bytes, with overflow checks.
private func parseInteger<T: FixedWidthInteger & SignedInteger>(_ text: UnsafeRawBufferPointer) -> T? {
    var i = 0
    var negative = false
    if i < text.count, text[i] == UInt8(ascii: "-") || text[i] == UInt8(ascii: "+") {
        negative = text[i] == UInt8(ascii: "-")
        i += 1
    }
    guard i < text.count else { return nil }
    var value: T = 0
    while i < text.count {
        let d = text[i] &- UInt8(ascii: "0")
        guard d < 10 else { return nil }
        let (m, o1) = value.multipliedReportingOverflow(by: 10)
        let (a, o2) = negative ? m.subtractingReportingOverflow(T(d)) : m.addingReportingOverflow(T(d))
        guard !o1, !o2 else { return nil }
        value = a
        i += 1
    }
    return value
}

extension Int: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { [.int2, .int4, .int8, .oid].contains(type) }
    public static func decode(text: UnsafeRawBufferPointer, type: PostgresType) -> Int? { parseInteger(text) }
}

extension Int64: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { [.int2, .int4, .int8, .oid].contains(type) }
    public static func decode(text: UnsafeRawBufferPointer, type: PostgresType) -> Int64? { parseInteger(text) }
}

extension Int32: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { [.int2, .int4].contains(type) }
    public static func decode(text: UnsafeRawBufferPointer, type: PostgresType) -> Int32? { parseInteger(text) }
}

extension Bool: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { type == .bool }
    public static func decode(text: UnsafeRawBufferPointer, type: PostgresType) -> Bool? {
        guard text.count == 1 else { return nil }
        switch text[0] {
        case UInt8(ascii: "t"): return true
        case UInt8(ascii: "f"): return false
        default: return nil
        }
    }
}

extension Double: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { [.float4, .float8].contains(type) }
    public static func decode(text: UnsafeRawBufferPointer, type: PostgresType) -> Double? {
        Double(String(decoding: text, as: UTF8.self))
    }
}

extension Decimal: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { [.numeric, .int2, .int4, .int8].contains(type) }

    /// Exact: `numeric` text is plain positional notation, read digit by digit (never through binary floating
    /// point); up to 19 significant digits without allocating, longer values through Foundation's parser.
    public static func decode(text: UnsafeRawBufferPointer, type: PostgresType) -> Decimal? {
        var index = 0
        var negative = false
        if index < text.count, text[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        var significand: UInt64 = 0
        var digits = 0
        var fractionDigits = 0
        var pendingZeros = 0
        var seenPoint = false
        var seenDigit = false
        while index < text.count {
            let byte = text[index]
            index += 1
            if byte == UInt8(ascii: ".") , !seenPoint {
                seenPoint = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            seenDigit = true
            if seenPoint { fractionDigits += 1 }
            // Zeros are held back: trailing zeros of the fraction never need to enter the significand.
            if byte == UInt8(ascii: "0"), seenPoint {
                pendingZeros += 1
                continue
            }
            for _ in 0..<pendingZeros {
                significand *= 10
                if significand != 0 { digits += 1 }
            }
            pendingZeros = 0
            significand = significand * 10 + UInt64(byte - UInt8(ascii: "0"))
            if significand != 0 { digits += 1 }
            if digits > 18 { return slowDecode(text) }
        }
        guard seenDigit else { return nil }
        let exponent = -(fractionDigits - pendingZeros)
        return Decimal(sign: negative ? .minus : .plus, exponent: exponent, significand: Decimal(significand))
    }

    private static let posix = Locale(identifier: "en_US_POSIX")

    private static func slowDecode(_ text: UnsafeRawBufferPointer) -> Decimal? {
        let string = String(decoding: text, as: UTF8.self)
        guard string != "NaN" else { return nil }
        return Decimal(string: string, locale: posix)
    }
}

extension UUID: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { type == .uuid }
    /// Reads the server's `8-4-4-4-12` hex form straight from the bytes.
    public static func decode(text: UnsafeRawBufferPointer, type: PostgresType) -> UUID? {
        guard text.count == 36 else { return nil }
        var bytes = (UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0),
                     UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0))
        let valid = withUnsafeMutableBytes(of: &bytes) { out -> Bool in
            var position = 0
            for index in 0..<16 {
                if position == 8 || position == 13 || position == 18 || position == 23 {
                    guard text[position] == UInt8(ascii: "-") else { return false }
                    position += 1
                }
                guard let high = hexValue(text[position]), let low = hexValue(text[position + 1]) else { return false }
                out[index] = high << 4 | low
                position += 2
            }
            return true
        }
        return valid ? UUID(uuid: bytes) : nil
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension CalendarDate: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { type == .date }
    public static func decode(text: UnsafeRawBufferPointer, type: PostgresType) -> CalendarDate? {
        CalendarDate(iso: String(decoding: text, as: UTF8.self))
    }
}

extension Date: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { type == .timestamptz || type == .timestamp }
    /// `timestamptz` at any offset; `timestamp` (without zone) is read as UTC.
    public static func decode(text: UnsafeRawBufferPointer, type: PostgresType) -> Date? {
        PostgresTimestamp.parse(text, offsetRequired: type == .timestamptz).map(PostgresTimestamp.date(microseconds:))
    }
}

extension Array: PostgresDecodable where Element == UInt8 {
    public static func accepts(_ type: PostgresType) -> Bool { type == .bytea }
    /// Reads the hex output format (`\x0a1b`), PostgreSQL's default `bytea_output`.
    public static func decode(text: UnsafeRawBufferPointer, type: PostgresType) -> [UInt8]? {
        guard text.count >= 2, text.count % 2 == 0, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x") else {
            return nil
        }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(text.count / 2 - 1)
        var i = 2
        while i < text.count {
            guard let hi = nibble(text[i]), let lo = nibble(text[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { Wrapped.accepts(type) }
    public static func decode(text: UnsafeRawBufferPointer, type: PostgresType) -> Wrapped?? {
        Wrapped.decode(text: text, type: type).map { .some($0) }
    }
    public static func decodeNull() throws(PostgresError) -> Wrapped? { nil }
}
