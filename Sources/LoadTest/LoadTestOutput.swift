import Foundation

/// Where a run writes what it has to say.
public struct LoadTestOutput: Sendable {
    /// Receives the final report table.
    public var report: @Sendable (String) -> Void
    /// Receives one-line messages about seeding and the run's phases.
    public var log: @Sendable (String) -> Void
    /// Receives the live progress line once a second; an empty string clears it at the end. `nil` keeps quiet.
    public var progress: (@Sendable (String) -> Void)?

    /// Creates an output from its three sinks.
    public init(
        report: @escaping @Sendable (String) -> Void,
        log: @escaping @Sendable (String) -> Void,
        progress: (@Sendable (String) -> Void)?
    ) {
        self.report = report
        self.log = log
        self.progress = progress
    }

    /// The table on standard output, messages on standard error, and the progress line
    /// on standard error only when it is a terminal.
    public static var standard: LoadTestOutput {
        var progress: (@Sendable (String) -> Void)?
        if isatty(STDERR_FILENO) == 1 {
            progress = { text in FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8)) }
        }
        return LoadTestOutput(
            report: { text in FileHandle.standardOutput.write(Data((text + "\n").utf8)) },
            log: { text in FileHandle.standardError.write(Data((text + "\n").utf8)) },
            progress: progress
        )
    }

    /// Writes nothing.
    public static let silent = LoadTestOutput(report: { _ in }, log: { _ in }, progress: nil)
}
