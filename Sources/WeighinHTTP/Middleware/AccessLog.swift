import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Primitives
import Synchronization

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-ID")!
}

/// Each request's id (the client's `X-Request-ID` when it is sensible, else a new one) and its one access-log line:
/// method, route, status, duration. Never the query, headers or body, where tokens and passwords travel.
struct AccessLog: Sendable {
    /// Whether the lines are written (`--access-log`).
    let enabled: Bool

    /// Logs the line of a request answered with `status`, with its id.
    ///
    /// The id is named in the line rather than set on `context.logger`: setting logger metadata copies the handler
    /// and its dictionary on every request, and only two lines are ever logged with it.
    func record(_ request: Request, route: String, status: Int, elapsed: Duration, context: AppRequestContext) {
        guard enabled else { return }
        context.logger.info(
            "request",
            metadata: [
                "request_id": .string(context.requestID),
                "method": .string(request.method.rawValue),
                "route": .string(route),
                "status": .stringConvertible(status),
                "duration_ms": .stringConvertible(Double(elapsed.nanoseconds / 1000) / 1000),
            ])
    }

    /// The client's id when it is 1 to 128 visible ASCII characters, else a new one (`newRequestID`).
    static func requestID(from request: Request) -> String {
        if let given = request.headers[.requestID], (1...128).contains(given.utf8.count),
            given.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f })
        {
            return given
        }
        return newRequestID()
    }

    /// Up to 16 hex digits, never the same twice in a process and unrelated between processes: a counter offset
    /// by a random key drawn once, through SplitMix64's finalizer (a bijection, so distinct counts give distinct
    /// ids). Why not a random number per request: the system's generator costs a `getrandom` call each time.
    static func newRequestID() -> String {
        var z = requestCount.wrappingAdd(1, ordering: .relaxed).newValue &+ requestIDKey
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return String(z ^ (z >> 31), radix: 16)
    }

    private static let requestIDKey = UInt64.random(in: .min ... .max)
    private static let requestCount = Atomic<UInt64>(0)
}
