/// Limits that make a run fail, so that the load test can gate a deployment.
public struct LoadTestThresholds: Sendable, Equatable {
    /// The highest acceptable overall p99 latency, in milliseconds.
    public var maxP99Milliseconds: Double?
    /// The highest acceptable overall error rate, a fraction from 0 to 1.
    public var maxErrorRate: Double?

    /// Creates thresholds; `nil` leaves a limit unchecked.
    public init(maxP99Milliseconds: Double? = nil, maxErrorRate: Double? = nil) {
        self.maxP99Milliseconds = maxP99Milliseconds
        self.maxErrorRate = maxErrorRate
    }

    /// The limits that `report` breaks, empty when it passes.
    ///
    /// A run that measured no request at all breaks any limit that is set, since it proves nothing.
    public func violations(in report: LoadTestReport) -> [ThresholdViolation] {
        guard maxP99Milliseconds != nil || maxErrorRate != nil, !report.seedOnly else { return [] }
        let overall = report.overall
        guard overall.requests > 0 else { return [.noRequests] }
        var violations: [ThresholdViolation] = []
        if let limit = maxP99Milliseconds, overall.latency.p99 > limit {
            violations.append(.p99(actual: overall.latency.p99, limit: limit))
        }
        if let limit = maxErrorRate, overall.errorRate > limit {
            violations.append(.errorRate(actual: overall.errorRate, limit: limit))
        }
        return violations
    }
}

/// A threshold that a run broke.
public enum ThresholdViolation: Sendable, Equatable, CustomStringConvertible {
    /// The overall p99 latency in milliseconds was above the limit.
    case p99(actual: Double, limit: Double)
    /// The overall error rate was above the limit.
    case errorRate(actual: Double, limit: Double)
    /// No request was measured, so no threshold could be checked.
    case noRequests

    public var description: String {
        switch self {
        case .p99(let actual, let limit):
            "p99 latency \(formatMilliseconds(actual)) ms is above --max-p99 \(formatNumber(limit)) ms"
        case .errorRate(let actual, let limit):
            "error rate \(formatNumber(actual)) is above --max-error-rate \(formatNumber(limit))"
        case .noRequests:
            "no request was measured, so the thresholds cannot pass"
        }
    }
}
