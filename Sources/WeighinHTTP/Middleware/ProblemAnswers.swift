import HTTPTypes
import Hummingbird
import Logging
import Postgres
import WeighinService

/// Turns every error into problem JSON through `Problem.from`, the one mapping of errors to HTTP answers.
/// Unexpected failures are logged (with the request id) and answered 500 with nothing internal in the body.
struct ProblemAnswers: Sendable {
    let routes: RouteTable
    /// The web app's pages, when this router serves them (their paths answer 405 to other methods too).
    let pages: WebPages?
    let metrics: AppMetrics

    /// The answer to `request` whose handling threw `error`.
    func response(to error: any Error, of request: Request, context: AppRequestContext) -> Response {
        let problem = Problem.from(error, allowedMethods: {
            routes.methods(forPath: request.uri.path) + (pages?.methods(forPath: request.uri.path) ?? [])
        })
        if let sqlState = Self.sqlState(of: error) { metrics.recordDatabaseError(sqlState: sqlState) }
        if problem.status.kind == .serverError {
            context.logger.error(
                "request failed",
                metadata: [
                    "error": "\(error)", "request_id": "\(context.requestID)", "code": "\(problem.code.rawValue)",
                ])
        }
        return problem.response(requestID: context.requestID)
    }

    /// The SQLSTATE of a failure that came from the database: one the service did not expect, or a transient one it
    /// turned into "unavailable".
    static func sqlState(of error: any Error) -> String? {
        switch error {
        case let error as PostgresError: error.code.rawValue
        case ServiceError.unavailable(_, _, let sqlState?): sqlState
        default: nil
        }
    }
}
