import Foundation
import Logging
import Synchronization
import Testing
@testable import WeighinHTTP

#if canImport(Glibc)
import Glibc
#endif

/// The text log lines: byte for byte what swift-log's `StreamLogHandler` writes for the same record.
@Suite struct LogLineHandlerTests {
    /// Collects what `StreamLogHandler` writes.
    struct Capture: TextOutputStream, Sendable {
        final class Lines: Sendable {
            let text = Mutex("")
        }
        let lines = Lines()

        mutating func write(_ string: String) {
            lines.text.withLock { $0 += string }
        }
    }

    struct Refusal: Error, CustomStringConvertible {
        var description: String { "the server said no" }
    }

    /// Records with and without metadata, label, error and every kind of metadata value.
    static let events: [(label: String, base: Logger.Metadata, event: LogEvent)] = [
        ("weighin", [:], LogEvent(
            level: .info, message: "request",
            metadata: ["request_id": "9f3a", "method": "GET", "route": "/v1/entries", "status": .stringConvertible(200),
                       "duration_ms": .stringConvertible(0.412)],
            source: "WeighinHTTP", file: #fileID, function: #function, line: #line)),
        ("", [:], LogEvent(level: .debug, message: "no metadata", metadata: nil, source: nil, file: #fileID,
                           function: #function, line: #line)),
        ("weighin.pool", ["route": "/base", "zone": "é ✓"], LogEvent(
            level: .error, message: "failed", error: Refusal(),
            metadata: ["route": "/v1/sync", "list": ["a", "b"], "map": ["k": "v"], "empty": ""],
            source: "Postgres", file: #fileID, function: #function, line: #line)),
    ]

    @Test(arguments: 0..<events.count)
    func linesAreThoseOfSwiftLogsOwnHandler(_ index: Int) {
        let (label, base, event) = Self.events[index]
        let capture = Capture()
        var theirs = StreamLogHandler(label: label, stream: capture, metadataProvider: nil)
        theirs.metadata = base
        // Both take the time in whole seconds: retry in the rare case the second turns between the two.
        for _ in 0..<3 {
            capture.lines.text.withLock { $0 = "" }
            let before = time(nil)
            theirs.log(event: event)
            let ours = String(decoding: LogLineHandler.textLine(event, label: label, metadata: base, now: before), as: UTF8.self)
            guard time(nil) == before else { continue }
            #expect(ours == capture.lines.text.withLock { $0 })
            return
        }
        Issue.record("the clock turned a second three times in a row")
    }
}
