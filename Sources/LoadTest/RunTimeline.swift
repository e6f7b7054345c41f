/// Requests, errors and latency per interval of the measured period, so that a stall or a slope shows.
///
/// Requests are counted in the interval in which they completed (answered, failed or cut at the end of the
/// drain), so the intervals may run past the measured period by up to the drain timeout, and they add up to the
/// report's `overall` counts. The interval is 1 s, doubled for runs over 3,600 s to keep memory bounded.
public struct RunTimeline: Codable, Sendable, Equatable {
    /// The length of each interval in seconds.
    public var intervalSeconds: Double
    /// Every interval from the start of the measured period to the last completion, empty ones included.
    public var intervals: [TimelineInterval]

    enum CodingKeys: String, CodingKey {
        case intervals
        case intervalSeconds = "interval_seconds"
    }

    /// A timeline of 1 s intervals with none yet.
    public static let empty = RunTimeline(intervalSeconds: 1, intervals: [])
}

/// One interval of the timeline.
public struct TimelineInterval: Codable, Sendable, Equatable {
    /// Seconds after the measured period began.
    public var start: Double
    /// Requests completed in the interval, failed ones included.
    public var requests: Int
    /// Failed requests among them.
    public var errors: Int
    /// The median latency in milliseconds (within 6 %), `nil` when no request of the interval has a latency.
    public var p50: Double?
    /// The 99th percentile latency in milliseconds (within 6 %), `nil` like `p50`.
    public var p99: Double?

    enum CodingKeys: String, CodingKey {
        case start, requests, errors
        case p50 = "p50_ms"
        case p99 = "p99_ms"
    }

    /// Encodes every key, `null` included, so that the JSON shape never changes.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(start, forKey: .start)
        try container.encode(requests, forKey: .requests)
        try container.encode(errors, forKey: .errors)
        try container.encode(p50, forKey: .p50)
        try container.encode(p99, forKey: .p99)
    }
}
