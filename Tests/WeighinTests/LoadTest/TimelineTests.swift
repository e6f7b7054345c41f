import Histogram
import Testing

@testable import LoadTest

@Suite("The per-second timeline and the latency distribution")
struct TimelineTests {
    @Test("Latency bins are contiguous and read back within 6 % of the recorded value")
    func bins() {
        var previous = -1
        for value in Array(0...5_000) + [65_535, 1_000_000, 3_600_000_000, UInt64(UInt32.max)] {
            let bin = LatencyBins.bin(of: UInt64(value))
            #expect(bin == previous || bin == previous + 1 || value > 5_000, "bin of \(value)")
            #expect(bin < LatencyBins.binCount)
            let middle = LatencyBins.middle(of: bin)
            #expect(abs(middle - Double(value)) <= Double(value) * 0.0625, "\(value) read back as \(middle)")
            previous = bin
        }
        var bins = LatencyBins()
        for microseconds in 1...1000 { bins.record(microseconds: UInt64(microseconds) * 1_000) }
        #expect(abs(bins.value(atPercentile: 50)! - 500_000) <= 500_000 * 0.0625)
        #expect(abs(bins.value(atPercentile: 99)! - 990_000) <= 990_000 * 0.0625)
        #expect(LatencyBins().value(atPercentile: 50) == nil)
    }

    @Test("Requests land in the second they completed in; empty seconds stay in the timeline")
    func seconds() throws {
        var statistics = RunStatistics()
        statistics.record(.list, status: 200, latencyNanoseconds: 2_000_000, completedAt: 100_000_000)
        statistics.record(.list, status: 500, latencyNanoseconds: 4_000_000, completedAt: 900_000_000)
        statistics.record(.create, failure: .connect, latencyNanoseconds: 0, completedAt: 2_500_000_000)
        let timeline = statistics.timeline.timeline
        #expect(timeline.intervalSeconds == 1)
        #expect(timeline.intervals.map(\.start) == [0, 1, 2])
        #expect(timeline.intervals.map(\.requests) == [2, 0, 1])
        #expect(timeline.intervals.map(\.errors) == [1, 0, 1])
        let first = try #require(timeline.intervals.first)
        let p50 = try #require(first.p50)
        let p99 = try #require(first.p99)
        #expect(abs(p50 - 2) <= 0.125 && abs(p99 - 4) <= 0.25)
        // A refused connection has no latency, and an empty second has none either.
        #expect(timeline.intervals[1].p50 == nil && timeline.intervals[2].p99 == nil)
    }

    @Test("Past 3,600 intervals neighbours merge and the interval doubles, keeping every request")
    func coarsening() {
        var recorder = TimelineRecorder()
        for second in 0..<3_600 {
            recorder.record(elapsedNanoseconds: Int64(second) * 1_000_000_000, latencyMicroseconds: 1_000, failed: second % 2 == 0)
        }
        #expect(recorder.requests.count == 3_600 && recorder.intervalNanoseconds == 1_000_000_000)
        recorder.record(elapsedNanoseconds: 3_600 * 1_000_000_000, latencyMicroseconds: nil, failed: true)
        #expect(recorder.intervalNanoseconds == 2_000_000_000)
        #expect(recorder.requests.count == 1_801)
        #expect(recorder.requests.reduce(0, +) == 3_601)
        #expect(recorder.errors.reduce(0, +) == 1_801)
        #expect(recorder.requests[0] == 2 && recorder.errors[0] == 1 && recorder.latencies[0].total == 2)
        let timeline = recorder.timeline
        #expect(timeline.intervalSeconds == 2 && timeline.intervals.last?.start == 3_600)
    }

    @Test("Loops with different intervals merge at the longer one")
    func mergeDifferentIntervals() {
        var short = TimelineRecorder()
        short.record(elapsedNanoseconds: 3_000_000_000, latencyMicroseconds: 10, failed: false)
        var long = TimelineRecorder()
        long.record(elapsedNanoseconds: 5_000 * 1_000_000_000, latencyMicroseconds: 10, failed: false)
        short.merge(long)
        #expect(short.intervalNanoseconds == 2_000_000_000)
        #expect(short.requests[1] == 1 && short.requests[2_500] == 1 && short.requests.reduce(0, +) == 2)
    }

    @Test("The distribution runs from p50 to the highest percentile the count resolves")
    func distribution() throws {
        var histogram = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        for milliseconds in 1...1000 { histogram.record(UInt64(milliseconds) * 1_000) }
        let distribution = LatencyDistribution(name: "list", histogram: histogram)
        #expect(distribution.count == 1000)
        let first = try #require(distribution.points.first)
        let last = try #require(distribution.points.last)
        #expect(abs(first.percentile - 50) < 1e-9 && abs(first.milliseconds - 500) <= 1)
        #expect(abs(last.percentile - 99.9) < 1e-9 && abs(last.milliseconds - 999) <= 1)
        #expect(zip(distribution.points, distribution.points.dropFirst()).allSatisfy {
            $0.percentile < $1.percentile && $0.milliseconds <= $1.milliseconds
        })
        let empty = LatencyDistribution(name: "get", histogram: Histogram<UInt64>(highestTrackableValue: 1_000, numberOfSignificantValueDigits: .three))
        #expect(empty.points.isEmpty)
    }
}
