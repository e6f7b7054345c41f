import HTTPTypes
import Hummingbird

/// Lets browsers on the configured origins call the API (CORS); other origins get no CORS headers, so browsers
/// refuse them. Preflight requests (`OPTIONS` with an allowed `Origin`) are answered without running a route.
struct CORSPolicy: Sendable {
    /// Allowed origins, or `["*"]` for any.
    let origins: [String]

    /// The CORS headers for an answer to `request`, or nil when it has no `Origin` or one not allowed.
    func headers(for request: Request) -> HTTPFields? {
        guard let origin = request.headers[.origin], origins == ["*"] || origins.contains(origin) else { return nil }
        return [
            .accessControlAllowOrigin: origins == ["*"] ? "*" : origin,
            .accessControlExposeHeaders: "Location, Retry-After, X-Request-ID, WWW-Authenticate, ETag",
            .vary: "Origin",
        ]
    }

    /// The answer to a preflight request from an allowed origin, but for the CORS headers of every answer
    /// (`headers(for:)`), which are added to it as to any other.
    static func preflight() -> Response {
        var headers: HTTPFields = [.accessControlAllowMethods: "GET, POST, PUT, PATCH, DELETE"]
        headers[.accessControlMaxAge] = "600"
        headers[.accessControlAllowHeaders] =
            "Authorization, Content-Type, Idempotency-Key, X-Request-ID, If-Match, If-None-Match"
        return Response(status: .noContent, headers: headers)
    }
}
