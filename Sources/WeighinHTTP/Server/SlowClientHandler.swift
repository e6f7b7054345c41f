import NIOCore
import NIOHTTPTypes

/// Closes a connection whose client is too slow: the next request's head must arrive within `headTimeout` of the
/// connection becoming idle (also the keep-alive limit), its body within `bodyTimeout` of the head, and an answer
/// that stopped being read (the socket's buffers full) must move again within `writeTimeout`.
///
/// A client sending a byte at a time keeps a connection busy without ever finishing a request, and an idle
/// timeout alone never fires on it (each byte counts as activity); these deadlines do. A client that stops reading
/// a long export would otherwise hold its connection and the task writing to it for ever.
final class SlowClientHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let headTimeout: TimeAmount
    let bodyTimeout: TimeAmount
    let writeTimeout: TimeAmount
    /// Requests read whose answer has not been written yet: no client deadline runs while the server works.
    private var unanswered = 0
    private var deadline: Scheduled<Void>?
    /// Runs while the channel is not writable: the client is not reading what was written.
    private var writeDeadline: Scheduled<Void>?

    init(headTimeout: TimeAmount, bodyTimeout: TimeAmount, writeTimeout: TimeAmount) {
        self.headTimeout = headTimeout
        self.bodyTimeout = bodyTimeout
        self.writeTimeout = writeTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, headTimeout) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context, headTimeout)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        stopWriteDeadline()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
        stopWriteDeadline()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            stopWriteDeadline()
        } else if writeDeadline == nil {
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            writeDeadline = context.eventLoop.scheduleTask(in: writeTimeout) {
                loopBound.value.close(promise: nil)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            arm(context, bodyTimeout)
        case .body:
            break
        case .end:
            disarm()
            unanswered += 1
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            unanswered -= 1
            if unanswered == 0 { arm(context, headTimeout) }
        }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext, _ timeout: TimeAmount) {
        disarm()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            loopBound.value.close(promise: nil)
        }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }

    private func stopWriteDeadline() {
        writeDeadline?.cancel()
        writeDeadline = nil
    }
}
