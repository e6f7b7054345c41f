import Foundation

/// A weight as entered: an exact decimal number and its unit.
///
/// Weights never pass through binary floating point; conversion multiplies or divides exactly by
/// 0.45359237 and rounds half away from zero to 2 decimals only when shown in the other unit.
public struct Weight: Sendable, Equatable {
    public var value: Decimal
    public var unit: WeightUnit

    public init(value: Decimal, unit: WeightUnit) {
        self.value = value
        self.unit = unit
    }

    /// The value shown in `display`: exactly as entered in its own unit, else converted and rounded to 2 decimals.
    public func shown(in display: WeightUnit) -> Decimal {
        display == unit ? value : Self.rounded(converted(to: display))
    }

    /// The exact value in `target` (to Decimal's 38 digits when dividing).
    public func converted(to target: WeightUnit) -> Decimal {
        switch (unit, target) {
        case (.kg, .kg), (.lb, .lb): value
        case (.lb, .kg): value * WeightUnit.kilogramsPerPound
        case (.kg, .lb): value / WeightUnit.kilogramsPerPound
        }
    }

    /// Rounds half away from zero to `places` decimals.
    public static func rounded(_ value: Decimal, places: Int = 2) -> Decimal {
        var input = value
        var output = Decimal()
        NSDecimalRound(&output, &input, places, .plain)
        return output
    }

    /// Whether `value` has at most `places` digits after the decimal point.
    public static func hasAtMost(places: Int, _ value: Decimal) -> Bool {
        rounded(value, places: places) == value
    }
}
