import Foundation
import Testing

@testable import Postgres

/// The hand-over between an import's reader and the COPY, without a database: what the COPY waits for, and how
/// either side stops the other.
@Suite("Postgres: the COPY's stream of rows")
struct CopyInStreamTests {
    @Test func theCopyStartsWithTheFirstChunkAndNotForNothing() async {
        let finished = CopyInStream()
        finished.finish()
        #expect(await finished.hasRows() == false, "no rows: no COPY, no connection")
        let failed = CopyInStream()
        #expect(failed.send([1]))
        failed.fail(reason: "row 2")
        #expect(await failed.hasRows() == false, "a failed producer's rows are not stored")
        #expect(failed.failedByProducer)
        let sent = CopyInStream()
        async let answer = sent.hasRows()
        try? await Task.sleep(for: .milliseconds(50))
        #expect(sent.send([1, 2, 3]))
        #expect(await answer == true, "woken by the first chunk")
        guard case .chunk(let bytes) = sent.next() else { Issue.record("no chunk"); return }
        #expect(bytes == [1, 2, 3])
        sent.finish()
        guard case .end = sent.next() else { Issue.record("no end"); return }
    }

    @Test func aClosedStreamReleasesItsWaitingProducerAndTakesNothingMore() async {
        let stream = CopyInStream(capacity: 2)
        #expect(stream.send([1]) && stream.send([2]))
        let blocked = Task {
            await withCheckedContinuation { continuation in
                Thread { continuation.resume(returning: stream.send([3])) }.start()
            }
        }
        try? await Task.sleep(for: .milliseconds(50))
        stream.close()
        #expect(await blocked.value == false, "the full queue's producer is released when the COPY stops")
        #expect(!stream.send([4]))
        stream.fail(reason: "too late")
        #expect(!stream.failedByProducer, "the COPY stopped first: its error is the one to report")
        #expect(await stream.hasRows() == false)
    }
}
