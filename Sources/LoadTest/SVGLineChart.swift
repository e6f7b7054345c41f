import Foundation

/// A line chart drawn as inline SVG: axes with titles and ticks, grid lines, a legend, shaded x ranges and
/// horizontal reference lines. Every text it embeds is escaped.
struct SVGLineChart {
    /// One line; a `nil` y leaves a gap.
    struct Series {
        var name: String
        var colour: String
        var points: [(x: Double, y: Double?)]
        var lineWidth = 2.0
        /// Describes a point for the hover title of its dot, such as `12.5 s: 5230 req/s`. Without it, or when
        /// the line has more than `maximumMarkedPoints`, points get no dots (dense curves read better without).
        var describe: ((_ x: Double, _ y: Double) -> String)?
    }

    /// A shaded range of x, such as the drain after the measured period.
    struct Band {
        var from: Double
        var to: Double
        var label: String
    }

    /// A dashed horizontal line, such as the open loop's target rate.
    struct Rule {
        var y: Double
        var label: String
        var colour: String
    }

    /// What the chart shows, for screen readers.
    var description: String
    var x: ChartAxis
    var y: ChartAxis
    var series: [Series]
    var bands: [Band] = []
    var rules: [Rule] = []

    /// Points are marked with dots when a line has at most this many.
    static let maximumMarkedPoints = 90

    private let width = 960.0
    private let plotLeft = 72.0
    /// Room on the right for half of the last tick label.
    private let plotRight = 916.0
    private let plotHeight = 260.0
    private let legendRowHeight = 20.0

    /// The chart as an `<svg>` element.
    var svg: String {
        let legend = legendItems()
        let rows = legend.map(\.row).max().map { $0 + 1 } ?? 0
        let plotTop = 14 + Double(rows) * legendRowHeight + 8
        let plotBottom = plotTop + plotHeight
        let height = plotBottom + 52
        let frame = Frame(left: plotLeft, right: plotRight, top: plotTop, bottom: plotBottom)
        var out = "<svg class=\"chart\" viewBox=\"0 0 \(number(width)) \(number(height))\" role=\"img\" aria-label=\"\(escapeHTML(description))\">\n"
        out += "<title>\(escapeHTML(description))</title>\n"
        for band in bands {
            let left = frame.x(band.from, on: x)
            let right = frame.x(band.to, on: x)
            guard right > left else { continue }
            out += "<rect class=\"band\" x=\"\(number(left))\" y=\"\(number(plotTop))\" width=\"\(number(right - left))\" height=\"\(number(plotHeight))\"/>\n"
            out += "<text class=\"band-label\" x=\"\(number((left + right) / 2))\" y=\"\(number(plotTop + 14))\" text-anchor=\"middle\">\(escapeHTML(band.label))</text>\n"
        }
        out += axes(frame)
        for rule in rules {
            let ruleY = frame.y(rule.y, on: y)
            out += "<line x1=\"\(number(plotLeft))\" x2=\"\(number(plotRight))\" y1=\"\(number(ruleY))\" y2=\"\(number(ruleY))\" stroke=\"\(escapeHTML(rule.colour))\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n"
        }
        for line in series {
            out += path(of: line, in: frame)
        }
        out += legendMarkup(legend)
        out += "</svg>"
        return out
    }

    /// The plot area in SVG coordinates.
    private struct Frame {
        var left, right, top, bottom: Double

        func x(_ value: Double, on axis: ChartAxis) -> Double {
            left + axis.fraction(value) * (right - left)
        }

        func y(_ value: Double, on axis: ChartAxis) -> Double {
            bottom - axis.fraction(value) * (bottom - top)
        }
    }

