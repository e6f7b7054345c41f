import Foundation

/// One axis of an SVG chart: its title, range, scale and labelled ticks.
struct ChartAxis {
    /// One labelled tick.
    struct Tick {
        var value: Double
        var label: String
    }

    /// The axis title, units included.
    var title: String
    var lower: Double
    var upper: Double
    var logarithmic: Bool
    var ticks: [Tick]

    /// Where `value` lies between the lower (0) and upper (1) end, clamped to the axis.
    func fraction(_ value: Double) -> Double {
        let position: Double
        if logarithmic {
            position = (log10(Swift.max(value, lower)) - log10(lower)) / (log10(upper) - log10(lower))
        } else {
            position = (value - lower) / (upper - lower)
        }
        return Swift.min(1, Swift.max(0, position))
    }

    /// A linear axis from 0 to `maximum` with about 5 ticks at 1, 2, 2.5 or 5 times a power of ten.
    ///
    /// With `roundUp` the axis ends on the tick at or above `maximum` (for values); without it, it ends at
    /// `maximum` exactly (for time).
    static func linear(_ title: String, upTo maximum: Double, roundUp: Bool = true) -> ChartAxis {
        let top = maximum > 0 && maximum.isFinite ? maximum : 1
        let step = niceStep(top / 5)
        let upper = roundUp ? (top / step).rounded(.up) * step : top
        let count = Int((upper / step + 1e-9).rounded(.down))
        let ticks = (0...count).map { Tick(value: Double($0) * step, label: tickLabel(Double($0) * step)) }
        return ChartAxis(title: title, lower: 0, upper: upper, logarithmic: false, ticks: ticks)
    }

    /// A logarithmic axis over whole decades around `minimum...maximum` (both above 0), with ticks at each
    /// power of ten, and at 2 and 5 times it when the axis spans at most 3 decades.
    static func logarithmic(_ title: String, from minimum: Double, to maximum: Double) -> ChartAxis {
        let low = Foundation.pow(10, (log10(Swift.max(minimum, 1e-3))).rounded(.down))
        var high = Foundation.pow(10, (log10(Swift.max(maximum, minimum, 1e-3))).rounded(.up))
        if high <= low { high = low * 10 }
        let decades = Int(log10(high / low).rounded())
        let multiples: [Double] = decades <= 3 ? [1, 2, 5] : [1]
        var ticks: [Tick] = []
        for decade in 0...decades {
            let base = low * Foundation.pow(10, Double(decade))
            for multiple in multiples where base * multiple <= high * 1.000001 {
                ticks.append(Tick(value: base * multiple, label: tickLabel(base * multiple)))
            }
        }
        return ChartAxis(title: title, lower: low, upper: high, logarithmic: true, ticks: ticks)
    }

    /// The smallest of 1, 2, 2.5 and 5 times a power of ten at or above `rough`.
    static func niceStep(_ rough: Double) -> Double {
        let power = Foundation.pow(10, log10(rough).rounded(.down))
        for multiple in [1, 2, 2.5, 5] where multiple * power >= rough * 0.999_999 {
            return multiple * power
        }
        return 10 * power
    }

    /// A short tick label: `0.05`, `2.5`, `800`, `20k`, `1.5M`.
    static func tickLabel(_ value: Double) -> String {
        if abs(value) >= 1_000_000 { return trimmed(value / 1_000_000) + "M" }
        if abs(value) >= 10_000 || (abs(value) >= 1_000 && value.truncatingRemainder(dividingBy: 1_000) == 0) {
            return trimmed(value / 1_000) + "k"
        }
        return trimmed(value)
    }

    /// A number with at most 3 decimals and no trailing zeros.
    private static func trimmed(_ value: Double) -> String {
        var text = String(format: "%.3f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
