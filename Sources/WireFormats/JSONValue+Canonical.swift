extension JSONValue {
    /// A canonical encoding for "equal as parsed JSON" comparisons, e.g. detecting a replayed idempotent request.
    ///
    /// Object members are sorted by key in Unicode scalar order (members with equal keys keep source order),
    /// no whitespace is written, numbers are written as their exact value in plain notation so that `70`, `70.0`
    /// and `7e1` encode identically (numbers `Decimal` cannot hold keep their source text), and strings are escaped
    /// as by ``JSONWriter``.
    public var canonicalBytes: [UInt8] {
        var writer = JSONWriter()
        writer.writeCanonical(self)
        return writer.bytes
    }
}

extension JSONWriter {
    fileprivate mutating func writeCanonical(_ value: JSONValue) {
        switch value {
        case .null, .bool, .string:
            write(value)
        case .number(let number):
            rawNumber(number.canonicalText)
        case .array(let elements):
            beginArray()
            for element in elements {
                writeCanonical(element)
            }
            endArray()
        case .object(let object):
            let members = object.members
            // UTF-8 byte order equals Unicode scalar order; the index tie-break keeps the sort stable.
            let order = members.indices.sorted { left, right in
                let leftKey = members[left].key.utf8
                let rightKey = members[right].key.utf8
                if leftKey.elementsEqual(rightKey) {
                    return left < right
                }
                return leftKey.lexicographicallyPrecedes(rightKey)
            }
            beginObject()
            for position in order {
                key(escaping: members[position].key)
                writeCanonical(members[position].value)
            }
            endObject()
        }
    }
}
