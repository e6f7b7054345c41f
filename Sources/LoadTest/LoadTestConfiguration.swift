/// How requests are paced.
public enum LoadModel: Sendable, Equatable {
    /// Each of `connections` keep-alive connections sends its next request as soon as the previous answer is complete.
    case closedLoop(connections: Int)
    /// Requests are due at evenly spaced intended times, `requestsPerSecond` in all, spread over `connections`.
    ///
    /// Latency counts from the intended time, so waiting for a free connection is part of it
    /// and the numbers are free of coordinated omission.
    case openLoop(requestsPerSecond: Double, connections: Int)

    /// The number of connections either model opens.
    public var connections: Int {
        switch self {
        case .closedLoop(let connections), .openLoop(_, let connections): connections
        }
    }
}

/// Everything a load test run needs; the defaults match the command's.
public struct LoadTestConfiguration: Sendable {
    /// The base URL under test.
    public var target: LoadTestTarget
    /// How many users to seed.
    public var users = 100
    /// How many entries each new user gets through one import.
    public var entriesPerUser = 30
    /// How requests are paced.
    public var load = LoadModel.closedLoop(connections: 32)
    /// The measured period.
    public var duration = Duration.seconds(10)
    /// The period before the measured one, under the same load, whose results are discarded.
    public var warmup = Duration.seconds(2)
    /// The relative weights of the scenarios.
    public var mix = ScenarioMix.standard
    /// Where to write the report as JSON, if anywhere.
    public var jsonOutputPath: String?
    /// Where to write the report as a self-contained HTML page, if anywhere.
    public var htmlOutputPath: String?
    /// Limits that fail the run.
    public var thresholds = LoadTestThresholds()
    /// Seed users and entries, then stop without load.
    public var seedOnly = false
    /// The password of every seeded user.
    public var password = "loadtest-password"
    /// The email prefix: users are `PREFIX-<n>@loadtest.invalid`; reusing a prefix reuses its users.
    public var emailPrefix = "lt-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
    /// A bearer token to use for every request instead of seeding users.
    public var token: String?
    /// A path (below the base URL) to `GET` instead of the scenario mix, with no seeding.
    ///
    /// It measures one URL, or the generator itself against a trivial server.
    public var rawPath: String?
    /// The number of event-loop threads that carry the connections.
    public var threads = 1
    /// How long one request may take before it counts as a `timeout` error.
    public var requestTimeout = Duration.seconds(10)
    /// How long requests still in flight at the end of the measured period may take to finish.
    public var drainTimeout = Duration.seconds(5)
    /// How many seeding requests are in flight at once.
    public var seedConcurrency = 8
    /// How many due requests may wait for a free connection in the open loop before more count as `queue_full`.
    public var maxQueuedRequests = 100_000

    /// Creates a configuration for `target` with default values.
    public init(target: LoadTestTarget) {
        self.target = target
    }

    /// Checks the values against their ranges.
    public func validate() throws(LoadTestError) {
        if token == nil, rawPath == nil, !(1...1_000_000).contains(users) {
            throw LoadTestError("--users must be from 1 to 1000000")
        }
        guard (0...10_000).contains(entriesPerUser) else { throw LoadTestError("--entries-per-user must be from 0 to 10000") }
        guard (1...100_000).contains(load.connections) else { throw LoadTestError("--connections must be from 1 to 100000") }
        if case .openLoop(let rate, _) = load, !(rate > 0 && rate <= 10_000_000) {
            throw LoadTestError("--rate must be above 0 and at most 10000000 requests per second")
        }
        guard duration > .zero else { throw LoadTestError("--duration must be above 0") }
        guard warmup >= .zero else { throw LoadTestError("--warmup must not be negative") }
        guard (1...256).contains(threads) else { throw LoadTestError("--threads must be from 1 to 256") }
        guard requestTimeout > .zero else { throw LoadTestError("--timeout must be above 0") }
        if let limit = thresholds.maxP99Milliseconds, !(limit > 0 && limit.isFinite) {
            throw LoadTestError("--max-p99 must be a number of milliseconds above 0")
        }
        if let limit = thresholds.maxErrorRate, !(0...1).contains(limit) {
            throw LoadTestError("--max-error-rate must be a fraction from 0 to 1")
        }
        guard !password.isEmpty else { throw LoadTestError("--password must not be empty") }
        guard !emailPrefix.isEmpty, !emailPrefix.contains("@"), !emailPrefix.contains(where: \.isWhitespace) else {
            throw LoadTestError("--email-prefix must be non-empty, without spaces or @")
        }
        if let rawPath, !rawPath.hasPrefix("/") || rawPath.contains(where: \.isWhitespace) {
            throw LoadTestError("--path must start with / and contain no spaces")
        }
        if let token, token.isEmpty || token.contains(where: { $0.isWhitespace || $0.isNewline }) {
            throw LoadTestError("--token must be non-empty and contain no spaces")
        }
        if seedOnly, htmlOutputPath != nil {
            throw LoadTestError("--html charts a load run: it cannot be combined with --seed-only")
        }
        if seedOnly, token != nil || rawPath != nil {
            throw LoadTestError("--seed-only cannot be combined with --token or --path")
        }
        if token == nil, rawPath == nil, entriesPerUser == 0, mix.weight(of: .get) > 0 {
            throw LoadTestError("the get scenario needs seeded entries: raise --entries-per-user or drop get from --mix")
        }
    }
}
