import Hummingbird

/// Marks answers that carry a token or the user's data `Cache-Control: no-store`, so no shared or browser cache
/// keeps them: every answer of an authenticated route, and log-in's and registration's.
struct NoStoreMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(
        _ request: Request, context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.cacheControl] = "no-store"
        return response
    }
}
