import Foundation
import Logging
import Testing
@testable import WeighinHTTP

#if canImport(Glibc)
import Glibc
#endif

/// The buffered log output: lines come out whole, in order and many to a write; error lines are out before `log`
/// returns; a blocked output drops and counts lines instead of growing.
@Suite struct LogOutputTests {
    /// A pipe whose read end never blocks; both ends are closed when it goes.
    final class Pipe {
        let read: Int32
        let write: Int32

        init() {
            var ends: [Int32] = [0, 0]
            precondition(pipe(&ends) == 0)
            read = ends[0]
            write = ends[1]
            _ = fcntl(read, F_SETFL, fcntl(read, F_GETFL) | O_NONBLOCK)
        }

        deinit {
            close(read)
            close(write)
        }

        /// Everything readable now.
        func drain() -> [UInt8] {
            var out: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let got = chunk.withUnsafeMutableBytes { Glibc.read(read, $0.baseAddress, $0.count) }
                if got <= 0 { return out }
                out += chunk[..<got]
            }
        }

        /// Reads until `done` holds for everything read so far, or `limit` passes.
        func read(until done: (String) -> Bool, limit: Duration = .seconds(10)) async throws -> String {
            var text = ""
            let deadline = ContinuousClock.now + limit
            while !done(text), ContinuousClock.now < deadline {
                text += String(decoding: drain(), as: UTF8.self)
                try await Task.sleep(for: .milliseconds(5))
            }
            return text
        }
    }

    @Test func linesFromManyTasksComeOutWholeInOrderAndManyToAWrite() async throws {
        let pipe = Pipe()
        let output = BufferedLogOutput(descriptor: pipe.write)
        let tasks = 8, lines = 500
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    for line in 0..<lines { output.append(Array("task \(task) line \(line)\n".utf8)) }
                }
            }
        }
        let text = try await pipe.read(until: { $0.filter { $0 == "\n" }.count == tasks * lines })
        var next = [Int](repeating: 0, count: tasks)
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            try #require(words.count == 4 && words[0] == "task" && words[2] == "line", "a torn line: \(line)")
            let task = try #require(Int(words[1]))
            #expect(Int(words[3]) == next[task], "task \(task)'s lines out of order")
            next[task] += 1
        }
        #expect(next == [Int](repeating: lines, count: tasks))
        #expect(output.batchesWritten <= tasks * lines / 10, "\(output.batchesWritten) writes for \(tasks * lines) lines")
    }

    @Test func anErrorLineIsWrittenBeforeLogReturnsWithEverythingQueuedBeforeIt() async throws {
        let pipe = Pipe()
        let output = BufferedLogOutput(descriptor: pipe.write)
        let handler = UrgentFlushLogHandler(inner: LogLineHandler(label: "test", format: .json, output: output), output: output)
        let logger = Logger(label: "test") { _ in handler }
        logger.info("queued first")
        logger.error("then this failed")
        let text = String(decoding: pipe.drain(), as: UTF8.self)
        let messages = text.split(separator: "\n").map { String($0) }
        #expect(messages.count == 2)
        #expect(messages.first?.contains(#""message":"queued first""#) == true)
        #expect(messages.last?.contains(#""level":"error""#) == true)
        #expect(messages.last?.contains(#""message":"then this failed""#) == true)

        logger.info("ordinary")
        let later = try await pipe.read(until: { $0.contains("ordinary") })
        #expect(later.contains(#""message":"ordinary""#), "an ordinary line is written soon without a flush")
    }

    @Test func aBlockedOutputDropsAndCountsLinesInsteadOfGrowing() async throws {
        let pipe = Pipe()
        _ = fcntl(pipe.write, F_SETFL, fcntl(pipe.write, F_GETFL) | O_NONBLOCK)
        let filler = [UInt8](repeating: UInt8(ascii: "x"), count: 4096)
        while filler.withUnsafeBytes({ Glibc.write(pipe.write, $0.baseAddress, $0.count) }) > 0 {}  // nobody reads
        let output = BufferedLogOutput(descriptor: pipe.write, limit: 1000)
        let sent = 200
        for line in 0..<sent {
            output.append(Array("entry \(line) \(String(repeating: "-", count: 90))\n".utf8))
        }
        // The reader comes back: the queued lines follow the filler, then the count of those dropped.
        let text = try await pipe.read(until: { $0.contains("log lines dropped") })
        let written = text.split(separator: "\n").filter { $0.contains("entry ") }  // the first follows the filler
        let notice = try #require(text.split(separator: "\n").first { $0.contains("log lines dropped") })
        let dropped = try #require(Int(notice.split(separator: " ")[1]))
        #expect(written.count <= 2 * 1000 / 100, "at most the limit waits (one batch in the write, one queued)")
        #expect(dropped > 0)
        #expect(written.count + dropped == sent, "\(written.count) written + \(dropped) dropped")
    }
}
