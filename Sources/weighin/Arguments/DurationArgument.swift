import ArgumentParser

/// A duration on the command line: `500ms`, `30s`, `5m`, `2h`, `30d`.
struct DurationArgument: ExpressibleByArgument, Sendable {
    let duration: Duration

    init?(argument: String) {
        let units: [(String, Duration)] = [
            ("ms", .milliseconds(1)), ("s", .seconds(1)), ("m", .seconds(60)), ("h", .seconds(3600)),
            ("d", .seconds(86_400)),
        ]
        for (suffix, unit) in units where argument.hasSuffix(suffix) {
            let number = argument.dropLast(suffix.count)
            guard !number.isEmpty, number.allSatisfy(\.isNumber), let count = Int(number) else { return nil }
            duration = unit * count
            return
        }
        return nil
    }

    init(_ duration: Duration) {
        self.duration = duration
    }

    var defaultValueDescription: String {
        let (seconds, attoseconds) = duration.components
        if attoseconds != 0 { return "\(seconds * 1000 + attoseconds / 1_000_000_000_000_000)ms" }
        if seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
