import Foundation
import Postgres
import Primitives

/// Summary figures over a range of entries, in one display unit.
public struct Statistics: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        public let recordedOn: CalendarDate
        public let weight: Decimal
    }

    public let unit: WeightUnit
    /// The values used: every entry, or one per day.
    public let daily: DailyValue
    /// Values used: entries for `all`, days otherwise.
    public let count: Int
    public let min: Decimal?
    public let max: Decimal?
    public let mean: Decimal?
    public let first: Point?
    public let latest: Point?
    public let change: Decimal?
    /// Least-squares slope of weight against day, times 7; nil with fewer than 2 distinct days.
    public let weeklyRate: Decimal?
    /// The 95 % confidence interval of `weeklyRate` (slope ± t₀.₉₇₅,ₙ₋₂ × its standard error, times 7); nil with
    /// fewer than 3 distinct days.
    public let weeklyRateCI95: RateInterval?

    /// An interval of weekly rates.
    public struct RateInterval: Sendable, Equatable {
        public let low: Decimal
        public let high: Decimal
    }
}

/// One day of a trend: that day's value (by the `daily` choice) and the smoothed value on that day.
public struct TrendPoint: Sendable, Equatable {
    public let date: CalendarDate
    public let weight: Decimal
    public let average: Decimal
}

/// Statistics and trends, computed in SQL from exact values (no row is loaded into Swift to be summed).
///
/// Weights are converted into the display unit exactly (numeric arithmetic), and only the final figures are
/// rounded half away from zero to 2 decimals (PostgreSQL's `round(numeric, 2)`).
public final class StatisticsService: Sendable {
    /// The allowed moving-average window, in calendar days.
    public static let windows = 1...90
    /// The window when the request names none.
    public static let defaultWindow = 7

    let database: Database

    init(database: Database) {
        self.database = database
    }

    /// The weight of each entry in `unit`, exact: a fixed SQL fragment per unit (so each is prepared once).
    static func weight(in unit: WeightUnit) -> SQL {
        switch unit {
        case .kg: "CASE WHEN unit = 'kg' THEN weight ELSE weight * 0.45359237 END"
        case .lb: "CASE WHEN unit = 'lb' THEN weight ELSE weight / 0.45359237 END"
        }
    }

    /// The relation `e` of `DailyValue.values`: the user's entries from `first` to `last`, their weight in `unit`.
    static func entries(_ auth: Authentication, from first: SQL, to last: CalendarDate, unit: WeightUnit) -> SQL {
        """
        SELECT recorded_on, coalesce(measured_at, 'infinity'::timestamptz) AS m, created_at, id, weight, unit,
               \(weight(in: unit)) AS w
        FROM weight_entries
        WHERE user_id = \(auth.userID) AND recorded_on BETWEEN \(first) AND \(last)
        """
    }

