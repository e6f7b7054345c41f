/// The parser's working state over one input buffer: position, container stack and scratch space.
///
/// Containers are tracked on explicit stacks (`frames`, `values`, `keys`) rather than by recursion;
/// a container's elements are copied out of `values` once, when it closes.
struct JSONParserState {
    /// An open array or object.
    struct Frame {
        var isObject: Bool
        /// Index in `values` of the container's first element.
        var valueStart: Int
    }

    let bytes: UnsafeBufferPointer<UInt8>
    let limits: JSONLimits
    var index = 0
    var frames: [Frame] = []
    /// Completed elements of all open containers, innermost last.
    var values: [JSONValue] = []
    /// Member names of all open objects, in the order of their values in `values`; a name is pushed before its value.
    var keys: [String] = []
    /// Reused buffer for strings that contain escapes.
    var scratch: [UInt8] = []

    init(bytes: UnsafeBufferPointer<UInt8>, limits: JSONLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// Parses the whole input as one JSON text.
    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            throw malformed("a byte order mark is not allowed", at: 0)
        }
        skipWhitespace()
        if index == bytes.count {
            throw malformed(bytes.isEmpty ? "empty input" : "no value, only whitespace", at: index)
        }
        parsing: while true {
            guard var value = try openValue() else { continue }
            while let frame = frames.last {
                guard values.count - frame.valueStart < limits.maxMembers else {
                    throw limitExceeded("more than \(limits.maxMembers) elements in one array or object", at: index)
                }
                values.append(value)
                skipWhitespace()
                let close = frame.isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                switch peek() {
                case UInt8(ascii: ","):
                    index += 1
                    skipWhitespace()
                    if frame.isObject {
                        try parseMemberName()
                    }
                    continue parsing
                case close:
                    index += 1
                    value = closeContainer()
                case nil:
                    throw malformed("unexpected end of input, expected ',' or '\(Character(Unicode.Scalar(close)))'", at: index)
                case let byte?:
                    throw malformed(
                        "unexpected \(Self.describe(byte)), expected ',' or '\(Character(Unicode.Scalar(close)))'", at: index)
                }
            }
            skipWhitespace()
            guard index == bytes.count else {
                throw malformed("unexpected \(Self.describe(bytes[index])) after the JSON value", at: index)
            }
            return value
        }
    }

    /// Parses a scalar or empty container at `index` and returns it, or opens a non-empty container and returns nil.
    private mutating func openValue() throws(JSONParseError) -> JSONValue? {
        guard let byte = peek() else {
            throw malformed("unexpected end of input, expected a value", at: index)
        }
        switch byte {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            guard frames.count < limits.maxDepth else {
                throw limitExceeded("nesting deeper than \(limits.maxDepth) levels", at: index)
            }
            let isObject = byte == UInt8(ascii: "{")
            index += 1
            skipWhitespace()
            if peek() == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                index += 1
                return isObject ? .object(JSONObject()) : .array([])
            }
            frames.append(Frame(isObject: isObject, valueStart: values.count))
            if isObject {
                try parseMemberName()
            }
            return nil
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "]"), UInt8(ascii: "}"):
            throw malformed("unexpected \(Self.describe(byte)), expected a value (trailing comma?)", at: index)
        default:
            throw malformed("unexpected \(Self.describe(byte)), expected a value", at: index)
        }
    }

    /// Parses `"name" :` and leaves `index` at the member's value.
    private mutating func parseMemberName() throws(JSONParseError) {
        guard peek() == UInt8(ascii: "\"") else {
            let found = peek().map { Self.describe($0) } ?? "end of input"
            throw malformed("unexpected \(found), expected a member name in double quotes", at: index)
        }
        keys.append(try parseString())
        skipWhitespace()
        guard peek() == UInt8(ascii: ":") else {
            throw malformed("expected ':' after member name", at: index)
        }
        index += 1
        skipWhitespace()
    }

    /// Pops the innermost container and builds its value from the stacked elements.
    private mutating func closeContainer() -> JSONValue {
        let frame = frames.removeLast()
        defer { values.removeSubrange(frame.valueStart...) }
        guard frame.isObject else {
            return .array(Array(values[frame.valueStart...]))
        }
        let count = values.count - frame.valueStart
        let keyStart = keys.count - count
        var members: [JSONObject.Member] = []
        members.reserveCapacity(count)
        for offset in 0..<count {
            members.append((key: keys[keyStart + offset], value: values[frame.valueStart + offset]))
        }
        keys.removeSubrange(keyStart...)
        return .object(JSONObject(members))
    }

    @inline(__always)
    func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    func malformed(_ reason: String, at offset: Int) -> JSONParseError {
        JSONParseError(kind: .malformed, reason: reason, offset: offset)
    }

    func limitExceeded(_ reason: String, at offset: Int) -> JSONParseError {
        JSONParseError(kind: .limitExceeded, reason: reason, offset: offset)
    }

    /// Names a byte for an error message: `'x'` when printable ASCII, `byte 0xNN` otherwise.
    static func describe(_ byte: UInt8) -> String {
        if (0x21...0x7E).contains(byte) {
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
        let hex = String(byte, radix: 16, uppercase: true)
        return "byte 0x\(byte < 0x10 ? "0" : "")\(hex)"
    }
}
