/// Parses a duration such as `500ms`, `10s`, `2m` or `1.5s` (units `ms`, `s`, `m`; a bare number means seconds).
public func parseLoadTestDuration(_ text: String) throws(LoadTestError) -> Duration {
    let trimmed = text.trimmingWhitespace()
    let units: [(suffix: String, scale: Double)] = [("ms", 1e-3), ("s", 1), ("m", 60)]
    var number = Substring(trimmed)
    var scale = 1.0
    for unit in units where trimmed.hasSuffix(unit.suffix) {
        number = trimmed.dropLast(unit.suffix.count)
        scale = unit.scale
        break
    }
    guard let value = Double(number), value.isFinite, value >= 0, !number.hasPrefix("+"), !number.isEmpty
    else {
        throw LoadTestError("invalid duration '\(text)': use a number with ms, s or m, such as 500ms, 10s or 2m")
    }
    let nanoseconds = (value * scale * 1e9).rounded()
    guard nanoseconds < 1e15 else { throw LoadTestError("invalid duration '\(text)': too long") }
    return .nanoseconds(Int64(nanoseconds))
}

extension String {
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

extension Duration {
    /// The duration in whole nanoseconds, saturating on overflow.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled + attoseconds / 1_000_000_000
    }

    /// The duration in seconds as a floating-point number.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