    /// Count, minimum, maximum, mean, first and latest value, change and weekly rate over `range`, of every entry
    /// or one value per day (`daily`).
    public func statistics(_ auth: Authentication, range: DateRange, unit: WeightUnit, daily: DailyValue) async throws
        -> Statistics
    {
        let rows = try await database.read(
            SQL("""
                WITH e AS (\(Self.entries(auth, from: "\(range.lowerBound)", to: range.upperBound, unit: unit))),
                v AS (
                    SELECT *, (recorded_on - DATE '2000-01-01')::numeric AS x FROM (\(daily.values)) AS chosen),
                totals AS (
                    SELECT count(*) AS n, count(DISTINCT recorded_on) AS days, min(w) AS min_w, max(w) AS max_w,
                           avg(w) AS mean_w, sum(x) AS sx, sum(w) AS sy, sum(x * w) AS sxy, sum(x * x) AS sxx,
                           sum(w * w) AS syy
                    FROM v),
                fit AS (
                    -- Centred sums: the slope b = Sxy / Sxx and the residual sum of squares Syy − b·Sxy.
                    SELECT sxx - sx * sx / n AS cxx, sxy - sx * sy / n AS cxy, syy - sy * sy / n AS cyy
                    FROM totals WHERE days >= 2),
                first AS (SELECT * FROM v ORDER BY recorded_on, m, created_at, id LIMIT 1),
                latest AS (SELECT * FROM v ORDER BY recorded_on DESC, m DESC, created_at DESC, id DESC LIMIT 1)
                SELECT totals.n, round(totals.min_w, 2) AS min, round(totals.max_w, 2) AS max,
                       round(totals.mean_w, 2) AS mean,
                       first.recorded_on AS first_on, first.weight AS first_weight, first.unit AS first_unit,
                       round(first.w, 2) AS first_w,
                       latest.recorded_on AS latest_on, latest.weight AS latest_weight, latest.unit AS latest_unit,
                       round(latest.w, 2) AS latest_w,
                       round(latest.w - first.w, 2) AS change,
                       CASE WHEN totals.days >= 2 THEN
                           round(7 * (totals.n * totals.sxy - totals.sx * totals.sy)
                                 / (totals.n * totals.sxx - totals.sx * totals.sx), 2)
                       END AS weekly_rate,
                       totals.days, (fit.cxy / fit.cxx)::float8 AS slope, fit.cxx::float8 AS cxx,
                       -- exact until here: the residual sum is a small difference of large sums
                       (fit.cyy - fit.cxy * fit.cxy / fit.cxx)::float8 AS sse
                FROM totals LEFT JOIN first ON true LEFT JOIN latest ON true LEFT JOIN fit ON true
                """, name: "stats.summary.\(daily.rawValue)"), for: auth)
        let row = rows[0]
        /// A point: one entry's weight shown in the display unit (exact in its own), or a day's mean.
        func point(_ prefix: String) throws -> Statistics.Point? {
            guard let day = try row.decode(CalendarDate?.self, column: prefix + "_on") else { return nil }
            if let value = try row.decode(Decimal?.self, column: prefix + "_weight") {
                let weight = Weight(value: value, unit: try row.decode(column: prefix + "_unit"))
                return Statistics.Point(recordedOn: day, weight: weight.shown(in: unit))
            }
            return Statistics.Point(recordedOn: day, weight: try row.decode(column: prefix + "_w"))
        }
        return Statistics(
            unit: unit, daily: daily, count: try row.decode(column: "n"), min: try row.decode(column: "min"),
            max: try row.decode(column: "max"), mean: try row.decode(column: "mean"), first: try point("first"),
            latest: try point("latest"), change: try row.decode(column: "change"),
            weeklyRate: try row.decode(column: "weekly_rate"),
            weeklyRateCI95: Self.confidenceInterval(
                days: try row.decode(column: "days"), points: try row.decode(column: "n"),
                slope: try row.decode(column: "slope"), cxx: try row.decode(column: "cxx"),
                sse: try row.decode(column: "sse")))
    }

    /// The weekly rate's 95 % interval from the fit's exact sums: slope ± t₀.₉₇₅,ₙ₋₂ · √(SSE / (n − 2) / Sxx), times 7,
    /// rounded to 2 decimals; nil with fewer than 3 distinct days.
    static func confidenceInterval(days: Int, points: Int, slope: Double?, cxx: Double?, sse: Double?)
        -> Statistics.RateInterval?
    {
        guard days >= 3, points >= 3, let slope, let cxx, let sse, cxx > 0 else { return nil }
        let error = (max(0, sse) / Double(points - 2) / cxx).squareRoot()
        let half = StudentT.quantile(0.975, degrees: points - 2) * error
        return Statistics.RateInterval(
            low: Smoothing.rounded(7 * (slope - half)), high: Smoothing.rounded(7 * (slope + half)))
    }

