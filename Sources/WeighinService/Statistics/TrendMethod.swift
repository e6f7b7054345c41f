import Foundation

/// How a trend smooths the days' values: a moving mean over a window of calendar days, an exponential moving
/// average, or Holt's linear smoothing (level and slope).
public enum TrendMethod: Sendable, Equatable {
    case window(days: Int)
    case ema(smoothing: Decimal)
    case holt(smoothing: Decimal, slopeSmoothing: Decimal)

    /// The method names, as the `method` parameter takes them; the first is the default.
    public static let names = ["window", "ema", "holt"]
    /// The allowed `smoothing` and `slope_smoothing`.
    public static let smoothingRange: ClosedRange<Decimal> = Decimal(string: "0.01")!...1
    /// Their default.
    public static let defaultSmoothing = Decimal(string: "0.1")!
    /// Days before `from` from which `ema` and `holt` start smoothing, so a range that begins mid-history is
    /// already smoothed.
    public static let runIn = 90

    public var name: String {
        switch self {
        case .window: "window"
        case .ema: "ema"
        case .holt: "holt"
        }
    }
}
