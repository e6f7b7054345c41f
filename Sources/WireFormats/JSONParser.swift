/// Strict RFC 8259 JSON parser for untrusted request bodies.
///
/// It accepts exactly the JSON grammar (any top-level value, no BOM, no comments, valid UTF-8 only)
/// and enforces ``JSONLimits``. Nesting is handled with an explicit stack, so deep input cannot exhaust the call stack.
public struct JSONParser: Sendable {
    /// Parses one complete JSON text, optionally surrounded by whitespace.
    public static func parse(
        _ bytes: some Sequence<UInt8>,
        limits: JSONLimits = .init()
    ) throws(JSONParseError) -> JSONValue {
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONParseError) in try parse(buffer: buffer, limits: limits) }
        }
        if let contiguous {
            return try contiguous.get()
        }
        return try Array(bytes).withUnsafeBufferPointer { buffer in
            Result { () throws(JSONParseError) in try parse(buffer: buffer, limits: limits) }
        }.get()
    }

    /// Parses one complete JSON text from raw memory, e.g. a request body buffer, without copying it first.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer,
        limits: JSONLimits = .init()
    ) throws(JSONParseError) -> JSONValue {
        try bytes.withMemoryRebound(to: UInt8.self) { buffer in
            Result { () throws(JSONParseError) in try parse(buffer: buffer, limits: limits) }
        }.get()
    }

    private static func parse(buffer: UnsafeBufferPointer<UInt8>, limits: JSONLimits) throws(JSONParseError) -> JSONValue {
        var state = JSONParserState(bytes: buffer, limits: limits)
        return try state.parseDocument()
    }
}