    /// One point per day with entries in `range`: the day's value (`daily`, not `all`) and its smoothed value by
    /// `method`, in one statement.
    public func trend(
        _ auth: Authentication, range: DateRange, unit: WeightUnit, daily: DailyValue, method: TrendMethod
    ) async throws -> [TrendPoint] {
        guard daily != .all else { throw ServiceError.invalid("daily", "a trend takes one value per day, not all") }
        switch method {
        case .window(let days):
            return try await windowTrend(auth, range: range, unit: unit, daily: daily, window: days)
        case .ema(let smoothing):
            let values = try await dailyValues(auth, range: range, unit: unit, daily: daily)
            let averages = Smoothing.ema(values.map(\.point), alpha: Self.double(smoothing))
            return Self.points(values, averages, from: range.from)
        case .holt(let smoothing, let slopeSmoothing):
            let values = try await dailyValues(auth, range: range, unit: unit, daily: daily)
            let levels = Smoothing.holt(
                values.map(\.point), alpha: Self.double(smoothing), beta: Self.double(slopeSmoothing))
            return Self.points(values, levels, from: range.from)
        }
    }

    /// The mean of the days' values within `window` calendar days ending on each day (reaching back before
    /// `range.from` where the window does), computed by the database.
    private func windowTrend(
        _ auth: Authentication, range: DateRange, unit: WeightUnit, daily: DailyValue, window: Int
    ) async throws -> [TrendPoint] {
        let reach = window - 1
        let rows = try await database.read(
            SQL("""
                WITH e AS (
                    \(Self.entries(auth, from: "\(range.lowerBound) - \(reach)::int", to: range.upperBound, unit: unit))),
                daily AS (SELECT recorded_on AS day, w AS value FROM (\(daily.values)) AS chosen),
                windowed AS (
                    SELECT day, value,
                           avg(value) OVER (ORDER BY day RANGE BETWEEN make_interval(days => \(reach)::int) PRECEDING
                                                          AND CURRENT ROW) AS average
                    FROM daily)
                SELECT day, round(value, 2) AS weight, round(average, 2) AS average
                FROM windowed WHERE day >= \(range.lowerBound) ORDER BY day
                """, name: "stats.trend.\(daily.rawValue)"), for: auth)
        return try rows.map { row in
            TrendPoint(
                date: try row.decode(column: "day"), weight: try row.decode(column: "weight"),
                average: try row.decode(column: "average"))
        }
    }

    /// A day's value, exact and as answered.
    struct DailyRow {
        let point: DayValue
        /// The value rounded to 2 decimals by the database, from the exact one.
        let shown: Decimal
    }

    /// The days' values from the first day with entries on or after `from` minus the run-in (the whole history
    /// without `from`) to `to`, oldest first, for the smoothing folds.
    func dailyValues(_ auth: Authentication, range: DateRange, unit: WeightUnit, daily: DailyValue) async throws
        -> [DailyRow]
    {
        let start: SQL = range.from.map { "\($0.adding(days: -TrendMethod.runIn))" } ?? "\(range.lowerBound)"
        let rows = try await database.read(
            SQL("""
                WITH e AS (\(Self.entries(auth, from: start, to: range.upperBound, unit: unit)))
                SELECT recorded_on AS day, w AS value, round(w, 2) AS shown FROM (\(daily.values)) AS chosen
                ORDER BY recorded_on
                """, name: "stats.daily_values.\(daily.rawValue)"), for: auth)
        return try rows.map { row in
            DailyRow(
                point: DayValue(day: try row.decode(column: "day"), value: Self.double(try row.decode(column: "value"))),
                shown: try row.decode(column: "shown"))
        }
    }

    /// The points on or after `from`, each with its smoothed value rounded to 2 decimals.
    private static func points(_ values: [DailyRow], _ smoothed: [Double], from: CalendarDate?) -> [TrendPoint] {
        zip(values, smoothed).compactMap { value, average in
            if let from, value.point.day < from { return nil }
            return TrendPoint(date: value.point.day, weight: value.shown, average: Smoothing.rounded(average))
        }
    }

    static func double(_ value: Decimal) -> Double {
        NSDecimalNumber(decimal: value).doubleValue
    }
}
