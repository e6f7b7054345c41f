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
    /// The bytes written so far, in memory the writer owns and grows by doubling.
    ///
    /// Not an array: appending to `[UInt8]` checks uniqueness and room per call, and writing a run of bytes into its
    /// spare room takes a closure through `OutputSpan`; a member name cost about 160 instructions that way, and a
    /// listed entry writes 15 names, 3 ids or timestamps and up to 9 nulls. Here a write checks once and stores.
    private final class Storage: @unchecked Sendable {
        // Written only through a writer holding the only reference (`reserve` copies a shared one first). Both
        // fields are constants: a class's variables are checked for exclusive access at run time on every use.
        let base: UnsafeMutablePointer<UInt8>
        let capacity: Int

        init(capacity: Int) {
            self.capacity = Swift.max(capacity, 16)
            base = .allocate(capacity: self.capacity)
        }

        deinit {
            base.deallocate()
        }
    }

    private var storage: Storage
    /// How many bytes of `storage` are written.
    private var count = 0
    /// True when the next value or key must be preceded by a comma.
    private var needsComma = false

    /// The encoded output so far.
    public var bytes: [UInt8] {
        Array(UnsafeBufferPointer(start: storage.base, count: count))
    }

    /// Creates a writer that appends to `bytes`, which should not end inside an unfinished value.
    public init(bytes: [UInt8] = []) {
        storage = Storage(capacity: bytes.count + 256)
        bytes.withUnsafeBufferPointer { put($0) }
    }

    /// Creates a writer with room for `capacity` bytes before its output grows: a listing knows roughly how long
    /// it gets, and each growth copies everything written so far.
    public init(capacity: Int) {
        storage = Storage(capacity: capacity)
    }

    /// Starts an object (`{`).
    public mutating func beginObject() {
        separate()
        put(UInt8(ascii: "{"))
        needsComma = false
    }

    /// Ends the current object (`}`).
    public mutating func endObject() {
        put(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Starts an array (`[`).
    public mutating func beginArray() {
        separate()
        put(UInt8(ascii: "["))
        needsComma = false
    }

    /// Ends the current array (`]`).
    public mutating func endArray() {
        put(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes a member name of the contract and `:`; the next call must write its value.
    ///
    /// Names written in the source need no escaping, so their bytes are copied as they are (a listing writes 450
    /// names per page).
    public mutating func key(_ name: StaticString) {
        assert(name.withUTF8Buffer { !$0.contains(where: Self.needsEscape) }, "a member name that needs escaping")
        // `withUTF8Buffer`, not `utf8Start`, which traps for a `StaticString` holding a single scalar.
        name.withUTF8Buffer { utf8 in
            let room = reserveSeparated(utf8.count + 3)
            room[0] = UInt8(ascii: "\"")
            if let source = utf8.baseAddress { (room + 1).initialize(from: source, count: utf8.count) }
            room[1 + utf8.count] = UInt8(ascii: "\"")
            room[2 + utf8.count] = UInt8(ascii: ":")
            count += 3 + utf8.count
        }
        needsComma = false
    }

    /// Writes a member name that comes from data (a log's metadata, a parsed document), escaped, and `:`.
    public mutating func key(escaping name: String) {
        separate()
        appendQuoted(name)
        put(UInt8(ascii: ":"))
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
        let room = reserveSeparated(capacity + 2)
        room[0] = UInt8(ascii: "\"")
        let text = UnsafeMutableBufferPointer(start: room + 1, count: capacity)
        let written = fill(text)
        precondition(written <= capacity, "more bytes than the capacity asked for")
        assert(!text[..<written].contains(where: Self.needsEscape), "text that needs escaping")
        room[1 + written] = UInt8(ascii: "\"")
        count += 2 + written
        needsComma = true
    }

    /// Writes number text verbatim; the caller guarantees it is a valid JSON number (e.g. `Decimal.description`).
    public mutating func rawNumber(_ text: String) {
        var text = text
        text.withUTF8 { verbatim($0) }
    }

    /// Writes a decimal in plain notation; NaN, which JSON cannot express, is written as `null`.
    public mutating func number(_ value: Decimal) {
        if value.isNaN {
            null()
        } else {
            value.withPlainTextUTF8 { verbatim($0) }
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
        text.withUTF8Buffer { verbatim($0) }
    }

    /// Writes a value's text as it is (a literal, a number's digits).
    private mutating func verbatim(_ utf8: UnsafeBufferPointer<UInt8>) {
        let room = reserveSeparated(utf8.count)
        if let source = utf8.baseAddress { room.initialize(from: source, count: utf8.count) }
        count += utf8.count
        needsComma = true
    }

    /// Room for `bytes` more bytes at the end of the output, which the caller fills and then adds to `count`; a
    /// storage another writer shares, or one too small, is replaced by a copy first.
    @inline(__always)
    private mutating func reserve(_ bytes: Int) -> UnsafeMutablePointer<UInt8> {
        let needed = count + bytes
        if needed > storage.capacity || !isKnownUniquelyReferenced(&storage) {
            let capacity = needed > storage.capacity ? Swift.max(needed, storage.capacity * 2) : storage.capacity
            let copy = Storage(capacity: capacity)
            copy.base.initialize(from: storage.base, count: count)
            storage = copy
        }
        return storage.base + count
    }

    /// `reserve` for a value or a name: writes and counts the comma before it, if one is due, and returns the room
    /// after it.
    @inline(__always)
    private mutating func reserveSeparated(_ bytes: Int) -> UnsafeMutablePointer<UInt8> {
        let room = reserve(bytes + 1)
        guard needsComma else { return room }
        room.initialize(to: UInt8(ascii: ","))
        count += 1
        return room + 1
    }

    private mutating func put(_ byte: UInt8) {
        reserve(1).initialize(to: byte)
        count += 1
    }

    private mutating func put(_ utf8: UnsafeBufferPointer<UInt8>) {
        guard let source = utf8.baseAddress, !utf8.isEmpty else { return }
        reserve(utf8.count).initialize(from: source, count: utf8.count)
        count += utf8.count
    }

    /// Whether a byte must be escaped inside a JSON string: `"`, `\\` and control characters.
    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20
    }

    /// Writes the comma the next value or name needs, if any.
    private mutating func separate() {
        _ = reserveSeparated(0)
    }

    /// Appends `text` in double quotes, escaping `"`, `\`, control characters, U+2028 and U+2029.
    private mutating func appendQuoted(_ text: String) {
        put(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { appendEscaped($0) }
        put(UInt8(ascii: "\""))
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
            put(UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
            appendEscape(for: scalar)
            index += length
            runStart = index
        }
        put(UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
    }

    private mutating func appendEscape(for scalar: UInt32) {
        put(UInt8(ascii: "\\"))
        switch scalar {
        case 0x22: put(UInt8(ascii: "\""))
        case 0x5C: put(UInt8(ascii: "\\"))
        case 0x08: put(UInt8(ascii: "b"))
        case 0x0C: put(UInt8(ascii: "f"))
        case 0x0A: put(UInt8(ascii: "n"))
        case 0x0D: put(UInt8(ascii: "r"))
        case 0x09: put(UInt8(ascii: "t"))
        default:
            put(UInt8(ascii: "u"))
            for shift in stride(from: 12, through: 0, by: -4) {
                let nibble = UInt8(scalar >> UInt32(shift) & 0xF)
                put(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
            }
        }
    }
}
