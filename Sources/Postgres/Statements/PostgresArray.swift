import Foundation

/// A value that can be an element of a `PostgresArray`: its binary form and the type of arrays of it.
public protocol PostgresArrayElement: Sendable {
    /// The array type (`uuid[]` for `uuid`).
    static var postgresArrayType: PostgresType { get }
    /// The element type, written into the array's header.
    static var postgresElementType: PostgresType { get }
    /// The value in PostgreSQL's binary format for its type.
    var postgresBinaryBytes: [UInt8] { get }
}

/// A one-dimensional array bound as one parameter (`uuid[]`, `bytea[]`), in PostgreSQL's binary array format.
///
/// Lets one statement take many values without packing them into a string or a byte string for the statement to
/// take apart: `unnest(\(PostgresArray(ids)), \(PostgresArray(hashes)))` joins them as rows.
public struct PostgresArray<Element: PostgresArrayElement>: PostgresEncodable {
    public let elements: [Element]

    public init(_ elements: [Element]) {
        self.elements = elements
    }

    public static var postgresType: PostgresType { Element.postgresArrayType }
    public static var postgresBinaryFormat: Bool { true }

    /// `array_recv`'s layout, big-endian: dimensions, a has-nulls flag, the element type, each dimension's length
    /// and lower bound, then each element as its length and bytes. An empty array has no dimension.
    public var postgresBytes: [UInt8]? {
        var bytes: [UInt8] = []
        func append(_ value: Int32) { withUnsafeBytes(of: value.bigEndian) { bytes += $0 } }
        append(elements.isEmpty ? 0 : 1)
        append(0)
        append(Int32(bitPattern: Element.postgresElementType.rawValue))
        if !elements.isEmpty {
            append(Int32(elements.count))
            append(1)
        }
        for element in elements {
            let value = element.postgresBinaryBytes
            append(Int32(value.count))
            bytes += value
        }
        return bytes
    }
}

extension UUID: PostgresArrayElement {
    public static var postgresArrayType: PostgresType { .uuidArray }
    public static var postgresElementType: PostgresType { .uuid }
    public var postgresBinaryBytes: [UInt8] { withUnsafeBytes(of: uuid) { Array($0) } }
}

extension Array: PostgresArrayElement where Element == UInt8 {
    public static var postgresArrayType: PostgresType { .byteaArray }
    public static var postgresElementType: PostgresType { .bytea }
    public var postgresBinaryBytes: [UInt8] { self }
}
