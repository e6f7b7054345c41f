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
                entries (`daily=first|last|min|max|mean`), with the weekly rate's 95 % confidence interval.
                """,
            parameters: [.from, .to, .unit, .statsDaily, .ifNoneMatch, .weighinPosition],
            answers: [.json("The statistics.", .stats, headers: [.eTag]), .notModified]
        ) { $0.statistics.statistics },
        Route(
            .get, "/v1/trend", authenticated: true, id: "getTrend", summary: "Trend", tag: .stats,
            description: """
                One point per day with entries in range, ascending: the day's value (`daily`, the mean by default) \
                and its smoothed value by `method`: the mean of the days' values within the `window` calendar days \
                ending on that day (looking back before `from`), or the `ema`/`holt` recurrence started on the first \
                day with entries on or after `from` − \(TrendMethod.runIn) days; rounded half away from zero to \
                \(EntryRules.weightPlaces) decimals, in the display unit. Parameters of other methods are not used, \
                but a value out of range answers 422 naming it all the same.
                """,
            parameters: [.from, .to, .unit, .trendMethod, .window, .smoothing, .slopeSmoothing, .trendDaily, .ifNoneMatch,
                         .weighinPosition],
            answers: [.json("The trend.", .trend, headers: [.eTag]), .notModified]
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
        return JSONResponse.tagged(request) { $0.statistics(stats) }
    }

    @Sendable func trend(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try context.caller()
        var query = QueryReader(request)
        let range = query.dateRange()
        let unit = query.unit() ?? auth.weightUnit
        let method = query.trendMethod()
        let daily = query.daily(DailyValue.trendChoices, default: .trendDefault)
        try query.finish()
        let points = try await services.statistics.trend(auth, range: range, unit: unit, daily: daily, method: method)
        return JSONResponse.tagged(request) { $0.trend(points, unit: unit, daily: daily, method: method) }
    }
}
