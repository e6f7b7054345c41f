import Foundation

/// Lower-case hexadecimal text of bytes, and the values of hex digits: for COPY data, UUIDs and WAL positions.
public enum Hex {
    /// The lower-case digit of a value below 16.
    ///
    /// Computed rather than looked up: a global table costs a `swift_once` check and a bounds check per digit, and
    /// every listed entry writes its id's 32 digits.
    @inlinable
    public static func digit(_ nibble: UInt8) -> UInt8 {
        nibble &+ (nibble < 10 ? UInt8(ascii: "0") : UInt8(ascii: "a") &- 10)
    }

    /// Appends two lower-case hex digits per byte of `bytes` to `output`.
    @inlinable
    public static func append(_ bytes: some Sequence<UInt8>, to output: inout [UInt8]) {
        for byte in bytes {
            output.append(digit(byte >> 4))
            output.append(digit(byte & 0x0f))
        }
    }

    /// Lower-case hex text of `bytes`.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var text: [UInt8] = []
        append(bytes, to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// The value of one hex digit (either case), or nil.
    @inlinable
    public static func value(of digit: UInt8) -> UInt8? {
        let value = nibble(digit)
        return value < 16 ? value : nil
    }

    /// The value of one hex digit (either case), or 0xFF: without an optional, so that a parser can check two
    /// digits with one comparison (`high | low < 16`).
    @inlinable
    public static func nibble(_ digit: UInt8) -> UInt8 {
        let decimal = digit &- UInt8(ascii: "0")
        if decimal < 10 { return decimal }
        let letter = (digit | 0x20) &- UInt8(ascii: "a")
        return letter < 6 ? letter &+ 10 : 0xFF
    }
}

extension UUID {
    /// The 16 bytes, in order.
    public var bytes: [UInt8] {
        withUnsafeBytes(of: uuid) { Array($0) }
    }

    /// The UUID of 16 bytes; nil for another count.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        let b = Array(bytes)
        self.init(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }

    /// Parses exactly the canonical `8-4-4-4-12` hex form (either case); nil for anything else.
    ///
    /// Why a contiguous core: every listed entry decodes its id here, and a generic loop over `enumerated()` paid
    /// runtime type-metadata lookups per character (13 % of the server's CPU on the benchmark's mix).
    @inlinable
    public init?(canonical text: some Collection<UInt8>) {
        let parsed = text.withContiguousStorageIfAvailable { Self.parseCanonical(UnsafeRawBufferPointer($0)) }
            ?? Array(text).withUnsafeBytes { Self.parseCanonical($0) }
        guard let parsed else { return nil }
        self.init(uuid: parsed)
    }

    /// The 16 bytes of canonical text, or nil.
    @usableFromInline
    static func parseCanonical(_ text: UnsafeRawBufferPointer) -> uuid_t? {
        guard text.count == 36, text[8] == UInt8(ascii: "-"), text[13] == UInt8(ascii: "-"),
            text[18] == UInt8(ascii: "-"), text[23] == UInt8(ascii: "-")
        else { return nil }
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let valid = withUnsafeMutableBytes(of: &uuid) { out -> Bool in
            var position = 0
            for index in 0..<16 {
                if index == 4 || index == 6 || index == 8 || index == 10 { position += 1 }
                let high = Hex.nibble(text[position]), low = Hex.nibble(text[position + 1])
                guard high | low < 16 else { return false }
                out[index] = high << 4 | low
                position += 2
            }
            return true
        }
        return valid ? uuid : nil
    }

    /// The canonical lower-case `8-4-4-4-12` form, in one allocation (Foundation's `uuidString` is upper case).
    public var lowercasedString: String {
        String(unsafeUninitializedCapacity: Self.canonicalLength) { writeLowercased(into: $0) }
    }

    /// The length of the canonical form.
    public static let canonicalLength = 36

    /// Writes `lowercasedString`'s text into `buffer` (at least `canonicalLength` bytes) and returns its length:
    /// for writers that append it to their own output without a `String` in between.
    public func writeLowercased(into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        precondition(buffer.count >= Self.canonicalLength, "a buffer too short for a UUID")
        return withUnsafeBytes(of: uuid) { bytes in
            var position = 0
            for index in 0..<16 {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    buffer[position] = UInt8(ascii: "-")
                    position += 1
                }
                let byte = bytes[index]
                buffer[position] = Hex.digit(byte >> 4)
                buffer[position + 1] = Hex.digit(byte & 0x0f)
                position += 2
            }
            return position
        }
    }
}
