import Primitives

/// The rows of a `COPY ... FROM STDIN`, in PostgreSQL's text format.
///
/// Bulk loads go through COPY because it stores rows many times faster than INSERT statements.
public struct CopyData: Sendable {
    /// The encoded rows.
    public private(set) var bytes: [UInt8] = []
    /// Rows appended so far.
    public private(set) var rowCount = 0

    public init() {}

    /// Appends one row; values are in the COPY statement's column order, nil is NULL.
    public mutating func appendRow(_ values: [any PostgresEncodable]) {
        for (position, value) in values.enumerated() {
            if position > 0 { bytes.append(UInt8(ascii: "\t")) }
            guard let encoded = value.postgresBytes else {
                bytes += [UInt8(ascii: "\\"), UInt8(ascii: "N")]
                continue
            }
            if type(of: value).postgresBinaryFormat {
                appendHex(encoded)
            } else {
                appendEscaped(encoded)
            }
        }
        bytes.append(UInt8(ascii: "\n"))
        rowCount += 1
    }

    private mutating func appendEscaped(_ text: [UInt8]) {
        for byte in text {
            switch byte {
            case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            default: bytes.append(byte)
            }
        }
    }

    /// bytea in COPY text: `\\x` then hex (the backslash itself escaped).
    private mutating func appendHex(_ raw: [UInt8]) {
        bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\"), UInt8(ascii: "x")]
        Hex.append(raw, to: &bytes)
    }
}
