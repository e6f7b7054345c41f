/// A JSON object whose members stay in source order, duplicates included.
///
/// RFC 8259 leaves duplicate names to the application, so nothing is dropped here:
/// ``subscript(_:)`` returns the first match and ``keys`` shows every name, so the caller can reject duplicates.
/// Keys compare with Swift `String` equality.
public struct JSONObject: Sendable, Equatable {
    /// One name/value pair.
    public typealias Member = (key: String, value: JSONValue)

    /// All members in source order.
    public var members: [Member]

    /// Creates an object from members in the given order.
    public init(_ members: [Member] = []) {
        self.members = members
    }

    /// The value of the first member named `key`, or nil when there is none.
    public subscript(key: String) -> JSONValue? {
        members.first { $0.key == key }?.value
    }

    /// Member names in source order, duplicates included.
    public var keys: [String] {
        members.map(\.key)
    }

    /// Number of members, duplicates included.
    public var count: Int {
        members.count
    }

    /// True when the object has no members.
    public var isEmpty: Bool {
        members.isEmpty
    }

    /// Member-wise equality: same names and values in the same order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.elementsEqual(rhs.members) { $0.key == $1.key && $0.value == $1.value }
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// Creates an object from a literal, keeping its order and any repeated keys.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements.map { (key: $0.0, value: $0.1) })
    }
}
