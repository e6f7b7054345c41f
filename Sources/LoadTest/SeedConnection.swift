import NIOCore
import NIOPosix

/// One keep-alive connection that sends a request at a time and returns whole responses with their bodies.
///
/// Seeding uses it: it is simple rather than fast, and reconnects when the server closes the connection.
final class SeedConnection {
    private let eventLoop: any EventLoop
    private let target: LoadTestTarget
    private let timeout: TimeAmount
    private var channel: (any Channel)?

    /// Opens a connection; throws a one-line `LoadTestError` when the target cannot be reached.
    init(eventLoop: any EventLoop, target: LoadTestTarget, timeout: Duration) async throws {
        self.eventLoop = eventLoop
        self.target = target
        self.timeout = TimeAmount(timeout)
        channel = try await connect()
    }

    private func connect() async throws -> any Channel {
        let timeout = timeout
        do {
            return try await makeBootstrap(on: eventLoop, connectTimeout: .seconds(10))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(SeedHandler(timeout: timeout))
                    }
                }
                .connect(host: target.host, port: target.port)
                .get()
        } catch {
            throw LoadTestError("cannot connect to \(target): \(describeConnectionError(error))")
        }
    }

    /// Sends `request` and waits for the whole response.
    func send(_ request: ByteBuffer) async throws -> ParsedResponse {
        let channel: any Channel
        if let open = self.channel, open.isActive {
            channel = open
        } else {
            channel = try await connect()
            self.channel = channel
        }
        let promise = channel.eventLoop.makePromise(of: ParsedResponse.self)
        channel.writeAndFlush(SeedRequest(bytes: request, response: promise), promise: nil)
        do {
            let response = try await promise.futureResult.get()
            if !response.keepAlive {
                self.channel = nil
                channel.close(promise: nil)
            }
            return response
        } catch {
            self.channel = nil
            channel.close(promise: nil)
            throw error
        }
    }

    /// Closes the connection.
    func close() async {
        try? await channel?.close()
        channel = nil
    }
}

/// A request for `SeedHandler`: the bytes to send and the promise of the response.
struct SeedRequest: Sendable {
    var bytes: ByteBuffer
    var response: EventLoopPromise<ParsedResponse>
}

/// Sends one `SeedRequest` at a time and completes its promise with the parsed response.
final class SeedHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = SeedRequest
    typealias OutboundOut = ByteBuffer

    private let timeout: TimeAmount
    private var parser = HTTPResponseParser(keepsBodies: true)
    private var received = ByteBuffer()
    private var pending: EventLoopPromise<ParsedResponse>?
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        guard pending == nil else {
            request.response.fail(LoadTestError("a request is already in flight on this connection"))
            return
        }
        pending = request.response
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) { [timeout] in
            let (handler, context) = bound.value
            handler.fail(LoadTestError("no answer within \(timeout.nanoseconds / 1_000_000) ms"))
            context.close(promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(request.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        received.writeBuffer(&buffer)
        do {
            while let response = try parser.parse(&received) {
                succeed(response)
            }
            received.discardReadBytes()
        } catch {
            fail(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        do {
            if let response = try parser.connectionClosed() { succeed(response) }
        } catch {}
        fail(LoadTestError("the server closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(LoadTestError(describeConnectionError(error)))
        context.close(promise: nil)
    }

    private func succeed(_ response: ParsedResponse) {
        timer?.cancel()
        timer = nil
        let promise = pending
        pending = nil
        promise?.succeed(response)
    }

    private func fail(_ error: any Error) {
        timer?.cancel()
        timer = nil
        let promise = pending
        pending = nil
        promise?.fail(error)
    }
}
