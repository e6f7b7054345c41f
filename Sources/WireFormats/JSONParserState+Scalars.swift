extension JSONParserState {
    /// Parses a number per the RFC 8259 grammar `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        let start = index
        if bytes[index] == UInt8(ascii: "-") {
            index += 1
        }
        switch peek() {
        case UInt8(ascii: "0"):
            index += 1
            if let next = peek(), Self.isDigit(next) {
                throw malformed("leading zeros are not allowed in numbers", at: index - 1)
            }
        case let byte? where Self.isDigit(byte):
            skipDigits()
        default:
            throw malformed("expected a digit after '-'", at: index)
        }
        if peek() == UInt8(ascii: ".") {
            index += 1
            try requireDigits("expected a digit after the decimal point")
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") {
                index += 1
            }
            try requireDigits("expected a digit in the exponent")
        }
        guard index - start <= limits.maxStringBytes else {
            throw limitExceeded("number longer than \(limits.maxStringBytes) bytes", at: start)
        }
        return JSONNumber(validatedText: String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
    }

    /// Consumes `literal` (`true`, `false` or `null`) at `index`.
    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count,
            UnsafeBufferPointer(start: literal.utf8Start, count: count)
                .elementsEqual(UnsafeBufferPointer(rebasing: bytes[index..<index + count]))
        else {
            throw malformed("invalid literal, expected '\(literal)'", at: index)
        }
        index += count
    }

    private mutating func requireDigits(_ reason: String) throws(JSONParseError) {
        guard let byte = peek(), Self.isDigit(byte) else {
            throw malformed(reason, at: index)
        }
        skipDigits()
    }

    private mutating func skipDigits() {
        while let byte = peek(), Self.isDigit(byte) {
            index += 1
        }
    }

    @inline(__always)
    private static func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }
}
