import ArgumentParser
import Foundation
import Primitives

/// A duration on the command line (`500ms`, `1.5s`, `10s`, `5m`, `2h`, `30d`; a bare number is seconds).
struct DurationArgument: ExpressibleByArgument, Sendable {
    let duration: Duration

    init?(argument: String) {
        guard let duration = Duration(text: argument.trimmingCharacters(in: .whitespaces)) else { return nil }
        self.duration = duration
    }

    init(_ duration: Duration) {
        self.duration = duration
    }

    var defaultValueDescription: String {
        duration.text
    }
}
