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
        let rows = try await database.query(
            SQL("""
                WITH e AS (\(Self.entries(auth, from: "\(range.lowerBound)", to: range.upperBound, unit: unit))),
                v AS (
                    SELECT *, (recorded_on - DATE '2000-01-01')::numeric AS x FROM (\(daily.values)) AS chosen),
                totals AS (
                    SELECT count(*) AS n, count(DISTINCT recorded_on) AS days, min(w) AS min_w, max(w) AS max_w,
                           avg(w) AS mean_w, sum(x) AS sx, sum(w) AS sy, sum(x * w) AS sxy, sum(x * x) AS sxx
                    FROM v),
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
                       END AS weekly_rate
                FROM totals LEFT JOIN first ON true LEFT JOIN latest ON true
                """, name: "stats.summary.\(daily.rawValue)"))
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
            weeklyRate: try row.decode(column: "weekly_rate"))
    }

    /// One point per day with entries in `range`: the day's value (`daily`, not `all`) and the mean of the days'
    /// values within `window` calendar days ending on it (reaching back before `range.from` where the window does).
    public func trend(
        _ auth: Authentication, range: DateRange, unit: WeightUnit, daily: DailyValue, window: Int
    ) async throws -> [TrendPoint] {
        guard daily != .all else { throw ServiceError.invalid("daily", "a trend takes one value per day, not all") }
        let reach = window - 1
        let rows = try await database.query(
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
                """, name: "stats.trend.\(daily.rawValue)"))
        return try rows.map { row in
            TrendPoint(
                date: try row.decode(column: "day"), weight: try row.decode(column: "weight"),
                average: try row.decode(column: "average"))
        }
    }
}
