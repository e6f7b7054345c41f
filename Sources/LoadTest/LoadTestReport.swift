import Foundation

/// The result of a run: what `loadtest` prints as a table and writes with `--json`.
///
/// The JSON shape, with snake_case keys (latencies in milliseconds, 3 decimals):
/// ```json
/// {
///   "target": "http://127.0.0.1:8080", "mode": "closed", "connections": 32, "threads": 1,
///   "target_rate": null, "warmup_seconds": 2, "duration_seconds": 10,
///   "mix": "list=70,create=20,stats=5,get=5", "seed_only": false,
///   "seeding": {"users": 100, "created_users": 100, "entries": 3000, "seconds": 8.1},
///   "overall": {"scenario": "overall", "requests": 52000, "errors": 3, "error_rate": 0.0000577,
///               "errors_by_status": {"503": 2, "timeout": 1}, "throughput": 5200.0,
///               "latency_ms": {"p50": 4.1, "p90": 7.9, "p99": 15.2, "p99_9": 31.0, "max": 48.3}},
///   "scenarios": [{"scenario": "list", ...same fields as overall...}],
///   "timeline": {"interval_seconds": 1,
///                "intervals": [{"start": 0, "requests": 5230, "errors": 0, "p50_ms": 4.1, "p99_ms": 14.9}, ...]}
/// }
/// ```
/// `mode` is `closed` or `open` (then `target_rate` is the requested rate per second);
/// `seeding` is null when no user was seeded (`--token`, `--path`); `scenarios` follow the mix order.
/// `errors_by_status` keys are HTTP status codes or `connect`, `reset`, `timeout`, `protocol`, `queue_full`.
/// `timeline` counts requests by the interval in which they completed (see `RunTimeline`); its intervals add up
/// to `overall`, and `p50_ms`/`p99_ms` are null in an interval without latencies.
public struct LoadTestReport: Codable, Sendable, Equatable {
    /// The base URL under test.
    public var target: String
    /// `closed` or `open`.
    public var mode: String
    /// The number of connections.
    public var connections: Int
    /// The number of event-loop threads.
    public var threads: Int
    /// The intended requests per second of the open loop; `nil` for the closed loop.
    public var targetRate: Double?
    /// The warm-up period in seconds.
    public var warmupSeconds: Double
    /// The measured period in seconds.
    public var durationSeconds: Double
    /// The scenario mix, as `--mix` takes it.
    public var mix: String
    /// Whether the run only seeded, without load.
    public var seedOnly: Bool
    /// What seeding did, when it ran.
    public var seeding: SeedingSummary?
    /// All scenarios together.
    public var overall: ScenarioSummary
    /// Each scenario of the mix.
    public var scenarios: [ScenarioSummary]
    /// All scenarios per interval of the measured period.
    public var timeline: RunTimeline

    enum CodingKeys: String, CodingKey {
        case target, mode, connections, threads, mix, seeding, overall, scenarios, timeline
        case targetRate = "target_rate"
        case warmupSeconds = "warmup_seconds"
        case durationSeconds = "duration_seconds"
        case seedOnly = "seed_only"
    }

    /// Encodes every key, `null` included, so that the JSON shape never changes.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(target, forKey: .target)
        try container.encode(mode, forKey: .mode)
        try container.encode(connections, forKey: .connections)
        try container.encode(threads, forKey: .threads)
        try container.encode(targetRate, forKey: .targetRate)
        try container.encode(warmupSeconds, forKey: .warmupSeconds)
        try container.encode(durationSeconds, forKey: .durationSeconds)
        try container.encode(mix, forKey: .mix)
        try container.encode(seedOnly, forKey: .seedOnly)
        try container.encode(seeding, forKey: .seeding)
        try container.encode(overall, forKey: .overall)
        try container.encode(scenarios, forKey: .scenarios)
        try container.encode(timeline, forKey: .timeline)
    }

    /// The report as pretty-printed JSON with sorted keys.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}

/// What seeding did.
public struct SeedingSummary: Codable, Sendable, Equatable {
    /// Users logged in.
    public var users: Int
    /// Users that were registered in this run; the others existed already (a reused prefix).
    public var createdUsers: Int
    /// Entries imported in this run.
    public var entries: Int
    /// Wall-clock seconds seeding took.
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case users, entries, seconds
        case createdUsers = "created_users"
    }
}

