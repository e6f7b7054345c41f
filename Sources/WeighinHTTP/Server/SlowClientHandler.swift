#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose client is too slow: the next request's head must arrive within `headTimeout` of the
/// connection becoming idle (also the keep-alive limit), its body within `bodyTimeout` of the head, and an answer
/// that stopped being read (the channel unwritable) must make progress - the socket taking another
/// `progressSlice` bytes at most - within every `writeTimeout`.
///
/// A client sending a byte at a time keeps a connection busy without ever finishing a request, and an idle
/// timeout alone never fires on it (each byte counts as activity); these deadlines do. A client that stops reading
/// a long export would otherwise hold its connection and the task writing to it for ever, while one that reads
/// slowly but steadily must get the whole answer however long it takes.
///
/// Write progress is seen as the socket accepting bytes: answer bodies are written in slices of `progressSlice`,
/// each write's completion restarts the write deadline, and `TCP_NOTSENT_LOWAT` makes the kernel take more as soon
/// as the client reads (without it, Linux reports the socket writable only once a third of its send buffer,
/// autotuned to megabytes, has drained: a client reading 320 KiB/s looked stalled for seconds).
final class SlowClientHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let headTimeout: TimeAmount
    let bodyTimeout: TimeAmount
    let writeTimeout: TimeAmount
    /// The largest piece of an answer's body written at once: the socket taking one is write progress.
    static let progressSlice = 16 * 1024
    /// Unsent bytes the kernel keeps per connection before it stops taking more (`TCP_NOTSENT_LOWAT`).
    static let unsentLimit = 128 * 1024

    /// Requests read whose answer has not been written yet: no client deadline runs while the server works.
    private var unanswered = 0
    private var deadline: Scheduled<Void>?
    /// Runs while the channel is not writable: the client is not reading what was written.
    private var writeDeadline: Scheduled<Void>?
    /// When the socket last took bytes, or the channel last became unwritable.
    private var lastProgress = NIODeadline.now()

    init(headTimeout: TimeAmount, bodyTimeout: TimeAmount, writeTimeout: TimeAmount) {
        self.headTimeout = headTimeout
        self.bodyTimeout = bodyTimeout
        self.writeTimeout = writeTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            limitUnsentBytes(context)
            arm(context, headTimeout)
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        limitUnsentBytes(context)
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
            lastProgress = .now()
            scheduleWriteDeadline(context, in: writeTimeout)
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
        switch unwrapOutboundIn(data) {
        case .end:
            unanswered -= 1
            if unanswered == 0 { arm(context, headTimeout) }
            context.write(data, promise: promise)
        case .body(var buffer):
            while buffer.readableBytes > Self.progressSlice, let slice = buffer.readSlice(length: Self.progressSlice) {
                context.write(wrapOutboundOut(.body(slice)), promise: progressPromise(context))
            }
            let last = progressPromise(context)
            if let promise { last.futureResult.cascade(to: promise) }
            context.write(wrapOutboundOut(.body(buffer)), promise: last)
        case .head:
            context.write(data, promise: promise)
        }
    }

    /// A write's promise that counts its completion as progress (the socket took the bytes).
    private func progressPromise(_ context: ChannelHandlerContext) -> EventLoopPromise<Void> {
        let promise = context.eventLoop.makePromise(of: Void.self)
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        promise.futureResult.whenSuccess { loopBound.value.lastProgress = .now() }
        return promise
    }

    /// Closes the connection once the socket has taken nothing for `writeTimeout`; checks again when it has.
    private func scheduleWriteDeadline(_ context: ChannelHandlerContext, in delay: TimeAmount) {
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        writeDeadline = context.eventLoop.scheduleTask(in: delay) {
            let (handler, context) = loopBound.value
            let stalled = NIODeadline.now() - handler.lastProgress
            if stalled >= handler.writeTimeout {
                handler.writeDeadline = nil
                context.close(promise: nil)
            } else {
                handler.scheduleWriteDeadline(context, in: handler.writeTimeout - stalled)
            }
        }
    }

    /// Sets `TCP_NOTSENT_LOWAT` (Linux), so that the socket takes more as soon as the client reads; a channel that
    /// is not a TCP socket keeps the kernel's default.
    private func limitUnsentBytes(_ context: ChannelHandlerContext) {
        #if os(Linux)
        let option = ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: TCP_NOTSENT_LOWAT))
        context.channel.setOption(option, value: Self.unsentLimit).whenFailure { _ in }
        #endif
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
