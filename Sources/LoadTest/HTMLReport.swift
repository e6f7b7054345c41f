import Foundation

/// A run's report as one self-contained HTML page: the parameters, throughput and p50/p99 over time, the latency
/// distribution per scenario and the summary table. Charts are inline SVG and the style is inline CSS; the page
/// has no script and refers to no other file, so it opens offline in any browser. Every text is escaped, and
/// the markup is well-formed XML apart from the doctype.
public struct HTMLReport: Sendable {
    /// The run's summary, parameters and timeline.
    public var report: LoadTestReport
    /// The latency distributions of the scenarios in mix order, then `overall`.
    public var distributions: [LatencyDistribution]
    /// When the report was written, shown in UTC.
    public var writtenAt: Date

    /// Creates the page's content.
    public init(report: LoadTestReport, distributions: [LatencyDistribution], writtenAt: Date) {
        self.report = report
        self.distributions = distributions
        self.writtenAt = writtenAt
    }

    /// The page.
    public var html: String {
        let charts = ReportCharts(report: report, distributions: distributions)
        let title = "weighin load test: \(report.target)"
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8"/>
            <meta name="viewport" content="width=device-width, initial-scale=1"/>
            <title>\(escapeHTML(title))</title>
            <style>\(Self.style)</style>
            </head>
            <body>
            <h1>\(escapeHTML(title))</h1>
            <p class="headline">\(escapeHTML(headline))</p>

            """
        out += parameters
        if report.timeline.intervals.isEmpty {
            out += "<p>No request completed in the measured period, so there is nothing to chart.</p>\n"
        } else {
            out += figure(
                "Throughput over time",
                charts.throughput.svg,
                "Requests completed in each \(formatNumber(report.timeline.intervalSeconds)) s interval (failed ones included), "
                    + "and the errors among them. A stall shows as a drop, a slope as a trend."
                    + (report.mode == "open" ? " The dashed line is the open loop's target rate." : "")
            )
            out += figure(
                "Latency over time",
                charts.latencyOverTime.svg,
                "The median (p50) and 99th percentile (p99) of the requests completed in each interval, within 6 %. "
                    + (report.mode == "open"
                        ? "Open loop: latency counts from each request's intended send time, so queueing is included."
                        : "Closed loop: latency counts from the moment each request was sent.")
            )
            out += figure(
                "Latency distribution per scenario",
                charts.distribution.svg,
                "Latency at percentiles from p50 to p99.99, from each scenario's HDR histogram (3 significant digits); "
                    + "a curve stops at the highest percentile its count resolves (p99.9 needs 1,000 requests)."
            )
        }
        out += summaryTable
        out += """
            <p class="note">Written by <code>weighin loadtest --html</code> at \(escapeHTML(Self.timestamp(writtenAt))). \
            Intervals count requests by completion time and add up to the table's totals; \
            hover over a point for its value.</p>
            </body>
            </html>

            """
        return out
    }

    /// One line with the overall figures.
    private var headline: String {
        let overall = report.overall
        let rate = String(format: "%.1f", overall.throughput)
        let errorShare = String(format: "%.3f", overall.errorRate * 100)
        return "\(grouped(overall.requests)) requests, \(rate) req/s, \(grouped(overall.errors)) errors (\(errorShare) %), "
            + "p50 \(formatMilliseconds(overall.latency.p50)) ms, p99 \(formatMilliseconds(overall.latency.p99)) ms"
    }

    private var parameters: String {
        var rows: [(String, String)] = [("URL", report.target)]
        if let rate = report.targetRate, report.mode == "open" {
            rows.append(("mode", "open loop at \(formatNumber(rate)) req/s (latency from the intended send time)"))
        } else {
            rows.append(("mode", "closed loop (each connection sends when its previous answer is complete)"))
        }
        rows.append(("connections", "\(report.connections) on \(report.threads) event-loop thread\(report.threads == 1 ? "" : "s")"))
        rows.append(("duration", "\(formatNumber(report.durationSeconds)) s measured after \(formatNumber(report.warmupSeconds)) s warm-up"))
        rows.append(("mix", report.mix))
        if let seeding = report.seeding {
            rows.append((
                "seeding",
                "\(grouped(seeding.users)) users (\(grouped(seeding.createdUsers)) new), \(grouped(seeding.entries)) entries in "
                    + "\(String(format: "%.1f", seeding.seconds)) s"
            ))
        } else {
            rows.append(("seeding", "none (--token or --path)"))
        }
        var out = "<h2>Parameters</h2>\n<table class=\"parameters\">\n"
        for (name, value) in rows {
            out += "<tr><th scope=\"row\">\(escapeHTML(name))</th><td>\(escapeHTML(value))</td></tr>\n"
        }
        return out + "</table>\n"
    }

    private func figure(_ heading: String, _ svg: String, _ caption: String) -> String {
        "<h2>\(escapeHTML(heading))</h2>\n<figure>\n\(svg)\n<figcaption>\(escapeHTML(caption))</figcaption>\n</figure>\n"
    }

    private var summaryTable: String {
        let headers = ["scenario", "requests", "errors", "error rate", "req/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "errors by status"]
        var out = "<h2>Summary</h2>\n<div class=\"scroll\">\n<table class=\"summary\">\n<thead><tr>"
        for header in headers {
            out += "<th scope=\"col\">\(escapeHTML(header))</th>"
        }
        out += "</tr></thead>\n<tbody>\n"
        for (summary, isOverall) in report.scenarios.map({ ($0, false) }) + [(report.overall, true)] {
            let latency = summary.latency
            let cells = [
                grouped(summary.requests), grouped(summary.errors), String(format: "%.3f %%", summary.errorRate * 100),
                String(format: "%.1f", summary.throughput), formatMilliseconds(latency.p50), formatMilliseconds(latency.p90),
                formatMilliseconds(latency.p99), formatMilliseconds(latency.p999), formatMilliseconds(latency.max),
            ]
            let errors = summary.errorsByStatus.sorted { $0.key < $1.key }.map { "\($0.key): \(grouped($0.value))" }.joined(separator: ", ")
            out += isOverall ? "<tr class=\"overall\">" : "<tr>"
            out += "<th scope=\"row\">\(escapeHTML(summary.scenario))</th>"
            out += cells.map { "<td class=\"number\">\(escapeHTML($0))</td>" }.joined()
            out += "<td>\(escapeHTML(errors.isEmpty ? "none" : errors))</td></tr>\n"
        }
        return out + "</tbody>\n</table>\n</div>\n"
    }

    /// `52,000`.
    private func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return value < 0 ? "-" + out : out
    }

    /// `2026-12-03 14:30:05 UTC`.
    private static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d UTC",
            parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0
        )
    }

    /// The page's style: system fonts, tables with right-aligned figures (the summary scrolls on its own on a
    /// narrow screen), charts as wide as the page.
    private static let style = """

        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
               color: #1a1a1a; background: #fff; margin: 24px auto; max-width: 1100px; padding: 0 16px; }
        h1 { font-size: 22px; margin: 0 0 4px; overflow-wrap: anywhere; }
        h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
        .headline { font-size: 16px; margin: 4px 0 16px; }
        table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
        th, td { padding: 4px 10px; border-bottom: 1px solid #e5e5e5; text-align: left; vertical-align: top; }
        .parameters th { color: #555; font-weight: 600; white-space: nowrap; }
        .parameters td { overflow-wrap: anywhere; }
        .summary thead th { background: #f3f3f3; white-space: nowrap; }
        .summary td.number { text-align: right; white-space: nowrap; }
        .summary tr.overall { font-weight: 600; background: #fafafa; }
        .scroll { overflow-x: auto; }
        figure { margin: 0; }
        figcaption { color: #555; font-size: 13px; margin-top: 4px; }
        svg.chart { width: 100%; height: auto; display: block; font-size: 12px; }
        svg.chart text { fill: #333; }
        svg.chart .axis-title { font-size: 13px; fill: #111; }
        svg.chart .grid { stroke: #e8e8e8; }
        svg.chart .frame, svg.chart .tick { stroke: #888; }
        svg.chart .band { fill: #f0f0f0; }
        svg.chart .band-label { fill: #777; font-style: italic; }
        .note { color: #666; font-size: 12px; margin-top: 24px; }

        """
}