/// Counts, errors, throughput and latency of one scenario or of all of them.
public struct ScenarioSummary: Codable, Sendable, Equatable {
    /// The scenario name, or `overall`.
    public var scenario: String
    /// Requests measured, failed ones included.
    public var requests: Int
    /// Failed requests.
    public var errors: Int
    /// `errors / requests`, 0 without requests.
    public var errorRate: Double
    /// Failed requests by HTTP status code or failure kind.
    public var errorsByStatus: [String: Int]
    /// Requests per second over the measured period.
    public var throughput: Double
    /// Latency percentiles of requests that got an answer or timed out.
    public var latency: LatencySummary

    enum CodingKeys: String, CodingKey {
        case scenario, requests, errors, throughput
        case errorRate = "error_rate"
        case errorsByStatus = "errors_by_status"
        case latency = "latency_ms"
    }
}

/// Latency percentiles in milliseconds, read from an HDR histogram of microseconds (3 significant digits).
public struct LatencySummary: Codable, Sendable, Equatable {
    /// The median.
    public var p50: Double
    /// The 90th percentile.
    public var p90: Double
    /// The 99th percentile, which `--max-p99` checks.
    public var p99: Double
    /// The 99.9th percentile.
    public var p999: Double
    /// The highest latency recorded.
    public var max: Double

    enum CodingKeys: String, CodingKey {
        case p50, p90, p99, max
        case p999 = "p99_9"
    }
}

extension ScenarioSummary {
    init(name: String, statistics: LatencyStatistics, durationSeconds: Double) {
        let histogram = statistics.histogram
        func milliseconds(_ microseconds: UInt64) -> Double {
            Double(microseconds) / 1_000
        }
        let empty = histogram.totalCount == 0
        let errors = statistics.errorCount
        self.init(
            scenario: name,
            requests: statistics.requests,
            errors: errors,
            errorRate: statistics.requests == 0 ? 0 : Double(errors) / Double(statistics.requests),
            errorsByStatus: statistics.errors,
            throughput: durationSeconds > 0 ? Double(statistics.requests) / durationSeconds : 0,
            latency: LatencySummary(
                p50: empty ? 0 : milliseconds(histogram.valueAtPercentile(50)),
                p90: empty ? 0 : milliseconds(histogram.valueAtPercentile(90)),
                p99: empty ? 0 : milliseconds(histogram.valueAtPercentile(99)),
                p999: empty ? 0 : milliseconds(histogram.valueAtPercentile(99.9)),
                max: empty ? 0 : milliseconds(histogram.maxRecorded)
            )
        )
    }
}

extension LoadTestReport {
    /// The report as a human-readable table, one row per scenario and one for all of them.
    public var table: String {
        var lines: [String] = []
        let model = mode == "open" ? "open loop at \(formatNumber(targetRate ?? 0)) req/s" : "closed loop"
        lines.append(
            "\(target): \(model), \(connections) connections, \(threads) thread\(threads == 1 ? "" : "s"), "
                + "\(formatNumber(durationSeconds)) s measured after \(formatNumber(warmupSeconds)) s warm-up"
        )
        if let seeding {
            lines.append(
                "seeded \(seeding.users) users (\(seeding.createdUsers) new) and \(seeding.entries) entries in \(String(format: "%.1f", seeding.seconds)) s"
            )
        }
        if seedOnly { return lines.joined(separator: "\n") }
        let header = ["scenario", "requests", "errors", "req/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "errors by status"]
        var rows = [header]
        for summary in scenarios + [overall] {
            let latency = summary.latency
            rows.append([
                summary.scenario, String(summary.requests), String(summary.errors), String(format: "%.1f", summary.throughput),
                formatMilliseconds(latency.p50), formatMilliseconds(latency.p90), formatMilliseconds(latency.p99),
                formatMilliseconds(latency.p999), formatMilliseconds(latency.max),
                summary.errorsByStatus.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "),
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            let cells = row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                // Names and the error list are left-aligned, numbers right-aligned.
                return column == 0 || column == row.count - 1 ? cell + padding : padding + cell
            }
            lines.append(cells.joined(separator: "  ").trimmingWhitespace())
        }
        return lines.joined(separator: "\n")
    }
}

/// A millisecond value with 3 decimals.
func formatMilliseconds(_ value: Double) -> String {
    String(format: "%.3f", value)
}

/// A number without a needless fraction: `10`, `0.05`, `1.5`.
func formatNumber(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
}
