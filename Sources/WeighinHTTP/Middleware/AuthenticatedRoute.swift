import Hummingbird
import WeighinService

/// What runs around the handler of an authenticated route, in the route's own closure: the bearer check before
/// anything else (a missing, malformed, expired or revoked token answers 401 whatever the body, size or query),
/// the token's scope, read-your-writes (``ReadYourWrites``) and `Cache-Control: no-store`.
///
/// Why not middleware: each middleware layer adds frames to the task of every keep-alive connection, for the
/// connection's life (``RequestPipelineMiddleware`` says more).
struct AuthenticatedRoute: Sendable {
    let tokens: TokenService
    let readYourWrites: ReadYourWrites

    /// The answer of `handler` to `request` made with a token that allows `requirement`.
    ///
    /// Synchronous steps are functions of their own, not inlined here: this frame lives as long as the connection's
    /// task (``RequestPipelineMiddleware`` says why that matters).
    func respond(
        to request: Request, context: AppRequestContext, requirement: AccessRequirement, handler: Route.Handler
    ) async throws -> Response {
        let token = try Self.token(of: request)
        let context = try admit(request, context, as: try await tokens.authenticate(token), requirement)
        if readYourWrites.tracks(request) { return try await respondTracking(request, context, handler) }
        return Self.finish(try await handler(request, context))
    }

    /// The bearer token of `request`; 401 when there is none, or more than one `Authorization`.
    @inline(never)
    private static func token(of request: Request) throws -> String {
        let headers = request.headers[values: .authorization]
        guard headers.count == 1, let token = BearerCredential.token(in: headers[0]) else { throw Problem.unauthorized }
        return token
    }

    /// `context` with its caller, reading after the position it sent; 403 when its token does not allow
    /// `requirement`.
    @inline(never)
    private func admit(
        _ request: Request, _ context: AppRequestContext, as caller: Authentication, _ requirement: AccessRequirement
    ) throws -> AppRequestContext {
        let caller = readYourWrites.caller(caller, of: request)
        try caller.require(requirement)
        var context = context
        context.authentication = caller
        return context
    }

    /// The handler's answer to a write with standbys: its position recorded whether it succeeds or fails.
    private func respondTracking(
        _ request: Request, _ context: AppRequestContext, _ handler: Route.Handler
    ) async throws -> Response {
        let user = try context.caller().userID
        let response: Response
        do {
            response = try await handler(request, context)
        } catch {
            await readYourWrites.failedWrite(of: user)
            throw error
        }
        return Self.finish(await ReadYourWrites.confirm(response, writeOf: user, database: readYourWrites.database))
    }

    @inline(never)
    private static func finish(_ response: Response) -> Response {
        var response = response
        response.keepOutOfCaches()
        return response
    }
}

extension Response {
    /// Marks an answer that carries a token or the user's data `Cache-Control: no-store`, so no shared or browser
    /// cache keeps it: every answer of an authenticated route, and log-in's and registration's.
    mutating func keepOutOfCaches() {
        headers[.cacheControl] = "no-store"
    }
}
