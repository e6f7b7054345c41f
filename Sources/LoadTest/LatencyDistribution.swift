import Foundation
import Histogram

/// The latency of one scenario (or of all) at percentiles from p50 to p99.99, read from its HDR histogram,
/// for the report's percentile plot.
public struct LatencyDistribution: Sendable, Equatable {
    /// One point of the curve.
    public struct Point: Sendable, Equatable {
        /// The percentile, from 50 to 99.99.
        public var percentile: Double
        /// The latency at that percentile in milliseconds.
        public var milliseconds: Double

        /// Creates a point.
        public init(percentile: Double, milliseconds: Double) {
            self.percentile = percentile
            self.milliseconds = milliseconds
        }
    }

    /// The scenario name, or `overall`.
    public var name: String
    /// Latencies recorded.
    public var count: Int
    /// Points at evenly spaced steps of log10(1 / (1 - percentile / 100)), 20 per decade, from p50 up to the
    /// highest percentile the count resolves (p99 needs 100 latencies, p99.99 needs 10,000); empty without latencies.
    public var points: [Point]

    /// Creates a distribution from its points.
    public init(name: String, count: Int, points: [Point]) {
        self.name = name
        self.count = count
        self.points = points
    }

    /// The highest percentile the curve reaches.
    static let highestPercentile = 99.99

    init(name: String, histogram: Histogram<UInt64>) {
        let count = Int(histogram.totalCount)
        var points: [Point] = []
        if count > 0 {
            // x = log10(1 / (1 - p)): 0.301 at p50, 2 at p99, 4 at p99.99.
            let highest = Swift.min(4, log10(Double(count)))
            var steps = [log10(2.0)]
            var step = 7.0
            while step / 20 <= highest + 1e-9 {
                steps.append(step / 20)
                step += 1
            }
            if highest - steps[steps.count - 1] > 1e-9 { steps.append(highest) }
            points = steps.map { x in
                let percentile = Swift.min(Self.highestPercentile, 100 * (1 - pow(10, -x)))
                return Point(percentile: percentile, milliseconds: Double(histogram.valueAtPercentile(percentile)) / 1_000)
            }
        }
        self.init(name: name, count: count, points: points)
    }
}
