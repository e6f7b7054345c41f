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
    public let count: Int
    public let min: Decimal?
    public let max: Decimal?
    public let mean: Decimal?
    public let first: Point?
    public let latest: Point?
    public let change: Decimal?
    /// Least-squares slope of weight against day, times 7; nil with fewer than 2 distinct days.
    public let weeklyRate: Decimal?
}

/// One day of a trend: that day's mean and the moving average of daily means.
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

    /// Count, minimum, maximum, mean, first and latest entry, change and weekly rate over `range`.
    public func statistics(_ auth: Authentication, range: DateRange, unit: WeightUnit) async throws -> Statistics {
        let rows = try await database.query(
            SQL("""
                WITH e AS (
                    SELECT recorded_on, created_at, id, weight, unit, \(Self.weight(in: unit)) AS w,
                           (recorded_on - DATE '2000-01-01')::numeric AS x
                    FROM weight_entries
                    WHERE user_id = \(auth.userID) AND recorded_on BETWEEN \(range.lowerBound) AND \(range.upperBound)),
                totals AS (
                    SELECT count(*) AS n, count(DISTINCT recorded_on) AS days, min(w) AS min_w, max(w) AS max_w,
                           avg(w) AS mean_w, sum(x) AS sx, sum(w) AS sy, sum(x * w) AS sxy, sum(x * x) AS sxx
                    FROM e),
                first AS (SELECT * FROM e ORDER BY recorded_on, created_at, id LIMIT 1),
                latest AS (SELECT * FROM e ORDER BY recorded_on DESC, created_at DESC, id DESC LIMIT 1)
                SELECT totals.n, round(totals.min_w, 2) AS min, round(totals.max_w, 2) AS max,
                       round(totals.mean_w, 2) AS mean,
                       first.recorded_on AS first_on, first.weight AS first_weight, first.unit AS first_unit,
                       latest.recorded_on AS latest_on, latest.weight AS latest_weight, latest.unit AS latest_unit,
                       round(latest.w - first.w, 2) AS change,
                       CASE WHEN totals.days >= 2 THEN
                           round(7 * (totals.n * totals.sxy - totals.sx * totals.sy)
                                 / (totals.n * totals.sxx - totals.sx * totals.sx), 2)
                       END AS weekly_rate
                FROM totals LEFT JOIN first ON true LEFT JOIN latest ON true
                """, name: "stats.summary"))
        let row = rows[0]
        func point(_ prefix: String) throws -> Statistics.Point? {
            guard let day = try row.decode(CalendarDate?.self, column: prefix + "_on") else { return nil }
            let weight = Weight(
                value: try row.decode(column: prefix + "_weight"), unit: try row.decode(column: prefix + "_unit"))
            return Statistics.Point(recordedOn: day, weight: weight.shown(in: unit))
        }
        return Statistics(
            unit: unit, count: try row.decode(column: "n"), min: try row.decode(column: "min"),
            max: try row.decode(column: "max"), mean: try row.decode(column: "mean"), first: try point("first"),
            latest: try point("latest"), change: try row.decode(column: "change"),
            weeklyRate: try row.decode(column: "weekly_rate"))
    }

    /// One point per day with entries in `range`: the day's mean and the mean of the daily means within `window`
    /// calendar days ending on it (reaching back before `range.from` where the window does).
    public func trend(_ auth: Authentication, range: DateRange, unit: WeightUnit, window: Int) async throws
        -> [TrendPoint]
    {
        let reach = window - 1
        let rows = try await database.query(
            SQL("""
                WITH daily AS (
                    SELECT recorded_on AS day, avg(\(Self.weight(in: unit))) AS mean
                    FROM weight_entries
                    WHERE user_id = \(auth.userID)
                      AND recorded_on BETWEEN \(range.lowerBound) - \(reach)::int AND \(range.upperBound)
                    GROUP BY recorded_on),
                windowed AS (
                    SELECT day, mean,
                           avg(mean) OVER (ORDER BY day RANGE BETWEEN make_interval(days => \(reach)::int) PRECEDING
                                                         AND CURRENT ROW) AS average
                    FROM daily)
                SELECT day, round(mean, 2) AS weight, round(average, 2) AS average
                FROM windowed WHERE day >= \(range.lowerBound) ORDER BY day
                """, name: "stats.trend"))
        return try rows.map { row in
            TrendPoint(
                date: try row.decode(column: "day"), weight: try row.decode(column: "weight"),
                average: try row.decode(column: "average"))
        }
    }
}
