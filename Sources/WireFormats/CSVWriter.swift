/// RFC 4180 CSV encoder that appends records to a byte buffer.
///
/// A field is quoted only when it contains `,`, `"`, CR or LF (quotes are doubled); every record,
/// including the last, ends with CRLF. Values are written as given: neutralizing spreadsheet formulas
/// (fields starting with `=`, `+`, `-`, `@`) is the caller's decision.
public struct CSVWriter: Sendable {
    /// The encoded output so far.
    public private(set) var bytes: [UInt8]

    /// Creates a writer that appends to `bytes`.
    public init(bytes: [UInt8] = []) {
        self.bytes = bytes
    }

    /// Appends one record followed by CRLF.
    ///
    /// A record consisting of one empty field is written as `""` so it does not read back as an empty line;
    /// a record with no fields is written as an empty line.
    public mutating func writeRecord(_ fields: some Sequence<String>) {
        var count = 0
        var lastWasEmpty = false
        for field in fields {
            if count > 0 {
                bytes.append(UInt8(ascii: ","))
            }
            count += 1
            lastWasEmpty = field.isEmpty
            appendField(field)
        }
        if count == 1 && lastWasEmpty {
            bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: "\"")])
        }
        bytes.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n")])
    }

    private mutating func appendField(_ field: String) {
        let needsQuotes = field.utf8.contains {
            $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n")
        }
        guard needsQuotes else {
            bytes.append(contentsOf: field.utf8)
            return
        }
        bytes.append(UInt8(ascii: "\""))
        for byte in field.utf8 {
            if byte == UInt8(ascii: "\"") {
                bytes.append(byte)
            }
            bytes.append(byte)
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
