import Foundation
import Primitives

/// A Swift type that can be read from a result column in PostgreSQL's binary format.
///
/// Every statement asks for binary results: a `uuid` arrives as its 16 bytes and a `timestamptz` as one integer, so
/// neither side formats or parses text for them. Each type names the column types it accepts, so reading a `text`
/// column as `Int` fails with an error naming the column rather than producing a wrong value.
public protocol PostgresDecodable {
    /// Whether a column of this type can be read as `Self`.
    static func accepts(_ type: PostgresType) -> Bool
    /// Reads a non-NULL value from the binary form of `type` (its `typsend` output). Returns nil when the bytes
    /// are not a valid value of `Self`.
    static func decode(binary: UnsafeRawBufferPointer, type: PostgresType) -> Self?
    /// The value for SQL NULL; non-optional types throw.
    static func decodeNull() throws(PostgresError) -> Self
}

extension PostgresDecodable {
    public static func decodeNull() throws(PostgresError) -> Self {
        throw PostgresError(code: .decodingFailed, message: "unexpected NULL for non-optional \(Self.self)")
    }
}

extension UnsafeRawBufferPointer {
    /// An `int2`, `int4` or `int8` value (or an `oid`, unsigned), by its column type and length.
    @inlinable func binaryInteger(_ type: PostgresType) -> Int64? {
        switch (type, count) {
        case (.int2, 2): Int64(bigEndian(Int16.self))
        case (.int4, 4): Int64(bigEndian(Int32.self))
        case (.int8, 8): bigEndian(Int64.self)
        case (.oid, 4): Int64(bigEndian(UInt32.self))
        default: nil
        }
    }
}

extension String: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool {
        [.text, .varchar, .bpchar, .name, .unknown, .json, .jsonb].contains(type)
    }

    /// The text itself; `jsonb` puts a format version (1) before it.
    public static func decode(binary: UnsafeRawBufferPointer, type: PostgresType) -> String? {
        guard type == .jsonb else { return String(decoding: binary, as: UTF8.self) }
        guard binary.first == 1 else { return nil }
        return String(decoding: UnsafeRawBufferPointer(rebasing: binary[1...]), as: UTF8.self)
    }
}

extension Int: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { [.int2, .int4, .int8, .oid].contains(type) }
    public static func decode(binary: UnsafeRawBufferPointer, type: PostgresType) -> Int? {
        binary.binaryInteger(type).map { Int($0) }
    }
}

extension Int64: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { [.int2, .int4, .int8, .oid].contains(type) }
    public static func decode(binary: UnsafeRawBufferPointer, type: PostgresType) -> Int64? {
        binary.binaryInteger(type)
    }
}

extension Int32: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { [.int2, .int4].contains(type) }
    public static func decode(binary: UnsafeRawBufferPointer, type: PostgresType) -> Int32? {
        binary.binaryInteger(type).map { Int32($0) }
    }
}

extension Bool: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { type == .bool }
    public static func decode(binary: UnsafeRawBufferPointer, type: PostgresType) -> Bool? {
        guard binary.count == 1, binary[0] <= 1 else { return nil }
        return binary[0] == 1
    }
}

extension Double: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { [.float4, .float8].contains(type) }
    /// IEEE 754 bits, big-endian: exact, with no text in between.
    public static func decode(binary: UnsafeRawBufferPointer, type: PostgresType) -> Double? {
        switch (type, binary.count) {
        case (.float4, 4): Double(Float(bitPattern: binary.bigEndian(UInt32.self)))
        case (.float8, 8): Double(bitPattern: binary.bigEndian(UInt64.self))
        default: nil
        }
    }
}

extension Decimal: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { [.numeric, .int2, .int4, .int8].contains(type) }

    /// Exact: a `numeric` is read from its decimal digits (`NumericText`), never through binary floating point;
    /// NaN and infinities are refused.
    public static func decode(binary: UnsafeRawBufferPointer, type: PostgresType) -> Decimal? {
        guard type == .numeric else { return binary.binaryInteger(type).map { Decimal($0) } }
        return NumericText.decimal(binary)
    }
}

extension UUID: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { type == .uuid }
    /// The 16 bytes in order.
    public static func decode(binary: UnsafeRawBufferPointer, type: PostgresType) -> UUID? {
        guard binary.count == 16 else { return nil }
        return UUID(uuid: binary.loadUnaligned(as: uuid_t.self))
    }
}

/// PostgreSQL's own epoch for `date` and `timestamp`, 2000-01-01, from the Unix epoch.
enum PostgresEpoch {
    static let days = 10_957
    static let microseconds: Int64 = 946_684_800_000_000
}

extension CalendarDate: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { type == .date }
    /// Days since 2000-01-01 as an `int4`; `infinity` and `-infinity` (its extremes) are refused.
    public static func decode(binary: UnsafeRawBufferPointer, type: PostgresType) -> CalendarDate? {
        guard binary.count == 4 else { return nil }
        let days = binary.bigEndian(Int32.self)
        guard days != .max, days != .min else { return nil }
        return CalendarDate(daysSinceEpoch: Int(days) + PostgresEpoch.days)
    }
}

extension Date: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { type == .timestamptz || type == .timestamp }
    /// Microseconds since 2000-01-01 as an `int8`: the instant for `timestamptz` whatever the session's time zone,
    /// and `timestamp` (without zone) read as UTC. `infinity` and `-infinity` are refused.
    public static func decode(binary: UnsafeRawBufferPointer, type: PostgresType) -> Date? {
        guard binary.count == 8 else { return nil }
        let micros = binary.bigEndian(Int64.self)
        guard micros != .max, micros != .min else { return nil }
        let (unix, overflow) = micros.addingReportingOverflow(PostgresEpoch.microseconds)
        return overflow ? nil : TimestampText.date(microseconds: unix)
    }
}

extension Array: PostgresDecodable where Element == UInt8 {
    public static func accepts(_ type: PostgresType) -> Bool { type == .bytea }
    /// The bytes themselves.
    public static func decode(binary: UnsafeRawBufferPointer, type: PostgresType) -> [UInt8]? {
        Array(binary)
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func accepts(_ type: PostgresType) -> Bool { Wrapped.accepts(type) }
    public static func decode(binary: UnsafeRawBufferPointer, type: PostgresType) -> Wrapped?? {
        Wrapped.decode(binary: binary, type: type).map { .some($0) }
    }
    public static func decodeNull() throws(PostgresError) -> Wrapped? { nil }
}
