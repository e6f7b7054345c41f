import Hummingbird
import Logging
import NIOCore
import WeighinService

/// The request context: the request id, and who is calling once the bearer token has been checked.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The id of this request (`X-Request-ID`, accepted from the client or generated), in every log line and answer.
    public var requestID: String
    /// Set by `AuthenticatedRoute` on authenticated routes.
    public var authentication: Authentication?
    /// The address the connection comes from (nil in tests that skip the network): the rate limit's key for calls
    /// without a token.
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        requestID = ""
        remoteAddress = source.channel.remoteAddress
    }

    /// The caller; throws 401 when the route was reached without authentication.
    func caller() throws -> Authentication {
        guard let authentication else { throw Problem.unauthorized }
        return authentication
    }
}

/// Size limits of request bodies.
enum Limits {
    /// JSON bodies: 1 MiB.
    static let jsonBody = 1 << 20
    /// Import bodies (CSV or JSON): 10 MiB.
    static let importBody = 10 << 20

    /// A limit as people read it, in whole mebibytes: `10 MiB`.
    static func text(_ bytes: Int) -> String {
        "\(bytes >> 20) MiB"
    }
}
