/// Well-formedness checks for UTF-8 per RFC 3629, shared by the JSON and CSV readers.
enum UTF8Validation {
    /// Returns the length of the well-formed multi-byte sequence starting at `index`, or nil when it is ill-formed.
    ///
    /// Rejects stray continuation bytes, overlong encodings, encoded surrogates (U+D800–U+DFFF),
    /// code points above U+10FFFF, the bytes 0xC0, 0xC1 and 0xF5–0xFF, and sequences truncated by the end of `bytes`.
    /// The caller handles ASCII (bytes below 0x80) itself.
    @inline(__always)
    static func multiByteSequenceLength(in bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Int? {
        let length: Int
        var second: ClosedRange<UInt8> = 0x80...0xBF
        switch bytes[index] {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; second = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; second = 0x80...0x9F
        case 0xF0: length = 4; second = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; second = 0x80...0x8F
        default: return nil
        }
        guard index + length <= bytes.count, second.contains(bytes[index + 1]) else { return nil }
        for offset in 2..<length where bytes[index + offset] & 0xC0 != 0x80 {
            return nil
        }
        return length
    }
}