    private func axes(_ frame: Frame) -> String {
        var out = "<g class=\"axis\">\n"
        for tick in y.ticks {
            let position = frame.y(tick.value, on: y)
            out += "<line class=\"grid\" x1=\"\(number(frame.left))\" x2=\"\(number(frame.right))\" y1=\"\(number(position))\" y2=\"\(number(position))\"/>\n"
            out += "<text x=\"\(number(frame.left - 8))\" y=\"\(number(position + 4))\" text-anchor=\"end\">\(escapeHTML(tick.label))</text>\n"
        }
        for tick in x.ticks {
            let position = frame.x(tick.value, on: x)
            out += "<line class=\"tick\" x1=\"\(number(position))\" x2=\"\(number(position))\" y1=\"\(number(frame.bottom))\" y2=\"\(number(frame.bottom + 5))\"/>\n"
            out += "<text x=\"\(number(position))\" y=\"\(number(frame.bottom + 20))\" text-anchor=\"middle\">\(escapeHTML(tick.label))</text>\n"
        }
        out += "<line class=\"frame\" x1=\"\(number(frame.left))\" x2=\"\(number(frame.right))\" y1=\"\(number(frame.bottom))\" y2=\"\(number(frame.bottom))\"/>\n"
        out += "<line class=\"frame\" x1=\"\(number(frame.left))\" x2=\"\(number(frame.left))\" y1=\"\(number(frame.top))\" y2=\"\(number(frame.bottom))\"/>\n"
        out += "<text class=\"axis-title\" x=\"\(number((frame.left + frame.right) / 2))\" y=\"\(number(frame.bottom + 42))\" text-anchor=\"middle\">\(escapeHTML(x.title))</text>\n"
        let middle = number((frame.top + frame.bottom) / 2)
        out += "<text class=\"axis-title\" x=\"16\" y=\"\(middle)\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(middle))\">\(escapeHTML(y.title))</text>\n"
        return out + "</g>\n"
    }

    /// The line as one `<path>` (a gap for each `nil`, a round dot for a point alone between gaps), with a dot
    /// per point when there are few.
    private func path(of line: Series, in frame: Frame) -> String {
        var segments: [[String]] = [[]]
        var dots = ""
        let describe = line.points.count <= Self.maximumMarkedPoints ? line.describe : nil
        for point in line.points {
            guard let value = point.y else {
                if !segments[segments.count - 1].isEmpty { segments.append([]) }
                continue
            }
            let px = number(frame.x(point.x, on: x))
            let py = number(frame.y(value, on: y))
            segments[segments.count - 1].append("\(px) \(py)")
            if let describe {
                dots += "<circle cx=\"\(px)\" cy=\"\(py)\" r=\"3\"><title>\(escapeHTML(describe(point.x, value)))</title></circle>"
            }
        }
        let commands = segments.filter { !$0.isEmpty }.map { segment in
            "M" + segment.joined(separator: " L") + (segment.count == 1 ? " l0 0" : "")
        }
        guard !commands.isEmpty else { return "" }
        let colour = escapeHTML(line.colour)
        var out = "<path d=\"\(commands.joined(separator: " "))\" fill=\"none\" stroke=\"\(colour)\" "
            + "stroke-width=\"\(number(line.lineWidth))\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n"
        if !dots.isEmpty {
            out += "<g fill=\"\(colour)\">\(dots)</g>\n"
        }
        return out
    }

    /// A legend entry and where it goes.
    private struct LegendItem {
        var name: String
        var colour: String
        var dashed: Bool
        var row: Int
        var left: Double
    }

    /// The series and rules laid out left to right, wrapping onto further rows.
    private func legendItems() -> [LegendItem] {
        let entries = series.map { ($0.name, $0.colour, false) } + rules.map { ($0.label, $0.colour, true) }
        var items: [LegendItem] = []
        var row = 0
        var left = plotLeft
        for (name, colour, dashed) in entries {
            // About 7 px per character at the legend's 12 px font.
            let itemWidth = 34 + Double(name.count) * 7 + 18
            if left + itemWidth > plotRight, left > plotLeft {
                row += 1
                left = plotLeft
            }
            items.append(LegendItem(name: name, colour: colour, dashed: dashed, row: row, left: left))
            left += itemWidth
        }
        return items
    }

    private func legendMarkup(_ items: [LegendItem]) -> String {
        guard !items.isEmpty else { return "" }
        var out = "<g class=\"legend\">\n"
        for item in items {
            let rowY = 14 + Double(item.row) * legendRowHeight
            let dash = item.dashed ? " stroke-dasharray=\"6 4\"" : ""
            out += "<line x1=\"\(number(item.left))\" x2=\"\(number(item.left + 26))\" y1=\"\(number(rowY))\" y2=\"\(number(rowY))\" stroke=\"\(escapeHTML(item.colour))\" stroke-width=\"3\"\(dash)/>"
            out += "<text x=\"\(number(item.left + 32))\" y=\"\(number(rowY + 4))\">\(escapeHTML(item.name))</text>\n"
        }
        return out + "</g>\n"
    }

    /// A coordinate with at most one decimal.
    private func number(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }
}
