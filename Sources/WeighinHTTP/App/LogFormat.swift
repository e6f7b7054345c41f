import Foundation
import Logging
import WireFormats

/// How log lines are written.
public enum LogFormat: String, CaseIterable, Sendable {
    /// swift-log's human-readable lines.
    case text
    /// One JSON object per line: time, level, message, label and every metadata value (request_id, route,
    /// status, duration_ms, ...).
    case json

    /// Installs the process-wide log handler (once per process).
    public static func bootstrap(_ format: LogFormat, level: Logger.Level) {
        // Text lines carry local time, and with TZ unset glibc's localtime_r stats /etc/localtime on every call
        // (one system call per access-log line); naming the same file once lets glibc keep what it read.
        if format == .text, getenv("TZ") == nil {
            setenv("TZ", ":/etc/localtime", 0)
        }
        let output = BufferedLogOutput.standardError
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                switch format {
                case .text: StreamLogHandler(label: label, stream: BufferedLogStream(output: output))
                case .json: JSONLogHandler(label: label, output: output)
                }
            handler.logLevel = level
            return UrgentFlushLogHandler(inner: handler, output: output)
        }
    }
}

/// Writes each log record as one JSON line (on standard error, through its buffer, unless told otherwise).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let output: BufferedLogOutput

    public init(label: String, output: BufferedLogOutput = .standardError) {
        self.label = label
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("time")
        writer.timestamp(Date())
        writer.key("level")
        writer.string(event.level.rawValue)
        writer.key("message")
        writer.string(event.message.description)
        writer.key("label")
        writer.string(label)
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for key in merged.keys.sorted() {
            writer.key(escaping: key)
            writer.string(merged[key]!.description)
        }
        writer.endObject()
        output.append(writer.bytes + [UInt8(ascii: "\n")])
    }
}
