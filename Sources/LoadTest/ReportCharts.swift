import Foundation

/// The three charts of the HTML report, built from a run's report and latency distributions.
struct ReportCharts {
    var report: LoadTestReport
    var distributions: [LatencyDistribution]

    /// Colours told apart in colour and, by most with a colour-vision deficiency, in lightness (Tableau 10, with
    /// the grey left out); `overall` is drawn in black.
    static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#17becf"]
    static let overallColour = "#1a1a1a"
    static let errorColour = "#d62728"
    static let medianColour = "#1f77b4"
    static let tailColour = "#ff7f0e"

    private var timeline: RunTimeline { report.timeline }

    /// Where the time axis ends: the measured period, or the last interval when the drain ran past it.
    private var timeEnd: Double {
        Swift.max(report.durationSeconds, Double(timeline.intervals.count) * timeline.intervalSeconds)
    }

    private var timeAxis: ChartAxis {
        ChartAxis.linear("seconds since the measured period began", upTo: timeEnd, roundUp: false)
    }

    /// The drain after the measured period, shaded where requests still completed.
    private var drainBands: [SVGLineChart.Band] {
        timeEnd > report.durationSeconds ? [SVGLineChart.Band(from: report.durationSeconds, to: timeEnd, label: "drain")] : []
    }

    private func middle(of interval: TimelineInterval) -> Double {
        Swift.min(interval.start + timeline.intervalSeconds / 2, timeEnd)
    }

    /// Completed requests and errors per second, with the open loop's target rate.
    var throughput: SVGLineChart {
        let seconds = timeline.intervalSeconds
        let rates = timeline.intervals.map { Double($0.requests) / seconds }
        var rules: [SVGLineChart.Rule] = []
        if let target = report.targetRate {
            rules.append(SVGLineChart.Rule(y: target, label: "target \(ChartAxis.tickLabel(target)) req/s", colour: "#7f7f7f"))
        }
        let highest = (rates + rules.map(\.y)).max() ?? 0
        return SVGLineChart(
            description: "Throughput: requests completed per second over the run, and errors per second",
            x: timeAxis,
            y: .linear("requests per second", upTo: highest * 1.05),
            series: [
                series("requests/s", colour: Self.palette[0], values: rates, unit: "req/s"),
                series("errors/s", colour: Self.errorColour, values: timeline.intervals.map { Double($0.errors) / seconds }, unit: "errors/s"),
            ],
            bands: drainBands,
            rules: rules
        )
    }

    /// p50 and p99 of each interval, on a log axis when they span more than about one and a half decades.
    var latencyOverTime: SVGLineChart {
        let values = timeline.intervals.flatMap { [$0.p50, $0.p99] }.compactMap { $0 }
        let low = values.min() ?? 1
        let high = values.max() ?? 1
        let logarithmic = low > 0 && high / low > 30
        let title = logarithmic ? "latency (ms, log scale)" : "latency (ms)"
        return SVGLineChart(
            description: "Latency over the run: the median and the 99th percentile of each interval, in milliseconds",
            x: timeAxis,
            y: logarithmic ? .logarithmic(title, from: low, to: high) : .linear(title, upTo: high * 1.05),
            series: [
                series("p50", colour: Self.medianColour, values: timeline.intervals.map(\.p50), unit: "ms"),
                series("p99", colour: Self.tailColour, values: timeline.intervals.map(\.p99), unit: "ms"),
            ],
            bands: drainBands
        )
    }

    /// Latency against percentile for each scenario and overall, both axes logarithmic in effect.
    var distribution: SVGLineChart {
        let percentiles: [Double] = [50, 90, 99, 99.9, 99.99]
        let xAxis = ChartAxis(
            title: "percentile (requests at or below the latency)",
            lower: log10(2),
            upper: 4,
            logarithmic: false,
            ticks: percentiles.map { ChartAxis.Tick(value: Self.percentileX($0), label: ChartAxis.tickLabel($0) + " %") }
        )
        let values = distributions.flatMap { $0.points.map(\.milliseconds) }.filter { $0 > 0 }
        var lines: [SVGLineChart.Series] = []
        for (index, distribution) in distributions.enumerated() where !distribution.points.isEmpty {
            let isOverall = index == distributions.count - 1
            lines.append(
                SVGLineChart.Series(
                    name: distribution.name,
                    colour: isOverall ? Self.overallColour : Self.palette[index % Self.palette.count],
                    points: distribution.points.map { (Self.percentileX($0.percentile), $0.milliseconds) },
                    lineWidth: isOverall ? 3 : 2
                )
            )
        }
        return SVGLineChart(
            description: "Latency distribution per scenario: latency in milliseconds at percentiles from 50 to 99.99",
            x: xAxis,
            y: .logarithmic("latency (ms, log scale)", from: values.min() ?? 1, to: values.max() ?? 1),
            series: lines
        )
    }

    /// The x position of a percentile: log10(1 / (1 - p)), so that 90, 99, 99.9 and 99.99 are evenly spaced.
    static func percentileX(_ percentile: Double) -> Double {
        log10(1 / (1 - percentile / 100))
    }

    private func series(_ name: String, colour: String, values: [Double?], unit: String) -> SVGLineChart.Series {
        SVGLineChart.Series(
            name: name,
            colour: colour,
            points: zip(timeline.intervals, values).map { (middle(of: $0), $1) },
            describe: { x, y in "\(ChartAxis.tickLabel(x)) s: \(String(format: "%.1f", y)) \(unit)" }
        )
    }
}
