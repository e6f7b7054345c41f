import ArgumentParser
import Logging
import WeighinHTTP

/// Log level and format, shared by every subcommand that logs.
struct LoggingOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical. [env: WEIGHIN_LOG_LEVEL] (default: info)")
    var logLevel: Logger.Level?

    @Option(help: "Log format: text or json (one object per line). [env: WEIGHIN_LOG_FORMAT] (default: text)")
    var logFormat: LogFormat?

    /// Installs the process's log handler and returns the root logger.
    func bootstrap(label: String) throws -> Logger {
        let level = try logLevel ?? Environment.value("WEIGHIN_LOG_LEVEL") ?? .info
        let format = try logFormat ?? Environment.value("WEIGHIN_LOG_FORMAT") ?? .text
        LogFormat.bootstrap(format, level: level)
        return Logger(label: label)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LogFormat: ExpressibleByArgument {}
