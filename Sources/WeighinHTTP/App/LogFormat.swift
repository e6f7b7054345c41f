import Foundation
import Logging

/// How log lines are written.
public enum LogFormat: String, CaseIterable, Sendable {
    /// Human-readable lines, laid out as swift-log's own handler lays them out (`LogLineHandler`).
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
            var handler = LogLineHandler(label: label, format: format, output: output)
            handler.logLevel = level
            return UrgentFlushLogHandler(inner: handler, output: output)
        }
    }
}
