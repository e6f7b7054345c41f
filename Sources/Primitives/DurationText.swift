/// Durations as people write them in flags and environment variables: a number and a unit, `500ms`, `1.5s`, `10s`,
/// `5m`, `2h`, `30d` (a bare number is seconds).
extension Duration {
    private static let units: [(suffix: String, seconds: Double)] = [
        ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400),
    ]

    /// Reads `500ms`, `1.5s`, `10s`, `5m`, `2h`, `30d` or a bare number of seconds; nil for anything else or for
    /// more than about three years.
    public init?(text: String) {
        var number = Substring(text)
        var scale = 1.0
        for unit in Self.units where text.hasSuffix(unit.suffix) {
            number = text.dropLast(unit.suffix.count)
            scale = unit.seconds
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            let value = Double(number), value.isFinite
        else { return nil }
        let nanoseconds = (value * scale * 1e9).rounded()
        guard nanoseconds < 1e17 else { return nil }
        self = .nanoseconds(Int64(nanoseconds))
    }

    /// The shortest text `init(text:)` reads back: `250ms`, `10s`, `5m`, `30d`.
    public var text: String {
        let (seconds, attoseconds) = components
        if attoseconds != 0 { return "\(milliseconds)ms" }
        if seconds != 0, seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        if seconds != 0, seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds != 0, seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
