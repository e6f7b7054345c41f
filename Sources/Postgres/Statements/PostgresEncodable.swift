import Foundation
import Primitives

/// A Swift value that can be bound as a statement parameter.
///
/// Values travel in PostgreSQL's text format (exact for `numeric`, independent of server byte order),
/// except `bytea`, which is sent as raw bytes.
public protocol PostgresEncodable: Sendable {
    /// The parameter's type, sent with the statement so the server never guesses.
    static var postgresType: PostgresType { get }
    /// Whether `postgresBytes` is PostgreSQL's binary format rather than its text format.
    static var postgresBinaryFormat: Bool { get }
    /// The encoded value, or nil for NULL.
    var postgresBytes: [UInt8]? { get }
}

extension PostgresEncodable {
    public static var postgresBinaryFormat: Bool { false }
}

extension String: PostgresEncodable {
    public static var postgresType: PostgresType { .text }
    public var postgresBytes: [UInt8]? { Array(utf8) }
}

extension Int: PostgresEncodable {
    public static var postgresType: PostgresType { .int8 }
    public var postgresBytes: [UInt8]? { Array(String(self).utf8) }
}

extension Int64: PostgresEncodable {
    public static var postgresType: PostgresType { .int8 }
    public var postgresBytes: [UInt8]? { Array(String(self).utf8) }
}

extension Int32: PostgresEncodable {
    public static var postgresType: PostgresType { .int4 }
    public var postgresBytes: [UInt8]? { Array(String(self).utf8) }
}

extension Bool: PostgresEncodable {
    public static var postgresType: PostgresType { .bool }
    public var postgresBytes: [UInt8]? { self ? [UInt8(ascii: "t")] : [UInt8(ascii: "f")] }
}

extension Double: PostgresEncodable {
    public static var postgresType: PostgresType { .float8 }
    public var postgresBytes: [UInt8]? {
        if isNaN { return Array("NaN".utf8) }
        if isInfinite { return Array((self < 0 ? "-Infinity" : "Infinity").utf8) }
        return Array("\(self)".utf8)  // shortest representation that reads back exactly
    }
}

extension Decimal: PostgresEncodable {
    public static var postgresType: PostgresType { .numeric }
    public var postgresBytes: [UInt8]? {
        // Plain positional notation, which numeric reads back exactly.
        Array(plainText.utf8)
    }
}

extension UUID: PostgresEncodable {
    public static var postgresType: PostgresType { .uuid }
    public var postgresBytes: [UInt8]? { Array(lowercasedString.utf8) }
}

extension CalendarDate: PostgresEncodable {
    public static var postgresType: PostgresType { .date }
    public var postgresBytes: [UInt8]? { Array(description.utf8) }
}

extension Date: PostgresEncodable {
    public static var postgresType: PostgresType { .timestamptz }
    /// ISO 8601 in UTC with microseconds, PostgreSQL's own precision.
    public var postgresBytes: [UInt8]? { Array(TimestampText.format(self).utf8) }
}

extension Array: PostgresEncodable where Element == UInt8 {
    public static var postgresType: PostgresType { .bytea }
    public static var postgresBinaryFormat: Bool { true }
    public var postgresBytes: [UInt8]? { self }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public static var postgresType: PostgresType { Wrapped.postgresType }
    public static var postgresBinaryFormat: Bool { Wrapped.postgresBinaryFormat }
    public var postgresBytes: [UInt8]? { self?.postgresBytes }
}
