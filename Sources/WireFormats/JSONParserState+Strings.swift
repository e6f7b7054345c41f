extension JSONParserState {
    /// Parses a string starting at the opening quote and leaves `index` after the closing quote.
    ///
    /// Strings without escapes are created straight from the input bytes; others are decoded into `scratch`.
    mutating func parseString() throws(JSONParseError) -> String {
        let quote = index
        index += 1
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                try checkStringLength(index - start, startingAt: quote)
                let string = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return string
            }
            if byte == UInt8(ascii: "\\") {
                scratch.removeAll(keepingCapacity: true)
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                return try parseEscapedString(startingAt: quote)
            }
            try skipStringByte(byte)
        }
        throw malformed("unterminated string", at: quote)
    }

    /// Continues a string at the first backslash, collecting decoded bytes in `scratch`.
    private mutating func parseEscapedString(startingAt quote: Int) throws(JSONParseError) -> String {
        var runStart = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                try checkStringLength(scratch.count, startingAt: quote)
                index += 1
                return String(decoding: scratch, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") {
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                try appendEscape()
                runStart = index
                continue
            }
            try skipStringByte(byte)
        }
        throw malformed("unterminated string", at: quote)
    }

    /// Steps over one unescaped character inside a string, rejecting control characters and invalid UTF-8.
    @inline(__always)
    private mutating func skipStringByte(_ byte: UInt8) throws(JSONParseError) {
        if byte >= 0x20 && byte < 0x80 {
            index += 1
        } else if byte < 0x20 {
            throw malformed("unescaped control character (\(Self.describe(byte))) in string", at: index)
        } else if let length = UTF8Validation.multiByteSequenceLength(in: bytes, at: index) {
            index += length
        } else {
            throw malformed("invalid UTF-8 in string", at: index)
        }
    }

    /// Decodes the escape sequence at `index` (a backslash) into `scratch`.
    private mutating func appendEscape() throws(JSONParseError) {
        let escape = index
        guard index + 1 < bytes.count else {
            throw malformed("unterminated string", at: escape)
        }
        let decoded: UInt8
        switch bytes[index + 1] {
        case UInt8(ascii: "\""): decoded = 0x22
        case UInt8(ascii: "\\"): decoded = 0x5C
        case UInt8(ascii: "/"): decoded = 0x2F
        case UInt8(ascii: "b"): decoded = 0x08
        case UInt8(ascii: "f"): decoded = 0x0C
        case UInt8(ascii: "n"): decoded = 0x0A
        case UInt8(ascii: "r"): decoded = 0x0D
        case UInt8(ascii: "t"): decoded = 0x09
        case UInt8(ascii: "u"):
            try appendUnicodeEscape()
            return
        case let byte:
            throw malformed("invalid escape sequence '\\' followed by \(Self.describe(byte))", at: escape)
        }
        scratch.append(decoded)
        index += 2
    }

    /// Decodes `\uXXXX` (and a following low surrogate escape when the first is a high surrogate) into `scratch` as UTF-8.
    private mutating func appendUnicodeEscape() throws(JSONParseError) {
        let escape = index
        let unit = try hexQuad(at: index + 2)
        index += 6
        let scalarValue: UInt32
        switch unit {
        case 0xD800...0xDBFF:
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
            else {
                throw malformed("unpaired high surrogate escape", at: escape)
            }
            let low = try hexQuad(at: index + 2)
            guard (0xDC00...0xDFFF).contains(low) else {
                throw malformed("unpaired high surrogate escape", at: escape)
            }
            index += 6
            scalarValue = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
        case 0xDC00...0xDFFF:
            throw malformed("unpaired low surrogate escape", at: escape)
        default:
            scalarValue = unit
        }
        appendUTF8(scalarValue)
    }

    /// Appends the UTF-8 encoding of a Unicode scalar value (never a surrogate) to `scratch`.
    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case ..<0x80:
            scratch.append(UInt8(scalar))
        case ..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case ..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Reads four hex digits starting at `start`.
    private func hexQuad(at start: Int) throws(JSONParseError) -> UInt32 {
        guard start + 4 <= bytes.count else {
            throw malformed("incomplete \\u escape", at: start - 2)
        }
        var value: UInt32 = 0
        for offset in start..<start + 4 {
            let byte = bytes[offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw malformed("invalid hex digit \(Self.describe(byte)) in \\u escape", at: offset)
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    private func checkStringLength(_ length: Int, startingAt quote: Int) throws(JSONParseError) {
        guard length <= limits.maxStringBytes else {
            throw limitExceeded("string longer than \(limits.maxStringBytes) bytes", at: quote)
        }
    }
}
