import Primitives

/// A position in PostgreSQL's write-ahead log (an LSN), as `pg_lsn` writes it: two hexadecimal halves, `16/B374D848`.
///
/// Read-your-writes compares them: a write is visible on a standby once the standby has replayed the log up to a
/// position at or after the write's commit.
public struct WALPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The 64-bit byte offset in the log.
    public let offset: UInt64

    public init(offset: UInt64) {
        self.offset = offset
    }

    /// Reads `pg_lsn`'s text form; nil for anything else (at most 8 hexadecimal digits on each side of the slash).
    public init?(text: some StringProtocol) {
        let halves = text.split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2,
            halves.allSatisfy({ (1...8).contains($0.utf8.count) && $0.utf8.allSatisfy { Hex.value(of: $0) != nil } }),
            let high = UInt64(halves[0], radix: 16), let low = UInt64(halves[1], radix: 16)
        else { return nil }
        offset = high << 32 | low
    }

    /// `pg_lsn`'s text form, upper-case hexadecimal as PostgreSQL prints it.
    public var description: String {
        String(offset >> 32, radix: 16, uppercase: true) + "/"
            + String(offset & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    public static func < (lhs: WALPosition, rhs: WALPosition) -> Bool { lhs.offset < rhs.offset }
}
