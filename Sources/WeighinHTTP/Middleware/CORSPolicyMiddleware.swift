import HTTPTypes
import Hummingbird

/// Lets browsers on the configured origins call the API (CORS); other origins get no CORS headers, so browsers
/// refuse them. Preflight requests (`OPTIONS` with an `Origin`) are answered here.
struct CORSPolicyMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    /// Allowed origins, or `["*"]` for any.
    let origins: [String]

    func handle(
        _ request: Request, context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let origin = request.headers[.origin], origins == ["*"] || origins.contains(origin) else {
            return try await next(request, context)
        }
        var cors: HTTPFields = [
            .accessControlAllowOrigin: origins == ["*"] ? "*" : origin,
            .accessControlExposeHeaders: "Location, Retry-After, X-Request-ID, WWW-Authenticate, ETag",
            .vary: "Origin",
        ]
        if request.method == .options {
            cors[.accessControlAllowMethods] = "GET, POST, PUT, PATCH, DELETE"
            cors[.accessControlAllowHeaders] = "Authorization, Content-Type, Idempotency-Key, X-Request-ID, If-Match, If-None-Match"
            cors[.accessControlMaxAge] = "600"
            return Response(status: .noContent, headers: cors)
        }
        var response = try await next(request, context)
        response.headers.append(contentsOf: cors)
        return response
    }
}
