import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import WeighinHTTP

@Suite("EventLoopTaskExecutor")
struct EventLoopTaskExecutorTests {
    /// A nonisolated async function: calling one is where a task isolated to a loop would switch executors.
    private nonisolated func onLoop(_ loop: any EventLoop) async -> Bool {
        await Task.yield()
        return loop.inEventLoop
    }

    @Test func aTaskThatPrefersItStaysOnItsLoopAlsoWhenAnotherThreadResumesIt() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let executors = EventLoopTaskExecutors(group: group)
        #expect(executors.current == nil, "off the group's loops there is none")
        for loop in group.makeIterator() {
            let executor = try #require(try await loop.submit { executors.current }.get())
            #expect(executor.loop === loop)
            await withTaskExecutorPreference(executor) {
                #expect(loop.inEventLoop)
                #expect(await onLoop(loop))
                // As when the database driver's thread completes a statement.
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    Thread { continuation.resume() }.start()
                }
                #expect(loop.inEventLoop)
                #expect(await onLoop(loop))
            }
        }
        try await group.shutdownGracefully()
    }
}
