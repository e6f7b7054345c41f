import Hummingbird

/// Counts every request by method, route pattern and status, and times it by method and route.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let metrics: AppMetrics

    func handle(
        _ request: Request, context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        let response = try await next(request, context)
        metrics.recordRequest(
            method: request.method.rawValue, route: RouteTable.label(forEndpoint: context.endpointPath),
            status: response.status.code, duration: started.duration(to: .now))
        return response
    }
}
