import Hummingbird
import WeighinService

/// Checks `Authorization: Bearer <token>` before anything else on authenticated routes: a missing, malformed,
/// expired or revoked token answers 401 whatever the body, size or query.
struct BearerAuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let tokens: TokenService

    func handle(
        _ request: Request, context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        let headers = request.headers[values: .authorization]
        guard headers.count == 1, let token = Self.bearerToken(headers[0]) else { throw Problem.unauthorized }
        var context = context
        context.authentication = try await tokens.authenticate(token)
        return try await next(request, context)
    }

    /// The token of a `Bearer` credential (scheme case-insensitive), or nil for anything else.
    static func bearerToken(_ header: String) -> String? {
        let parts = header.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1])
    }
}
