import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// How the fake server misbehaves.
struct FakeBehaviour: Sendable {
    /// The status `GET /v1/stats` answers, to produce errors by status.
    var statsStatus = HTTPResponseStatus.ok
    /// A delay before every answer of the load endpoints, to make a slow server.
    var delay = TimeAmount.zero
    /// Answer every N-th load request with `Connection: close` and close, to exercise reconnects.
    var closeEvery: Int?
    /// The first imports answered 429 `rate_limited` (as weighin's import gate does), and their `Retry-After`.
    var refusedImports = 0
    var importRetryAfter = 1
}

/// A tiny in-process weighin: the few endpoints the load test needs, on 127.0.0.1 in 18700-18799.
///
/// Lists are answered chunked and everything else with Content-Length, so both framings are exercised.
final class FakeWeighinServer: Sendable {
    private struct State {
        var passwords: [String: String] = [:]
        var tokens: [String: String] = [:]
        var entries: [String: [String]] = [:]
        /// Emails of the users with a goal.
        var goals: Set<String> = []
        var requests: [String: Int] = [:]
        var statuses: [Int: Int] = [:]
        var answered = 0
        var refusedImports = 0
    }

    let port: Int
    let behaviour: FakeBehaviour
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let state = Mutex(State())

    private init(port: Int, behaviour: FakeBehaviour, group: MultiThreadedEventLoopGroup, channel: any Channel) {
        self.port = port
        self.behaviour = behaviour
        self.group = group
        self.channel = channel
    }

    /// Ports this test process has used: never reused, so that a stopped server's port stays refused.
    private static let usedPorts = Mutex(Set<Int>())

    /// Starts a server on the first free port of 18700-18799, trying them from a random start.
    static func start(_ behaviour: FakeBehaviour = FakeBehaviour()) async throws -> FakeWeighinServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let box = Mutex<FakeWeighinServer?>(nil)
        let first = Int.random(in: 0..<100)
        for offset in 0..<100 {
            let port = 18700 + (first + offset) % 100
            guard usedPorts.withLock({ $0.insert(port).inserted }) else { continue }
            do {
                let channel = try await ServerBootstrap(group: group)
                    .serverChannelOption(.backlog, value: 256)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            let server = box.withLock { $0 }!
                            try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                            try channel.pipeline.syncOperations.addHandler(FakeHandler(server: server))
                        }
                    }
                    .bind(host: "127.0.0.1", port: port)
                    .get()
                let server = FakeWeighinServer(port: port, behaviour: behaviour, group: group, channel: channel)
                box.withLock { $0 = server }
                return server
            } catch {
                continue
            }
        }
        try await group.shutdownGracefully()
        throw FakeServerError.noFreePort
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Requests seen by route, such as `GET /v1/entries/{id}`.
    var requests: [String: Int] { state.withLock { $0.requests } }

    /// Answers sent by status code.
    var statuses: [Int: Int] { state.withLock { $0.statuses } }

    func stop() async throws {
        try await channel.close()
        try await group.shutdownGracefully()
    }

    fileprivate struct Answer {
        var status: HTTPResponseStatus
        var body: String
        var isLoad: Bool
        var chunked = false
        var retryAfter: Int?
    }

    fileprivate func answer(method: HTTPMethod, uri: String, headers: HTTPHeaders, body: Data) -> Answer {
        let path = String(uri.prefix { $0 != "?" })
        let json = try? JSONSerialization.jsonObject(with: body)
        return state.withLock { state in
            func problem(_ status: HTTPResponseStatus, _ code: String) -> Answer {
                Answer(
                    status: status,
                    body: "{\"type\":\"about:blank\",\"title\":\"x\",\"status\":\(status.code),\"detail\":\"x\",\"code\":\"\(code)\"}",
                    isLoad: false
                )
            }
            let route: String
            if path.hasPrefix("/v1/entries/"), path != "/v1/entries/import" {
                route = "\(method.rawValue) /v1/entries/{id}"
            } else {
                route = "\(method.rawValue) \(path)"
            }
            state.requests[route, default: 0] += 1
            let answer: Answer = {
                if route == "POST /v1/users" {
                    guard headers["Content-Type"].first == "application/json" else { return problem(.unsupportedMediaType, "unsupported_media_type") }
                    guard let user = json as? [String: String], let email = user["email"], let password = user["password"], user["name"] != nil
                    else { return problem(.unprocessableEntity, "validation_failed") }
                    if state.passwords[email] != nil { return problem(.conflict, "email_taken") }
                    state.passwords[email] = password
                    return Answer(status: .created, body: "{\"id\":\"\(UUID().uuidString.lowercased())\",\"email\":\"\(email)\"}", isLoad: false)
                }
                if route == "POST /v1/tokens" {
                    guard let login = json as? [String: String], let email = login["email"], state.passwords[email] == login["password"]
                    else { return problem(.unauthorized, "invalid_credentials") }
                    let token = "tok-\(UUID().uuidString)"
                    state.tokens[token] = email
                    return Answer(status: .created, body: "{\"token\":\"\(token)\",\"token_type\":\"Bearer\"}", isLoad: false)
                }
                guard let authorization = headers["Authorization"].first, authorization.hasPrefix("Bearer "),
                    let email = state.tokens[String(authorization.dropFirst("Bearer ".count))]
                else { return problem(.unauthorized, "unauthorized") }
                switch route {
                case "POST /v1/entries/import" where state.refusedImports < behaviour.refusedImports:
                    state.refusedImports += 1
                    var refused = problem(.tooManyRequests, "rate_limited")
                    refused.retryAfter = behaviour.importRetryAfter
                    return refused
                case "POST /v1/entries/import":
                    guard headers["Content-Type"].first == "application/json", let rows = json as? [[String: Any]],
                        rows.allSatisfy({ $0["weight"] is NSNumber && $0["unit"] as? String == "kg" && $0["recorded_on"] is String })
                    else { return problem(.unprocessableEntity, "validation_failed") }
                    state.entries[email, default: []] += rows.map { _ in UUID().uuidString.lowercased() }
                    return Answer(status: .ok, body: "{\"imported\":\(rows.count)}", isLoad: false)
                case "GET /v1/entries":
                    let ids = state.entries[email] ?? []
                    let entries = ids.map { "{\"id\":\"\($0)\",\"weight\":72.5,\"unit\":\"kg\"}" }.joined(separator: ",")
                    return Answer(status: .ok, body: "{\"entries\":[\(entries)],\"next_cursor\":null}", isLoad: true, chunked: true)
                case "GET /v1/entries/{id}":
                    let id = String(path.dropFirst("/v1/entries/".count))
                    guard state.entries[email]?.contains(id) == true else { return problem(.notFound, "not_found") }
                    return Answer(status: .ok, body: "{\"id\":\"\(id)\"}", isLoad: true)
                case "POST /v1/entries":
                    guard let entry = json as? [String: Any], let weight = entry["weight"] as? Double, (40...150).contains(weight),
                        entry["unit"] as? String == "kg", let date = entry["recorded_on"] as? String, date.count == 10
                    else { return problem(.unprocessableEntity, "validation_failed") }
                    return Answer(status: .created, body: "{\"id\":\"\(UUID().uuidString.lowercased())\"}", isLoad: true)
                case "GET /v1/stats":
                    return Answer(status: behaviour.statsStatus, body: "{\"count\":30}", isLoad: true)
                case "GET /v1/me":
                    return Answer(status: .ok, body: "{}", isLoad: true)
                case "GET /v1/trend":
                    let method = uri.contains("method=ema") ? "ema" : "window"
                    state.requests["GET /v1/trend " + method, default: 0] += 1
                    return Answer(status: .ok, body: "{\"method\":\"\(method)\"}", isLoad: true)
                case "PUT /v1/goal":
                    guard let goal = json as? [String: Any], goal["target_weight"] is NSNumber,
                        goal["start_weight"] is NSNumber, goal["start_date"] is String
                    else { return problem(.unprocessableEntity, "validation_failed") }
                    let created = state.goals.insert(email).inserted
                    return Answer(status: created ? .created : .ok, body: "{}", isLoad: false)
                case "GET /v1/goal/progress":
                    guard state.goals.contains(email) else { return problem(.notFound, "not_found") }
                    return Answer(status: .ok, body: "{\"state\":\"on_track\"}", isLoad: true)
                default:
                    return problem(.notFound, "not_found")
                }
            }()
            state.statuses[Int(answer.status.code), default: 0] += 1
            return answer
        }
    }

    /// Whether the next load answer should close its connection.
    fileprivate func shouldClose() -> Bool {
        guard let every = behaviour.closeEvery else { return false }
        return state.withLock { state in
            state.answered += 1
            return state.answered % every == 0
        }
    }
}

