import Foundation

/// A decimal from its text.
func dec(_ text: String) -> Decimal {
    Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))!
}

/// One pound in kilograms, exactly.
let kilogramsPerPound = dec("0.45359237")

/// The exact value of `weight` (entered in `unit`) in `target`.
func converted(_ weight: Decimal, from unit: String, to target: String) -> Decimal {
    let unit = unit == "lbs" ? "lb" : unit
    if unit == target { return weight }
    return unit == "lb" ? weight * kilogramsPerPound : weight / kilogramsPerPound
}

/// Rounded half away from zero to 2 decimals.
func round2(_ value: Decimal) -> Decimal {
    var input = value
    var output = Decimal()
    NSDecimalRound(&output, &input, 2, .plain)
    return output
}

/// What an answer shows for `weight` entered in `unit` when the display unit is `display`.
func shown(_ weight: String, _ unit: String, in display: String) -> Decimal {
    let unit = unit == "lbs" ? "lb" : unit
    return unit == display ? dec(weight) : round2(converted(dec(weight), from: unit, to: display))
}

/// Whether `value` is safely away from a rounding tie at 2 decimals (so 38-digit and 20-digit arithmetic agree).
func isFarFromRoundingTie(_ value: Decimal) -> Bool {
    var hundredths = value * 100
    var whole = Decimal()
    NSDecimalRound(&whole, &hundredths, 0, .down)
    let offset = hundredths - whole - dec("0.5")
    return (offset < 0 ? -offset : offset) > dec("0.000001")
}

/// Parses an RFC 3339 timestamp in UTC with a `Z` (fractional seconds allowed); nil for any other form.
func parseTimestamp(_ text: String) -> Date? {
    // ISO8601DateFormatter keeps milliseconds only; the API gives microseconds, and ordering tests need them all.
    guard text.hasSuffix("Z") else { return nil }
    let body = text.dropLast()
    let (whole, fraction) = body.firstIndex(of: ".").map { (body[..<$0], body[body.index(after: $0)...]) } ?? (body, "")
    guard fraction.count <= 6, fraction.allSatisfy(\.isASCII), fraction.allSatisfy(\.isNumber) else { return nil }
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.formatOptions = [.withInternetDateTime]
    guard let seconds = formatter.date(from: whole + "Z") else { return nil }
    let micros = Int(fraction.padding(toLength: 6, withPad: "0", startingAt: 0)) ?? 0
    return seconds.addingTimeInterval(Double(micros) / 1_000_000)
}

/// The UTC calendar day `offset` days from today, `YYYY-MM-DD`.
func utcDay(_ offset: Int = 0, from now: Date = Date()) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let day = calendar.date(byAdding: .day, value: offset, to: now)!
    let c = calendar.dateComponents([.year, .month, .day], from: day)
    return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
}

/// Waits out the last seconds of a UTC day, so a test that reasons about "today" does not straddle midnight.
func awayFromMidnight() async throws {
    let secondsIntoDay = Int(Date().timeIntervalSince1970) % 86_400
    if secondsIntoDay > 86_400 - 60 {
        try await Task.sleep(for: .seconds(86_400 - secondsIntoDay + 1))
    }
}

/// The day `days` after `day` (`YYYY-MM-DD`).
func dayAfter(_ day: String, _ days: Int) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let formatter = DateFormatter()
    formatter.calendar = calendar
    formatter.timeZone = calendar.timeZone
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.dateFormat = "yyyy-MM-dd"
    return formatter.string(from: calendar.date(byAdding: .day, value: days, to: formatter.date(from: day)!)!)
}

/// Whole days from `a` to `b`.
func daysBetween(_ a: String, _ b: String) -> Int {
    let formatter = DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")!
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.dateFormat = "yyyy-MM-dd"
    return Int((formatter.date(from: b)!.timeIntervalSince(formatter.date(from: a)!) / 86_400).rounded())
}
