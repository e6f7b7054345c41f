import ArgumentParser
import Foundation

/// Reads settings from the environment, for options not given as flags (flags win).
enum Environment {
    static func string(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    /// A typed value from the environment; an unreadable one stops the program with one clear line.
    static func value<T: ExpressibleByArgument>(_ name: String, as _: T.Type = T.self) throws -> T? {
        guard let raw = string(name) else { return nil }
        guard let value = T(argument: raw) else {
            throw ValidationError("invalid value for \(name): '\(raw)'")
        }
        return value
    }
}
