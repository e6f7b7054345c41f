import Hummingbird
import WeighinService

/// Statistics and trend: `/v1/stats` and `/v1/trend`.
struct StatisticsRoutes {
    let services: WeighinServices

    static let routes: [Route] = [
        Route(
            .get, "/v1/stats", authenticated: true, id: "getStats", summary: "Statistics", tag: .stats,
            description: """
                Summary of the entries with `from` <= `recorded_on` <= `to` in the display unit (`unit`, else the \
                user's `weight_unit`): of every entry (`daily=all`, the default) or of one value per day with \
                entries (`daily=first|last|min|max|mean`).
                """,
            parameters: [.from, .to, .unit, .statsDaily], answers: [.json("The statistics.", .stats)]
        ) { $0.statistics.statistics },
        Route(
            .get, "/v1/trend", authenticated: true, id: "getTrend", summary: "Trend", tag: .stats,
            description: """
                One point per day with entries in range, ascending: the day's value (`daily`, the mean by default) \
                and the mean of the days' values within the `window` calendar days ending on that day (looking back \
                before `from`); rounded half away from zero to \(EntryRules.weightPlaces) decimals, in the display \
                unit.
                """,
            parameters: [.from, .to, .unit, .window, .trendDaily], answers: [.json("The trend.", .trend)]
        ) { $0.statistics.trend },
    ]

    @Sendable func statistics(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        var query = QueryReader(request)
        let range = query.dateRange()
        let unit = query.unit() ?? auth.weightUnit
        let daily = query.daily(DailyValue.allCases, default: .statisticsDefault)
        try query.finish()
        let stats = try await services.statistics.statistics(auth, range: range, unit: unit, daily: daily)
        return JSONResponse.make { $0.statistics(stats) }
    }

    @Sendable func trend(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        var query = QueryReader(request)
        let range = query.dateRange()
        let unit = query.unit() ?? auth.weightUnit
        let window = query.integer("window", in: StatisticsService.windows, default: StatisticsService.defaultWindow)
        let daily = query.daily(DailyValue.trendChoices, default: .trendDefault)
        try query.finish()
        let points = try await services.statistics.trend(auth, range: range, unit: unit, daily: daily, window: window)
        return JSONResponse.make { $0.trend(points, unit: unit, daily: daily, window: window) }
    }
}
