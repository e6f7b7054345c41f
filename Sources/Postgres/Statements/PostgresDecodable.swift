import Foundation
import Primitives

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
    /// point); NaN is refused.
    public static func decode(text: UnsafeRawBufferPointer, type: PostgresType) -> Decimal? {
        Decimal(exactText: text)
    }
}

extension UUID: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { type == .uuid }
    /// Reads the server's `8-4-4-4-12` hex form straight from the bytes.
    public static func decode(text: UnsafeRawBufferPointer, type: PostgresType) -> UUID? {
        UUID(canonical: text)
    }
}

extension CalendarDate: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { type == .date }
    public static func decode(text: UnsafeRawBufferPointer, type: PostgresType) -> CalendarDate? {
        CalendarDate(iso: text)
    }
}

extension Date: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { type == .timestamptz || type == .timestamp }
    /// `timestamptz` at any offset; `timestamp` (without zone) is read as UTC.
    public static func decode(text: UnsafeRawBufferPointer, type: PostgresType) -> Date? {
        TimestampText.parse(text, offsetRequired: type == .timestamptz).map(TimestampText.date(microseconds:))
    }
}

extension Array: PostgresDecodable where Element == UInt8 {
    public static func accepts(_ type: PostgresType) -> Bool { type == .bytea }
    /// Reads the hex output format (`\x0a1b`), PostgreSQL's default `bytea_output`.
    public static func decode(text: UnsafeRawBufferPointer, type: PostgresType) -> [UInt8]? {
        guard text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x") else { return nil }
        return Hex.decode(UnsafeRawBufferPointer(rebasing: text[2...]))
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { Wrapped.accepts(type) }
    public static func decode(text: UnsafeRawBufferPointer, type: PostgresType) -> Wrapped?? {
        Wrapped.decode(text: text, type: type).map { .some($0) }
    }
    public static func decodeNull() throws(PostgresError) -> Wrapped? { nil }
}
