#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Primitives

/// Streaming JSON encoder that appends compact RFC 8259 text to a byte buffer.
///
/// Commas are inserted automatically; the caller is responsible for balanced begin/end calls and
/// for calling ``key(_:)`` before each value inside an object. No whitespace is written.
public struct JSONWriter: Sendable {
    /// The encoded output so far.
    public private(set) var bytes: [UInt8]
    /// True when the next value or key must be preceded by a comma.
    private var needsComma = false

    /// Creates a writer that appends to `bytes`, which should not end inside an unfinished value.
    public init(bytes: [UInt8] = []) {
        self.bytes = bytes
    }

    /// Creates a writer with room for `capacity` bytes before its output grows: a listing knows roughly how long
    /// it gets, and each growth copies everything written so far.
    public init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Starts an object (`{`).
    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    /// Ends the current object (`}`).
    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Starts an array (`[`).
    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    /// Ends the current array (`]`).
    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes a member name of the contract and `:`; the next call must write its value.
    ///
    /// Names written in the source need no escaping, so their bytes are copied as they are (a listing writes 450
    /// names per page).
    public mutating func key(_ name: StaticString) {
        assert(name.withUTF8Buffer { !$0.contains(where: Self.needsEscape) }, "a member name that needs escaping")
        name.withUTF8Buffer { utf8 in
            appendSeparated(capacity: utf8.count + 3) { out in
                out.append(UInt8(ascii: "\""))
                for byte in utf8 { out.append(byte) }
                out.append(UInt8(ascii: "\""))
                out.append(UInt8(ascii: ":"))
            }
        }
        needsComma = false
    }

    /// Writes a member name that comes from data (a log's metadata, a parsed document), escaped, and `:`.
    public mutating func key(escaping name: String) {
        separate()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes an escaped string value.
    public mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
        needsComma = true
    }

    /// Writes a string value that `fill` puts straight into the output: at most `capacity` bytes that need no
    /// escaping (digits, hex, `-`, `:`, `.`, letters), as in ids and timestamps, with no `String` in between.
    /// `fill` returns how many bytes it wrote.
    public mutating func asciiString(capacity: Int, _ fill: (UnsafeMutableBufferPointer<UInt8>) -> Int) {
        appendSeparated(capacity: capacity + 2) { out in
            out.append(UInt8(ascii: "\""))
            out.withUnsafeMutableBufferPointer { buffer, count in
                let room = UnsafeMutableBufferPointer(rebasing: buffer[count ..< count + capacity])
                let written = fill(room)
                precondition(written <= capacity, "more bytes than the capacity asked for")
                assert(!room[..<written].contains(where: Self.needsEscape), "text that needs escaping")
                count += written
            }
            out.append(UInt8(ascii: "\""))
        }
        needsComma = true
    }

    /// Writes number text verbatim; the caller guarantees it is a valid JSON number (e.g. `Decimal.description`).
    public mutating func rawNumber(_ text: String) {
        separate()
        bytes.append(contentsOf: text.utf8)
        needsComma = true
    }

    /// Writes a decimal in plain notation; NaN, which JSON cannot express, is written as `null`.
    public mutating func number(_ value: Decimal) {
        if value.isNaN {
            null()
        } else {
            rawNumber(value.plainText)
        }
    }

    /// Writes an integer.
    public mutating func number(_ value: Int) {
        rawNumber(String(value))
    }

    /// Writes `true` or `false`.
    public mutating func bool(_ value: Bool) {
        literal(value ? "true" : "false")
    }

    /// Writes `null`.
    public mutating func null() {
        literal("null")
    }

    /// Writes a whole value; numbers keep their source text and objects their member order.
    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .number(let number): rawNumber(number.text)
        case .string(let text): string(text)
        case .array(let elements):
            beginArray()
            for element in elements {
                write(element)
            }
            endArray()
        case .object(let object):
            beginObject()
            for member in object.members {
                key(escaping: member.key)
                write(member.value)
            }
            endObject()
        }
    }

    /// Writes a literal (`true`, `null`) as a value.
    private mutating func literal(_ text: StaticString) {
        text.withUTF8Buffer { utf8 in
            appendSeparated(capacity: utf8.count) { out in
                for byte in utf8 { out.append(byte) }
            }
        }
        needsComma = true
    }

    /// Appends the comma the next value needs, if any, and what `write` writes (at most `capacity` bytes), with
    /// one check of the array's capacity: each append on its own checks that the array is unique and has room,
    /// and a listed entry writes 15 names, 3 ids or timestamps and up to 9 nulls.
    private mutating func appendSeparated(capacity: Int, _ write: (inout OutputSpan<UInt8>) -> Void) {
        let comma = needsComma
        bytes.append(addingCapacity: capacity + 1) { out in
            if comma { out.append(UInt8(ascii: ",")) }
            write(&out)
        }
    }

    /// Whether a byte must be escaped inside a JSON string: `"`, `\\` and control characters.
    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20
    }

    private mutating func separate() {
        if needsComma {
            bytes.append(UInt8(ascii: ","))
        }
    }

    /// Appends `text` in double quotes, escaping `"`, `\`, control characters, U+2028 and U+2029.
    private mutating func appendQuoted(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { appendEscaped($0) }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        var runStart = 0
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            let scalar: UInt32
            let length: Int
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x00..<0x20:
                scalar = UInt32(byte)
                length = 1
            case 0xE2 where index + 2 < utf8.count && utf8[index + 1] == 0x80 && (utf8[index + 2] | 1) == 0xA9:
                // E2 80 A8 is U+2028 LINE SEPARATOR, E2 80 A9 is U+2029 PARAGRAPH SEPARATOR.
                scalar = 0x2028 + UInt32(utf8[index + 2] & 1)
                length = 3
            default:
                index += 1
                continue
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
            appendEscape(for: scalar)
            index += length
            runStart = index
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
    }

    private mutating func appendEscape(for scalar: UInt32) {
        bytes.append(UInt8(ascii: "\\"))
        switch scalar {
        case 0x22: bytes.append(UInt8(ascii: "\""))
        case 0x5C: bytes.append(UInt8(ascii: "\\"))
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        default:
            bytes.append(UInt8(ascii: "u"))
            for shift in stride(from: 12, through: 0, by: -4) {
                let nibble = UInt8(scalar >> UInt32(shift) & 0xF)
                bytes.append(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
            }
        }
    }
}
