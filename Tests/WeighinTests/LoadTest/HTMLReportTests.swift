import Foundation
import Testing

@testable import LoadTest

@Suite("The HTML report")
struct HTMLReportTests {
    private static let hostile = "<script>alert(\"x\")</script><img src=x onerror=alert('y')>&amp"

    /// An open-loop report whose every text is hostile, with a timeline that has a stall and a drain.
    private func hostileReport() -> HTMLReport {
        func summary(_ name: String, requests: Int) -> ScenarioSummary {
            ScenarioSummary(
                scenario: name, requests: requests, errors: 2, errorRate: 2 / Double(requests),
                errorsByStatus: [Self.hostile: 2], throughput: Double(requests) / 3,
                latency: LatencySummary(p50: 1.5, p90: 3, p99: 12, p999: 40, max: 55)
            )
        }
        let timeline = RunTimeline(intervalSeconds: 1, intervals: [
            TimelineInterval(start: 0, requests: 100, errors: 0, p50: 1.5, p99: 9),
            TimelineInterval(start: 1, requests: 0, errors: 0, p50: nil, p99: nil),
            TimelineInterval(start: 2, requests: 180, errors: 2, p50: 2, p99: 40),
            TimelineInterval(start: 3, requests: 20, errors: 0, p50: 30, p99: 55),
        ])
        let report = LoadTestReport(
            target: "http://127.0.0.1:18500/" + Self.hostile, mode: "open", connections: 8, threads: 1, targetRate: 100,
            warmupSeconds: 0, durationSeconds: 3, mix: Self.hostile + "=1", seedOnly: false,
            seeding: SeedingSummary(users: 3, createdUsers: 3, entries: 30, seconds: 0.4),
            overall: summary("overall", requests: 300), scenarios: [summary(Self.hostile, requests: 300)], timeline: timeline
        )
        let points = [
            LatencyDistribution.Point(percentile: 50, milliseconds: 1.5), LatencyDistribution.Point(percentile: 99, milliseconds: 12),
        ]
        return HTMLReport(
            report: report,
            distributions: [
                LatencyDistribution(name: Self.hostile, count: 300, points: points),
                LatencyDistribution(name: "overall", count: 300, points: points),
            ],
            writtenAt: Date(timeIntervalSince1970: 1_796_300_000)
        )
    }

    @Test("The page is well-formed, has one SVG per chart and nothing from elsewhere")
    func selfContained() throws {
        let html = hostileReport().html
        let markup = try MarkupChecker(html)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(markup.tags.filter { $0.name == "svg" }.count == 3)
        #expect(markup.tags.filter { $0.name == "style" }.count == 1)
        let foreign: Set = ["script", "link", "img", "iframe", "object", "embed", "image", "use", "a", "base", "source"]
        #expect(markup.tags.allSatisfy { !foreign.contains($0.name) })
        #expect(markup.tags.allSatisfy { $0.attributes.keys.allSatisfy { !["src", "href", "xlink:href", "srcset", "action"].contains($0) && !$0.hasPrefix("on") } })
        #expect(!html.lowercased().contains("url("))
        #expect(!html.contains("@import"))
        // Each chart has a title, and axes with ticks and titles.
        #expect(html.contains("requests per second") && html.contains("seconds since the measured period began"))
        #expect(html.contains("latency (ms, log scale)"))
        #expect(html.contains(">99.9 %</text>"))
        #expect(html.contains("target 100 req/s"))
        #expect(html.contains(">drain</text>"))
        #expect(html.contains("2026-12-03 12:13:20 UTC"))
    }

    @Test("Hostile scenario, URL, mix and status texts are escaped wherever they appear")
    func escaping() throws {
        let html = hostileReport().html
        #expect(!html.contains(Self.hostile))
        #expect(!html.contains("<script"))
        let escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(&#39;y&#39;)&gt;&amp;amp"
        // The title, heading and URL row; the mix; the scenario row and its errors; the chart legend.
        #expect(html.components(separatedBy: escaped).count - 1 >= 7)
        #expect(escapeHTML("a\u{0}b\u{1B}c\td\n") == "abc\td\n")
    }

    @Test("A stall leaves a gap in the latency line and a zero in the throughput line")
    func stall() {
        let charts = ReportCharts(report: hostileReport().report, distributions: hostileReport().distributions)
        let throughput = charts.throughput
        #expect(throughput.series[0].points.map(\.y) == [100, 0, 180, 20])
        #expect(throughput.series[0].points.map(\.x) == [0.5, 1.5, 2.5, 3.5])
        #expect(throughput.series[1].points.map(\.y) == [0, 0, 2, 0])
        #expect(charts.latencyOverTime.series[0].points.map(\.y) == [1.5, nil, 2, 30])
        // p50 1.5 ms to p99 55 ms spans more than 30 times: the axis is logarithmic.
        #expect(charts.latencyOverTime.y.logarithmic)
        #expect(throughput.x.upper == 4 && throughput.bands.map(\.from) == [3])
    }

    @Test("Axes get round ticks with short labels")
    func axes() {
        let linear = ChartAxis.linear("req/s", upTo: 4_321)
        #expect(linear.upper == 5_000 && linear.ticks.map(\.value) == [0, 1_000, 2_000, 3_000, 4_000, 5_000])
        #expect(linear.ticks.map(\.label) == ["0", "1k", "2k", "3k", "4k", "5k"])
        let time = ChartAxis.linear("s", upTo: 23, roundUp: false)
        #expect(time.upper == 23 && time.ticks.map(\.value) == [0, 5, 10, 15, 20])
        let log = ChartAxis.logarithmic("ms", from: 0.3, to: 250)
        #expect(log.lower == 0.1 && log.upper == 1_000)
        #expect(log.ticks.map(\.label) == ["0.1", "1", "10", "100", "1k"])
        let narrow = ChartAxis.logarithmic("ms", from: 2, to: 40)
        #expect(narrow.ticks.map(\.label) == ["1", "2", "5", "10", "20", "50", "100"])
        #expect(abs(log.fraction(10) - 2.0 / 4.0) < 1e-9)
        #expect(ChartAxis.tickLabel(25_000) == "25k" && ChartAxis.tickLabel(2_500) == "2500" && ChartAxis.tickLabel(0.05) == "0.05")
    }
}
