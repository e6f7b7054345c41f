/// Requests, errors and latencies per interval of the measured period, by completion time, as one event loop
/// records them (no lock: each loop keeps its own and they are merged at the end).
///
/// Intervals start at 1 s. Memory stays bounded on long runs: once a request completes past
/// `maximumIntervals` intervals, neighbouring intervals are merged in pairs and the interval doubles
/// (2 s beyond an hour, 4 s beyond two hours, ...), so one loop holds at most about 3.5 MB.
struct TimelineRecorder: Sendable, Equatable {
    /// The most intervals kept before they are merged in pairs.
    static let maximumIntervals = 3_600

    /// The length of one interval.
    private(set) var intervalNanoseconds: Int64 = 1_000_000_000
    /// Requests completed in each interval, failed ones included.
    private(set) var requests: [Int] = []
    /// Failed requests in each interval.
    private(set) var errors: [Int] = []
    /// Latencies of the requests in each interval that got an answer or timed out.
    private(set) var latencies: [LatencyBins] = []

    /// Records a request that completed `elapsedNanoseconds` after the measured period began;
    /// `latencyMicroseconds` is nil for a failure that has no latency.
    mutating func record(elapsedNanoseconds: Int64, latencyMicroseconds: UInt64?, failed: Bool) {
        let elapsed = Swift.max(0, elapsedNanoseconds)
        var index = Int(elapsed / intervalNanoseconds)
        while index >= Self.maximumIntervals {
            coarsen()
            index = Int(elapsed / intervalNanoseconds)
        }
        if index >= requests.count { grow(to: index + 1) }
        requests[index] += 1
        if failed { errors[index] += 1 }
        if let latencyMicroseconds { latencies[index].record(microseconds: latencyMicroseconds) }
    }

    /// Adds another loop's intervals, first bringing both to the longer interval.
    mutating func merge(_ other: TimelineRecorder) {
        var other = other
        while intervalNanoseconds < other.intervalNanoseconds { coarsen() }
        while other.intervalNanoseconds < intervalNanoseconds { other.coarsen() }
        if other.requests.count > requests.count { grow(to: other.requests.count) }
        for index in other.requests.indices {
            requests[index] += other.requests[index]
            errors[index] += other.errors[index]
            latencies[index].merge(other.latencies[index])
        }
    }

    /// The intervals as the report shows them, p50 and p99 in milliseconds.
    var timeline: RunTimeline {
        let seconds = Double(intervalNanoseconds) / 1e9
        return RunTimeline(
            intervalSeconds: seconds,
            intervals: requests.indices.map { index in
                let bins = latencies[index]
                return TimelineInterval(
                    start: Double(index) * seconds,
                    requests: requests[index],
                    errors: errors[index],
                    p50: bins.value(atPercentile: 50).map { $0.rounded() / 1_000 },
                    p99: bins.value(atPercentile: 99).map { $0.rounded() / 1_000 }
                )
            }
        )
    }

    private mutating func grow(to count: Int) {
        let added = count - requests.count
        requests += repeatElement(0, count: added)
        errors += repeatElement(0, count: added)
        latencies += repeatElement(LatencyBins(), count: added)
    }

    /// Doubles the interval, merging neighbouring intervals in pairs.
    private mutating func coarsen() {
        intervalNanoseconds *= 2
        let pairs = (requests.count + 1) / 2
        for pair in 0..<pairs {
            let first = pair * 2
            requests[pair] = requests[first]
            errors[pair] = errors[first]
            latencies[pair] = latencies[first]
            if first + 1 < requests.count {
                requests[pair] += requests[first + 1]
                errors[pair] += errors[first + 1]
                latencies[pair].merge(latencies[first + 1])
            }
        }
        requests.removeLast(requests.count - pairs)
        errors.removeLast(errors.count - pairs)
        latencies.removeLast(latencies.count - pairs)
    }
}
