import HTTPTypes
import Hummingbird
import Logging
import Postgres

/// Turns every error into problem JSON through `Problem.from`, the one mapping of errors to HTTP answers.
/// Unexpected failures are logged (with the request id) and answered 500 with nothing internal in the body.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let routes: RouteTable
    let metrics: AppMetrics

    func handle(
        _ request: Request, context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = Problem.from(error, allowedMethods: { routes.methods(forPath: request.uri.path) })
            if let error = error as? PostgresError { metrics.recordDatabaseError(error) }
            if problem.status.kind == .serverError {
                context.logger.error(
                    "request failed",
                    metadata: ["error": "\(error)", "request_id": "\(context.requestID)", "code": "\(problem.code)"])
            }
            return problem.response(requestID: context.requestID)
        }
    }
}
