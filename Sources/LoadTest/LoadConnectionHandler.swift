import NIOCore

/// A request in flight: what it is and when it counts from.
struct InFlightRequest {
    var scenario: Scenario
    /// The send time (closed loop) or intended send time (open loop), in monotonic nanoseconds.
    var start: Int64
    /// Whether `start` lies in the measured period.
    var measured: Bool
}

/// One keep-alive load connection: sends the requests its `LoopWorker` gives it and parses the answers.
///
/// It parses straight from the buffers NIO reads into and keeps them only when a response is split
/// across reads, so that NIO can reuse its receive buffer.
final class LoadConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let worker: LoopWorker
    private var context: ChannelHandlerContext?
    private var parser = HTTPResponseParser(keepsBodies: false)
    private var unparsed: ByteBuffer?
    /// Why the connection is closing, when it closes because of an error.
    private var failure: RequestFailure?
    /// The request waiting for its answer.
    private(set) var inFlight: InFlightRequest?

    init(worker: LoopWorker) {
        self.worker = worker
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        worker.connectionBecameActive(self)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if inFlight != nil, let response = try? parser.connectionClosed() {
            deliver(response)
        }
        worker.connectionClosed(self, failure: failure ?? .reset)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if unparsed == nil {
            parse(&buffer)
            if buffer.readableBytes > 0, self.context != nil { unparsed = buffer }
        } else {
            unparsed!.writeBuffer(&buffer)
            parse(&unparsed!)
            if unparsed?.readableBytes == 0 { unparsed = nil }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close(because: failureKind(of: error))
    }

    /// Sends `request`, whose answer is awaited as `inFlight`.
    func send(_ request: ByteBuffer, as inFlight: InFlightRequest) {
        self.inFlight = inFlight
        context?.writeAndFlush(wrapOutboundOut(request), promise: nil)
    }

    /// Forgets the request in flight and returns it, so that the caller can count it as failed.
    func takeInFlight() -> InFlightRequest? {
        defer { inFlight = nil }
        return inFlight
    }

    /// Closes the connection; `failure` is how a request still in flight is counted.
    func close(because failure: RequestFailure? = nil) {
        if self.failure == nil { self.failure = failure }
        context?.close(promise: nil)
    }

    private func parse(_ buffer: inout ByteBuffer) {
        do {
            while context != nil, let response = try parser.parse(&buffer) {
                deliver(response)
            }
        } catch {
            close(because: .protocol)
        }
    }

    private func deliver(_ response: ParsedResponse) {
        guard let request = takeInFlight() else {
            close(because: .protocol)
            return
        }
        worker.responseReceived(on: self, for: request, status: response.status, keepAlive: response.keepAlive)
    }
}
