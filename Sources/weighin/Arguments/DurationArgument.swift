import Foundation
import ArgumentParser
import Primitives

/// A duration on the command line: a number and a unit, `500ms`, `1.5s`, `10s`, `5m`, `2h`, `30d` (a bare number
/// is seconds).
struct DurationArgument: ExpressibleByArgument, Sendable {
    let duration: Duration

    init?(argument: String) {
        let units: [(suffix: String, seconds: Double)] = [
            ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400),
        ]
        let text = argument.trimmingCharacters(in: .whitespaces)
        var number = Substring(text)
        var scale = 1.0
        for unit in units where text.hasSuffix(unit.suffix) {
            number = text.dropLast(unit.suffix.count)
            scale = unit.seconds
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            let value = Double(number), value.isFinite
        else { return nil }
        let nanoseconds = (value * scale * 1e9).rounded()
        guard nanoseconds < 1e17 else { return nil }
        duration = .nanoseconds(Int64(nanoseconds))
    }

    init(_ duration: Duration) {
        self.duration = duration
    }

    var defaultValueDescription: String {
        let (seconds, attoseconds) = duration.components
        if attoseconds != 0 { return "\(duration.milliseconds)ms" }
        if seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
