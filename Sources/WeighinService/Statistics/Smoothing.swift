import Foundation
import Primitives

/// A day's value, for the smoothing folds.
public struct DayValue: Sendable, Equatable {
    public let day: CalendarDate
    public let value: Double

    public init(day: CalendarDate, value: Double) {
        self.day = day
        self.value = value
    }
}

/// The trend recurrences of the contract, time-aware over gaps between days with entries; in binary floating point
/// (the answers are rounded to 0.01, and these stay far within that of the exact computation).
public enum Smoothing {
    /// The exponential moving average (The Hacker's Diet's on consecutive days): a₁ = x₁ and
    /// aₖ = aₖ₋₁ + (1 − (1 − α)^(dₖ − dₖ₋₁)) · (xₖ − aₖ₋₁), so a gap of g days weighs as g single days would.
    public static func ema(_ points: [DayValue], alpha: Double) -> [Double] {
        var averages: [Double] = []
        averages.reserveCapacity(points.count)
        for (index, point) in points.enumerated() {
            guard index > 0 else {
                averages.append(point.value)
                continue
            }
            let gap = Double(point.day.daysSinceEpoch - points[index - 1].day.daysSinceEpoch)
            let previous = averages[index - 1]
            averages.append(previous + (1 - pow(1 - alpha, gap)) * (point.value - previous))
        }
        return averages
    }

    /// Holt's linear smoothing per day: ℓ₁ = x₁, b₁ = 0; over a gap of g days
    /// ℓₖ = α·xₖ + (1 − α)·(ℓₖ₋₁ + g·bₖ₋₁) and bₖ = β·(ℓₖ − ℓₖ₋₁)/g + (1 − β)·bₖ₋₁. Returns the levels ℓ.
    public static func holt(_ points: [DayValue], alpha: Double, beta: Double) -> [Double] {
        var levels: [Double] = []
        levels.reserveCapacity(points.count)
        var slope = 0.0
        for (index, point) in points.enumerated() {
            guard index > 0 else {
                levels.append(point.value)
                continue
            }
            let gap = Double(point.day.daysSinceEpoch - points[index - 1].day.daysSinceEpoch)
            let previous = levels[index - 1]
            let level = alpha * point.value + (1 - alpha) * (previous + gap * slope)
            slope = beta * (level - previous) / gap + (1 - beta) * slope
            levels.append(level)
        }
        return levels
    }

    /// `value` rounded half away from zero to `places` decimals, as an exact decimal without trailing zeros.
    ///
    /// Built from its integer significand and exponent: a `Decimal` division cost about 8 µs, which made it most of
    /// the server's CPU for a five-year ema trend (two per day).
    public static func rounded(_ value: Double, places: Int = 2) -> Decimal {
        var units = Int64((value * pow(10, Double(places))).rounded(.toNearestOrAwayFromZero))
        var exponent = -places
        while exponent < 0, units != 0, units % 10 == 0 {
            units /= 10
            exponent += 1
        }
        return Decimal(
            sign: units < 0 ? .minus : .plus, exponent: units == 0 ? 0 : exponent,
            significand: Decimal(units.magnitude))
    }
}
