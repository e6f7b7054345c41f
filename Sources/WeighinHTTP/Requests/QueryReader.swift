import Hummingbird
import Postgres
import WeighinService
import Primitives

/// Reads query parameters, collecting every invalid one as a field error.
struct QueryReader {
    private let parameters: [String: String]
    private(set) var errors: [FieldError] = []

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

    /// A `YYYY-MM-DD` date that exists.
    mutating func date(_ name: String) -> CalendarDate? {
        guard let raw = parameters[name] else { return nil }
        guard let date = CalendarDate(iso: raw) else {
            errors.append(FieldError(name, "must be a real date written YYYY-MM-DD"))
            return nil
        }
        return date
    }

    /// `from` and `to`, inclusive; `from` after `to` is an error on `from`.
    mutating func dateRange() -> DateRange {
        let range = DateRange(from: date("from"), to: date("to"))
        if let from = range.from, let to = range.to, from > to {
            errors.append(FieldError("from", "must not be after to"))
        }
        return range
    }

    /// A unit: `kg`, `lb` or `lbs`.
    mutating func unit(_ name: String = "unit") -> WeightUnit? {
        guard let raw = parameters[name] else { return nil }
        guard let unit = WeightUnit(input: raw) else {
            errors.append(FieldError(name, "must be \"kg\", \"lb\" or \"lbs\""))
            return nil
        }
        return unit
    }

    /// A whole number within `range`, `fallback` when absent.
    mutating func integer(_ name: String, in range: ClosedRange<Int>, default fallback: Int) -> Int {
        guard let raw = parameters[name] else { return fallback }
        guard raw.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let value = Int(raw),
            range.contains(value)
        else {
            errors.append(FieldError(name, "must be a whole number from \(range.lowerBound) to \(range.upperBound)"))
            return fallback
        }
        return value
    }

    /// One of `choices`, `fallback` when absent.
    mutating func choice(_ name: String, _ choices: [String], default fallback: String) -> String {
        guard let raw = parameters[name] else { return fallback }
        guard choices.contains(raw) else {
            errors.append(FieldError(name, "must be one of " + choices.joined(separator: ", ")))
            return fallback
        }
        return raw
    }

    /// Throws 422 with every parameter error found.
    func finish() throws(Problem) {
        if !errors.isEmpty { throw Problem.validation(errors) }
    }
}
