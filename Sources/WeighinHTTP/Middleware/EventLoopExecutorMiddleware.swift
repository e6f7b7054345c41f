import Hummingbird

/// Runs the rest of a request's handling with the event loop it runs on as its task's executor
/// (``EventLoopTaskExecutor`` says why); outermost, so every other middleware and the route run inside.
///
/// Off NIO's loops (where `main` has not made them run tasks, as in tests) the request is handled as it is.
struct EventLoopExecutorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let executors: EventLoopTaskExecutors

    func handle(
        _ request: Request, context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let executor = executors.current else { return try await next(request, context) }
        return try await withTaskExecutorPreference(executor) { try await next(request, context) }
    }
}
