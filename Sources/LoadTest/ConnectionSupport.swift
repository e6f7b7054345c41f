import Foundation
import NIOCore
import NIOPosix

/// A client bootstrap for `eventLoop` with the options every connection of the load test uses.
func makeBootstrap(on eventLoop: any EventLoop, connectTimeout: TimeAmount) -> ClientBootstrap {
    ClientBootstrap(group: eventLoop)
        .channelOption(.socketOption(.so_reuseaddr), value: 1)
        .channelOption(.tcpOption(.tcp_nodelay), value: 1)
        .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16 * 1024, maximum: 256 * 1024))
        .connectTimeout(connectTimeout)
}

/// A short reason for a failed connection, such as `connection refused`.
func describeConnectionError(_ error: any Error) -> String {
    if let error = error as? NIOConnectionError {
        if let dnsError = error.dnsAError ?? error.dnsAAAAError {
            return "cannot resolve the host (\(dnsError))"
        }
        if let first = error.connectionErrors.first {
            return describeConnectionError(first.error)
        }
        return "no address found for the host"
    }
    if let error = error as? IOError {
        return String(cString: strerror(error.errnoCode)).lowercased()
    }
    if let error = error as? ChannelError, case .connectTimeout = error {
        return "connection timed out"
    }
    return String(describing: error)
}

/// Classifies an error that broke an open connection.
func failureKind(of error: any Error) -> RequestFailure {
    if error is HTTPParseError { return .protocol }
    if let error = error as? IOError, error.errnoCode == ETIMEDOUT { return .timeout }
    return .reset
}

/// Nanoseconds on the monotonic clock that `NIODeadline` uses.
@inline(__always)
func monotonicNanoseconds() -> Int64 {
    Int64(NIODeadline.now().uptimeNanoseconds)
}
