import Foundation

/// Lower-case hexadecimal text of bytes, and back: for `bytea` values, COPY data and UUIDs.
public enum Hex {
    /// The 16 digits, lower case.
    @usableFromInline static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends two lower-case hex digits per byte of `bytes` to `output`.
    @inlinable
    public static func append(_ bytes: some Sequence<UInt8>, to output: inout [UInt8]) {
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0f)])
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
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The bytes of hex text (an even number of digits, either case); nil for anything else.
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(text.count / 2)
        var high: UInt8?
        for digit in text {
            guard let value = value(of: digit) else { return nil }
            if let first = high {
                output.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return output
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
        guard text.count == 36 else { return nil }
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let valid = withUnsafeMutableBytes(of: &uuid) { out -> Bool in
            var position = 0
            for index in 0..<16 {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    guard text[position] == UInt8(ascii: "-") else { return false }
                    position += 1
                }
                guard let high = Hex.value(of: text[position]), let low = Hex.value(of: text[position + 1]) else {
                    return false
                }
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
            for (index, byte) in bytes.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    buffer[position] = UInt8(ascii: "-")
                    position += 1
                }
                buffer[position] = Hex.digits[Int(byte >> 4)]
                buffer[position + 1] = Hex.digits[Int(byte & 0x0f)]
                position += 2
            }
            return position
        }
    }
}
