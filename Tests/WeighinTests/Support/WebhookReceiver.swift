import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// A webhook receiver on 127.0.0.1 for tests: records every post (headers and body) and answers as told.
final class WebhookReceiver: Sendable {
    struct Post: Sendable {
        let headers: [String: String]
        let body: [UInt8]
    }

    /// How the receiver answers the next posts.
    enum Behavior: Sendable {
        case answer(Int)
        case hang
    }

    private let posts = Mutex<[Post]>([])
    private let behavior = Mutex<Behavior>(.answer(204))

    var received: [Post] { posts.withLock { $0 } }

    func answer(_ behavior: Behavior) {
        self.behavior.withLock { $0 = behavior }
    }

    /// Runs the receiver while `body` runs, with its base URL.
    func run<T: Sendable>(_ body: @Sendable (_ url: String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            self.posts.withLock { $0.append(Post(headers: headers, body: Array(buffer: bytes))) }
            switch self.behavior.withLock({ $0 }) {
            case .answer(let status):
                return Response(status: .init(code: status))
            case .hang:
                try await Task.sleep(for: .seconds(30))
                return Response(status: .ok)
            }
        }
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) })
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await app.run()
                return nil
            }
            var ports = portStream.makeAsyncIterator()
            guard let port = await ports.next() else { throw TestFailure("the receiver never started") }
            let result = try await body("http://127.0.0.1:\(port)/hook")
            group.cancelAll()
            return result
        }
    }

    /// Waits (at most `timeout`) until `count` posts have arrived.
    func waitFor(_ count: Int, timeout: Duration = .seconds(20)) async throws -> [Post] {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            let posts = received
            if posts.count >= count { return posts }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("\(received.count) webhook posts arrived, not \(count)")
    }
}
