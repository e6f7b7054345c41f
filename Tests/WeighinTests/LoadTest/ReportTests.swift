import Foundation
import Testing

@testable import LoadTest

@Suite("Latency statistics, report and thresholds")
struct ReportTests {
    /// One request per millisecond value from 1 ms to 1000 ms.
    private func uniformStatistics() -> RunStatistics {
        var statistics = RunStatistics()
        for milliseconds in 1...1000 {
            statistics.record(.list, status: 200, latencyNanoseconds: Int64(milliseconds) * 1_000_000, completedAt: 0)
        }
        return statistics
    }

    @Test("Percentiles come from the HDR histogram with 3 significant digits, in milliseconds")
    func percentiles() {
        let summary = ScenarioSummary(name: "list", statistics: uniformStatistics().scenarios[Scenario.list.ordinal], durationSeconds: 10)
        #expect(summary.requests == 1000)
        #expect(summary.errors == 0 && summary.errorRate == 0)
        #expect(summary.throughput == 100)
        #expect(abs(summary.latency.p50 - 500) <= 0.5)
        #expect(abs(summary.latency.p90 - 900) <= 0.9)
        #expect(abs(summary.latency.p99 - 990) <= 1)
        #expect(abs(summary.latency.p999 - 999) <= 1)
        #expect(summary.latency.max == 1000)
    }

    @Test("Microsecond resolution below a millisecond")
    func microseconds() {
        var statistics = RunStatistics()
        statistics.record(.me, status: 200, latencyNanoseconds: 123_456, completedAt: 0)
        let summary = ScenarioSummary(name: "me", statistics: statistics.overall, durationSeconds: 1)
        #expect(summary.latency.p50 == 0.123)
        #expect(summary.latency.max == 0.123)
    }

    @Test("Errors are counted by status and by failure kind; a timeout keeps its latency, a refused connection has none")
    func errors() {
        var statistics = RunStatistics()
        statistics.record(.create, status: 201, latencyNanoseconds: 1_000_000, completedAt: 0)
        statistics.record(.create, status: 200, latencyNanoseconds: 1_000_000, completedAt: 0)
        statistics.record(.stats, status: 503, latencyNanoseconds: 2_000_000, completedAt: 0)
        statistics.record(.stats, failure: .timeout, latencyNanoseconds: 10_000_000_000, completedAt: 0)
        statistics.record(.stats, failure: .connect, latencyNanoseconds: 5_000_000, completedAt: 0)
        #expect(statistics.scenarios[Scenario.create.ordinal].errors == ["200": 1])
        #expect(statistics.scenarios[Scenario.stats.ordinal].errors == ["503": 1, "timeout": 1, "connect": 1])
        #expect(statistics.overall.requests == 5)
        #expect(statistics.overall.errorCount == 4)
        #expect(statistics.overall.histogram.totalCount == 4)
        let summary = ScenarioSummary(name: "overall", statistics: statistics.overall, durationSeconds: 1)
        #expect(summary.errorRate == 0.8)
        #expect(summary.latency.max >= 9_990)
    }

    @Test("Merging loops adds counts, errors and histograms")
    func merge() {
        var merged = uniformStatistics()
        var other = RunStatistics()
        other.record(.list, status: 500, latencyNanoseconds: 5_000_000_000, completedAt: 0)
        merged.merge(other)
        #expect(merged.overall.requests == 1001)
        #expect(merged.scenarios[Scenario.list.ordinal].errors == ["500": 1])
        #expect(merged.overall.histogram.maxRecorded >= 4_990_000)
    }

    @Test("An empty histogram reports zeros")
    func empty() {
        let summary = ScenarioSummary(name: "get", statistics: LatencyStatistics(), durationSeconds: 1)
        #expect(summary.latency == LatencySummary(p50: 0, p90: 0, p99: 0, p999: 0, max: 0))
        #expect(summary.errorRate == 0 && summary.throughput == 0)
    }

    private func report(p99: Double, requests: Int, errors: Int) -> LoadTestReport {
        let overall = ScenarioSummary(
            scenario: "overall", requests: requests, errors: errors,
            errorRate: requests == 0 ? 0 : Double(errors) / Double(requests),
            errorsByStatus: errors == 0 ? [:] : ["503": errors], throughput: Double(requests),
            latency: LatencySummary(p50: 1, p90: 2, p99: p99, p999: p99, max: p99)
        )
        return LoadTestReport(
            target: "http://127.0.0.1:18700", mode: "closed", connections: 1, threads: 1, targetRate: nil,
            warmupSeconds: 0, durationSeconds: 1, mix: "list=1", seedOnly: false, seeding: nil,
            overall: overall, scenarios: [overall], timeline: .empty
        )
    }

    @Test("Thresholds report exactly the limits that broke")
    func thresholds() {
        let both = LoadTestThresholds(maxP99Milliseconds: 100, maxErrorRate: 0.01)
        #expect(both.violations(in: report(p99: 50, requests: 1000, errors: 10)).isEmpty)
        #expect(both.violations(in: report(p99: 150, requests: 1000, errors: 10)) == [.p99(actual: 150, limit: 100)])
        #expect(both.violations(in: report(p99: 50, requests: 1000, errors: 11)) == [.errorRate(actual: 0.011, limit: 0.01)])
        #expect(both.violations(in: report(p99: 150, requests: 100, errors: 50)).count == 2)
        #expect(both.violations(in: report(p99: 0, requests: 0, errors: 0)) == [.noRequests])
        #expect(LoadTestThresholds().violations(in: report(p99: 1e6, requests: 10, errors: 10)).isEmpty)
        #expect(ThresholdViolation.p99(actual: 150.5, limit: 100).description == "p99 latency 150.500 ms is above --max-p99 100 ms")
    }

    @Test("The JSON report uses the documented snake_case shape and round-trips")
    func json() throws {
        let original = report(p99: 12.5, requests: 10, errors: 1)
        let data = try original.jsonData()
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == [
            "target", "mode", "connections", "threads", "target_rate", "warmup_seconds", "duration_seconds", "mix",
            "seed_only", "seeding", "overall", "scenarios", "timeline",
        ])
        #expect(object["target_rate"] is NSNull)
        let overall = try #require(object["overall"] as? [String: Any])
        #expect(Set(overall.keys) == ["scenario", "requests", "errors", "error_rate", "errors_by_status", "throughput", "latency_ms"])
        let latency = try #require(overall["latency_ms"] as? [String: Any])
        #expect(Set(latency.keys) == ["p50", "p90", "p99", "p99_9", "max"])
        #expect(try JSONDecoder().decode(LoadTestReport.self, from: data) == original)
    }

    @Test("The table has a row per scenario and one overall, with errors by status")
    func table() {
        let table = report(p99: 12.5, requests: 10, errors: 1).table
        let lines = table.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[1].hasPrefix("scenario"))
        #expect(lines[3].hasPrefix("overall"))
        #expect(lines[3].hasSuffix("503: 1"))
        #expect(table.contains("12.500"))
    }
}
