import Histogram

/// Counts, errors and a latency histogram of one scenario (or of all of them).
struct LatencyStatistics: Sendable {
    /// The highest latency the histogram tracks, in microseconds: one hour.
    static let highestTrackableMicroseconds: UInt64 = 3_600_000_000

    /// Latencies in microseconds of requests that got an answer or timed out.
    var histogram = Histogram<UInt64>(
        highestTrackableValue: highestTrackableMicroseconds,
        numberOfSignificantValueDigits: .three
    )
    /// Requests measured, failed ones included.
    var requests = 0
    /// Failed requests by status code or failure kind.
    var errors: [String: Int] = [:]

    var errorCount: Int { errors.values.reduce(0, +) }

    mutating func recordLatency(nanoseconds: Int64) {
        histogram.record(Self.microseconds(nanoseconds))
    }

    /// A latency in whole microseconds, within what the histogram tracks.
    static func microseconds(_ nanoseconds: Int64) -> UInt64 {
        Swift.min(UInt64(Swift.max(0, nanoseconds) / 1_000), highestTrackableMicroseconds)
    }

    mutating func merge(_ other: LatencyStatistics) {
        histogram.add(other.histogram)
        requests += other.requests
        errors.merge(other.errors, uniquingKeysWith: +)
    }
}

/// Why a request failed without a usable answer.
enum RequestFailure: String, Sendable {
    /// The connection could not be opened.
    case connect
    /// The connection broke or closed while the request was in flight.
    case reset
    /// No complete answer came within the request timeout, or by the end of the drain.
    case timeout
    /// The answer was not valid HTTP/1.1.
    case `protocol`
    /// The open loop's queue of due requests was full.
    case queueFull = "queue_full"

    /// Whether the request's elapsed time belongs in the latency histogram.
    var hasLatency: Bool { self == .timeout }
}

/// The measurements of one event loop, or of all of them merged.
struct RunStatistics: Sendable {
    /// Indexed by `Scenario.ordinal`.
    var scenarios = [LatencyStatistics](repeating: LatencyStatistics(), count: Scenario.allCases.count)
    var overall = LatencyStatistics()
    /// All scenarios per interval of the measured period.
    var timeline = TimelineRecorder()

    /// Counts an answered request that completed `completedAt` nanoseconds after the measured period began.
    mutating func record(_ scenario: Scenario, status: Int, latencyNanoseconds: Int64, completedAt: Int64) {
        let ordinal = scenario.ordinal
        let failed = !scenario.isSuccess(status)
        scenarios[ordinal].requests += 1
        scenarios[ordinal].recordLatency(nanoseconds: latencyNanoseconds)
        overall.requests += 1
        overall.recordLatency(nanoseconds: latencyNanoseconds)
        timeline.record(
            elapsedNanoseconds: completedAt,
            latencyMicroseconds: LatencyStatistics.microseconds(latencyNanoseconds),
            failed: failed
        )
        if failed {
            let key = String(status)
            scenarios[ordinal].errors[key, default: 0] += 1
            overall.errors[key, default: 0] += 1
        }
    }

    /// Counts a failed request that completed `completedAt` nanoseconds after the measured period began.
    mutating func record(_ scenario: Scenario, failure: RequestFailure, latencyNanoseconds: Int64, completedAt: Int64) {
        let ordinal = scenario.ordinal
        scenarios[ordinal].requests += 1
        overall.requests += 1
        if failure.hasLatency {
            scenarios[ordinal].recordLatency(nanoseconds: latencyNanoseconds)
            overall.recordLatency(nanoseconds: latencyNanoseconds)
        }
        timeline.record(
            elapsedNanoseconds: completedAt,
            latencyMicroseconds: failure.hasLatency ? LatencyStatistics.microseconds(latencyNanoseconds) : nil,
            failed: true
        )
        scenarios[ordinal].errors[failure.rawValue, default: 0] += 1
        overall.errors[failure.rawValue, default: 0] += 1
    }

    mutating func merge(_ other: RunStatistics) {
        for index in scenarios.indices {
            scenarios[index].merge(other.scenarios[index])
        }
        overall.merge(other.overall)
        timeline.merge(other.timeline)
    }
}
