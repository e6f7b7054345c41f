import Foundation
import Hummingbird
import Primitives
import WeighinService

/// Reads query parameters into typed values by the service's parsing rules, collecting every invalid one as a field
/// error.
struct QueryReader {
    private let parameters: [String: String]
    private var validator = Validator()
    /// Every parameter that could not be decoded.
    var errors: [FieldError] { validator.errors }

    init(_ request: Request) {
        var parameters: [String: String] = [:]
        for (key, value) in request.uri.queryParameters where parameters[String(key)] == nil {
            parameters[String(key)] = String(value)
        }
        self.parameters = parameters
    }

    /// A raw parameter.
    func string(_ name: String) -> String? {
        parameters[name]
    }

    /// `from` and `to`, inclusive dates; `from` after `to` is an error on `from`.
    mutating func dateRange() -> DateRange {
        let from = parameters["from"].flatMap { EntryRules.date($0, &validator, field: "from") }
        let to = parameters["to"].flatMap { EntryRules.date($0, &validator, field: "to") }
        return EntryRules.range(from: from, to: to, &validator)
    }

    /// A unit: `kg`, `lb` or `lbs`.
    mutating func unit(_ name: String = "unit") -> WeightUnit? {
        parameters[name].flatMap { EntryRules.unit($0, &validator, field: name) }
    }

    /// A whole number within `range`, `fallback` when absent.
    mutating func integer(_ name: String, in range: ClosedRange<Int>, default fallback: Int) -> Int {
        guard let raw = parameters[name] else { return fallback }
        guard raw.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let value = Int(raw),
            range.contains(value)
        else {
            validator.fail(name, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            return fallback
        }
        return value
    }

    /// A decimal number within `range` (read exactly), `fallback` when absent.
    mutating func decimal(_ name: String, in range: ClosedRange<Decimal>, default fallback: Decimal) -> Decimal {
        guard let raw = parameters[name] else { return fallback }
        guard let value = Decimal(exactText: raw.utf8), range.contains(value) else {
            validator.fail(name, "must be a number from \(range.lowerBound) to \(range.upperBound)")
            return fallback
        }
        return value
    }

    /// A trend's `method` with its own parameters: `window` (days), `smoothing` and `slope_smoothing`; the
    /// parameters of other methods are not used, but checked all the same.
    mutating func trendMethod() -> TrendMethod {
        let name = choice("method", TrendMethod.names, default: TrendMethod.names[0])
        // Every parameter given is checked, also one the method does not use: out of range is 422 naming it.
        let window = integer("window", in: StatisticsService.windows, default: StatisticsService.defaultWindow)
        let smoothing = decimal("smoothing", in: TrendMethod.smoothingRange, default: TrendMethod.defaultSmoothing)
        let slopeSmoothing = decimal(
            "slope_smoothing", in: TrendMethod.smoothingRange, default: TrendMethod.defaultSmoothing)
        switch name {
        case "ema": return .ema(smoothing: smoothing)
        case "holt": return .holt(smoothing: smoothing, slopeSmoothing: slopeSmoothing)
        default: return .window(days: window)
        }
    }

    /// `daily`: one of `choices`, `fallback` when absent.
    mutating func daily(_ choices: [DailyValue], default fallback: DailyValue) -> DailyValue {
        DailyValue(rawValue: choice("daily", choices.map(\.rawValue), default: fallback.rawValue)) ?? fallback
    }

    /// One of `choices`, `fallback` when absent.
    mutating func choice(_ name: String, _ choices: [String], default fallback: String) -> String {
        guard let raw = parameters[name] else { return fallback }
        guard choices.contains(raw) else {
            validator.fail(name, "must be one of " + choices.joined(separator: ", "))
            return fallback
        }
        return raw
    }

    /// Throws 422 with every parameter error found: for queries the service has no rules for.
    func finish() throws(Problem) {
        if !errors.isEmpty { throw Problem.validation(errors) }
    }
}
