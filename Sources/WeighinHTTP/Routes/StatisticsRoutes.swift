import Hummingbird
import WeighinService

/// Statistics and trend: `/v1/stats` and `/v1/trend`.
struct StatisticsRoutes {
    let services: WeighinServices

    var routes: [Route] {
        [
            Route(.get, "/v1/stats", authenticated: true, statistics),
            Route(.get, "/v1/trend", authenticated: true, trend),
        ]
    }

    @Sendable func statistics(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        var query = QueryReader(request)
        let range = query.dateRange()
        let unit = query.unit() ?? auth.weightUnit
        try query.finish()
        let stats = try await services.statistics.statistics(auth, range: range, unit: unit)
        return JSONResponse.make { $0.statistics(stats) }
    }

    @Sendable func trend(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        var query = QueryReader(request)
        let range = query.dateRange()
        let unit = query.unit() ?? auth.weightUnit
        let window = query.integer("window", in: StatisticsService.windows, default: 7)
        try query.finish()
        let points = try await services.statistics.trend(auth, range: range, unit: unit, window: window)
        return JSONResponse.make { $0.trend(points, unit: unit, window: window) }
    }
}
