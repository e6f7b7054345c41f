/// A small fixed histogram of latencies in microseconds, for one interval of the timeline.
///
/// 240 log-linear bins up to 2^32 µs (over an hour): exact below 16 µs, then 8 bins per power of two, so a
/// value read back (the middle of its bin) is within 6 % of what was recorded. At 960 bytes it is cheap enough
/// to keep one per second of a long run, where an HDR histogram of 3 significant digits takes about 180 KB.
struct LatencyBins: Sendable, Equatable {
    /// The number of bins: 16 exact ones, then 8 for each power of two from 2^4 to 2^31.
    static let binCount = 16 + 28 * 8

    /// Counts per bin. One interval of one event loop holds at most 2^32 - 1 latencies, which a run would reach
    /// only after months at a million requests a second.
    private(set) var counts = [UInt32](repeating: 0, count: binCount)
    /// Latencies recorded.
    private(set) var total = 0

    /// Records a latency; values from 2^32 µs up land in the last bin.
    mutating func record(microseconds: UInt64) {
        counts[Self.bin(of: Swift.min(microseconds, UInt64(UInt32.max)))] += 1
        total += 1
    }

    mutating func merge(_ other: LatencyBins) {
        for index in counts.indices {
            counts[index] += other.counts[index]
        }
        total += other.total
    }

    /// The latency at `percentile` (0 to 100) in microseconds, the middle of its bin; `nil` when empty.
    func value(atPercentile percentile: Double) -> Double? {
        guard total > 0 else { return nil }
        let rank = Swift.max(1, Int((percentile / 100 * Double(total)).rounded(.up)))
        var seen = 0
        for (bin, count) in counts.enumerated() {
            seen += Int(count)
            if seen >= rank { return Self.middle(of: bin) }
        }
        return Self.middle(of: counts.count - 1)
    }

    /// The bin of a value below 2^32.
    static func bin(of value: UInt64) -> Int {
        if value < 16 { return Int(value) }
        let exponent = 63 - value.leadingZeroBitCount
        let step = Int((value >> (exponent - 3)) & 7)
        return 16 + (exponent - 4) * 8 + step
    }

    /// The middle of the values that fall into `bin`.
    static func middle(of bin: Int) -> Double {
        if bin < 16 { return Double(bin) }
        let exponent = (bin - 16) / 8 + 4
        let step = (bin - 16) % 8
        let width = Double(UInt64(1) << (exponent - 3))
        let lowest = Double(8 + step) * width
        return lowest + (width - 1) / 2
    }
}