enum FakeServerError: Error {
    case noFreePort
}

/// Reads a whole request and writes the fake's answer, after the configured delay for load endpoints.
private final class FakeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let server: FakeWeighinServer
    private var head: HTTPRequestHead?
    private var body = Data()

    init(server: FakeWeighinServer) {
        self.server = server
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = Data()
        case .body(let buffer):
            body.append(contentsOf: buffer.readableBytesView)
        case .end:
            guard let head else { return }
            let answer = server.answer(method: head.method, uri: head.uri, headers: head.headers, body: body)
            let close = answer.isLoad && server.shouldClose()
            let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
            if answer.isLoad, server.behaviour.delay > .zero {
                context.eventLoop.scheduleTask(in: server.behaviour.delay) {
                    let (handler, context) = bound.value
                    handler.write(answer, close: close, context: context)
                }
            } else {
                write(answer, close: close, context: context)
            }
        }
    }

    private func write(_ answer: FakeWeighinServer.Answer, close: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: answer.status.code >= 400 ? "application/problem+json" : "application/json")
        if close { headers.add(name: "Connection", value: "close") }
        if let retryAfter = answer.retryAfter { headers.add(name: "Retry-After", value: String(retryAfter)) }
        let bytes = ByteBuffer(string: answer.body)
        if !answer.chunked { headers.add(name: "Content-Length", value: String(bytes.readableBytes)) }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: answer.status, headers: headers))), promise: nil)
        if answer.chunked, bytes.readableBytes > 1 {
            // Two chunks, so the client sees a body split across chunk boundaries.
            let half = bytes.readableBytes / 2
            context.write(wrapOutboundOut(.body(.byteBuffer(bytes.getSlice(at: 0, length: half)!))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(bytes.getSlice(at: half, length: bytes.readableBytes - half)!))), promise: nil)
        } else {
            context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if close {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            done.whenComplete { _ in bound.value.close(promise: nil) }
        }
    }
}
