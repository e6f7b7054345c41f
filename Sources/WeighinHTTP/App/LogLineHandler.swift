import Foundation
import Logging
import WireFormats

#if canImport(Glibc)
import Glibc
#endif

/// Writes each log record as one line in the process's `LogFormat`, through a `BufferedLogOutput` (standard error
/// unless told otherwise).
///
/// Text lines are laid out as swift-log's `StreamLogHandler` lays them out:
/// `2026-12-05T01:44:18+0000 info weighin: method=GET route=/v1/entries status=200 [WeighinHTTP] request`.
/// `StreamLogHandler` itself builds that line through string interpolation, a lazily sorted and joined map of the
/// metadata and a `strftime` into a fresh array: about 39,000 instructions per access-log line, 4 % of a request of
/// the benchmark's mix. This writes the same bytes into one buffer.
public struct LogLineHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let format: LogFormat
    let output: BufferedLogOutput

    public init(label: String, format: LogFormat, output: BufferedLogOutput = .standardError) {
        self.label = label
        self.format = format
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        switch format {
        case .text: output.append(Self.textLine(event, label: label, metadata: metadata, now: time(nil)))
        case .json: output.append(Self.jsonLine(event, label: label, metadata: metadata))
        }
    }

    /// The JSON line for `event` (with its newline): time, level, message, label, then the metadata by name.
    static func jsonLine(_ event: LogEvent, label: String, metadata: Logger.Metadata) -> [UInt8] {
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
        let merged = Self.merged(event, metadata)
        for key in merged.keys.sorted() {
            writer.key(escaping: key)
            writer.string(merged[key]!.description)
        }
        writer.endObject()
        var line = writer.bytes
        line.append(UInt8(ascii: "\n"))
        return line
    }

    /// The line for `event` (with its newline), the time being `now` in the local time zone.
    static func textLine(_ event: LogEvent, label: String, metadata: Logger.Metadata, now: time_t) -> [UInt8] {
        var merged = Self.merged(event, metadata)
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        var line: [UInt8] = []
        line.reserveCapacity(192)
        appendLocalTime(now, to: &line)
        line.append(UInt8(ascii: " "))
        line.append(contentsOf: event.level.rawValue.utf8)
        if !label.isEmpty {
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: label.utf8)
        }
        line.append(UInt8(ascii: ":"))
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: key.utf8)
            line.append(UInt8(ascii: "="))
            switch value {
            case .string(let text): line.append(contentsOf: text.utf8)
            default: line.append(contentsOf: value.description.utf8)
            }
        }
        line.append(contentsOf: " [".utf8)
        line.append(contentsOf: event.source.utf8)
        line.append(contentsOf: "] ".utf8)
        line.append(contentsOf: event.message.description.utf8)
        line.append(UInt8(ascii: "\n"))
        return line
    }

    /// The handler's metadata with the event's own, the event's winning where both name a key.
    private static func merged(_ event: LogEvent, _ metadata: Logger.Metadata) -> Logger.Metadata {
        var merged = event.metadata ?? [:]
        if !metadata.isEmpty { merged.merge(metadata) { explicit, _ in explicit } }
        return merged
    }

    /// `now` as `%Y-%m-%dT%H:%M:%S%z` in the local time zone (`<unknown>` when it cannot be converted).
    private static func appendLocalTime(_ now: time_t, to line: inout [UInt8]) {
        var seconds = now
        var parts = tm()
        guard localtime_r(&seconds, &parts) != nil else {
            line.append(contentsOf: "<unknown>".utf8)
            return
        }
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
            let count = strftime(buffer.baseAddress!, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
            line.append(contentsOf: UnsafeRawBufferPointer(start: buffer.baseAddress, count: count))
        }
    }
}
