import Foundation
import Postgres
import Primitives

/// Goals: one per user, set (or replaced), read, deleted, and measured against the user's entries.
public final class GoalService: Sendable {
    let database: Database

    init(database: Database) {
        self.database = database
    }

    /// Days of daily means the weekly rate of progress is fitted over, ending on the latest day with entries.
    public static let rateDays = 28
    /// Days with entries those days must hold for a rate.
    public static let rateMinimumDays = 4
    /// The smoothing of `current`: the `ema` trend's default.
    public static let currentSmoothing = TrendMethod.defaultSmoothing

    /// Sets the user's goal, replacing any; returns it and whether it is new. The start defaults to the latest entry
    /// (its weight in its own unit, and its day); weights without a unit are in `display`.
    public func set(_ auth: Authentication, _ input: NewGoal, display: WeightUnit) async throws -> (Goal, created: Bool) {
        var v = Validator(input.problems)
        let unit = input.unit ?? display
        let target = v.require(input.targetWeight, "target_weight").map { Weight(value: $0, unit: unit) }
        if let target { EntryRules.weight(target.value, unit: unit, &v, field: "target_weight") }
        var start: Weight?
        var startDate: CalendarDate?
        switch (input.startWeight, input.startDate) {
        case (let weight?, let day?):
            start = Weight(value: weight, unit: unit)
            startDate = day
            EntryRules.weight(weight, unit: unit, &v, field: "start_weight")
            EntryRules.recordedOn(day, &v, field: "start_date")
        case (nil, nil) where !v.hasFailed("start_weight") && !v.hasFailed("start_date"):
            if let latest = try await latestEntry(auth) {
                (start, startDate) = (latest.weight, latest.recordedOn)
            } else {
                v.fail("start_weight", "is required when there is no entry to start from (with start_date)")
            }
        case (nil, _?):
            _ = v.require(Decimal?.none, "start_weight")
        case (_?, nil):
            _ = v.require(CalendarDate?.none, "start_date")
        default:
            break
        }
        if let target, let start, !v.hasFailed("target_weight"), !v.hasFailed("start_weight"),
            GoalDirection(from: start, to: target) == nil
        {
            v.fail("target_weight", "must differ from the start weight")
        }
        if let targetDate = input.targetDate, let startDate, targetDate <= startDate {
            v.fail("target_date", "must be after start_date (\(startDate))")
        }
        try v.check()
        do {
            let rows = try await database.query(
                SQL("""
                    INSERT INTO goals (user_id, target_weight, target_unit, target_date, start_weight, start_unit,
                                       start_date)
                    VALUES (\(auth.userID), \(target!.value), \(target!.unit), \(input.targetDate), \(start!.value),
                            \(start!.unit), \(startDate!))
                    ON CONFLICT (user_id) DO UPDATE SET
                        target_weight = excluded.target_weight, target_unit = excluded.target_unit,
                        target_date = excluded.target_date, start_weight = excluded.start_weight,
                        start_unit = excluded.start_unit, start_date = excluded.start_date,
                        updated_at = excluded.updated_at  -- the default now(): no mutable function here (Citus)
                    RETURNING \(Goal.columns), xmax = 0 AS created
                    """, name: "goals.upsert"))
            return (try Goal(row: rows[0]), created: try rows[0].decode(column: "created"))
        } catch PostgresError.Code.foreignKeyViolation {
            throw ServiceError.unauthenticated  // the account was deleted meanwhile
        }
    }

    /// The user's goal; `notFound` when there is none.
    public func get(_ auth: Authentication) async throws -> Goal {
        let rows = try await database.read(
            SQL("SELECT \(Goal.columns) FROM goals WHERE user_id = \(auth.userID)", name: "goals.get"), for: auth)
        guard let row = rows.first else { throw ServiceError.notFound }
        return try Goal(row: row)
    }

    /// Deletes the user's goal; `notFound` when there is none.
    public func delete(_ auth: Authentication) async throws {
        let rows = try await database.query(
            SQL("DELETE FROM goals WHERE user_id = \(auth.userID)", name: "goals.delete"))
        guard rows.affectedRows == 1 else { throw ServiceError.notFound }
    }

    /// Where the goal stands in `display`, in one statement: the goal, every day's mean (for the smoothed current
    /// weight) and the exact least-squares rate of the last `rateDays` days. `notFound` without a goal.
    public func progress(_ auth: Authentication, display: WeightUnit) async throws -> GoalProgress {
        let all = DateRange()
        let rows = try await database.read(
            SQL("""
                WITH g AS (SELECT \(Goal.columns) FROM goals WHERE user_id = \(auth.userID)),
                e AS (\(StatisticsService.entries(auth, from: "\(all.lowerBound)", to: all.upperBound, unit: display))),
                d AS (\(DailyValue.mean.values)),
                recent AS (
                    SELECT (recorded_on - DATE '2000-01-01')::numeric AS x, w FROM d
                    WHERE recorded_on > (SELECT max(recorded_on) FROM d) - \(Int32(Self.rateDays))),
                fit AS (
                    SELECT CASE WHEN count(*) >= \(Self.rateMinimumDays) THEN
                               7 * (count(*) * sum(x * w) - sum(x) * sum(w)) / (count(*) * sum(x * x) - sum(x) * sum(x))
                           END AS rate
                    FROM recent)
                SELECT g.*, round(fit.rate, 2) AS weekly_rate, fit.rate::float8 AS exact_rate,
                       d.recorded_on AS day, d.w::float8 AS value
                FROM g CROSS JOIN fit LEFT JOIN d ON true
                ORDER BY d.recorded_on
                """, name: "goals.progress"), for: auth)
        guard let first = rows.first else { throw ServiceError.notFound }
        var days: [DayValue] = []
        days.reserveCapacity(rows.count)
        for row in rows {
            guard let day = try row.decode(CalendarDate?.self, column: "day") else { continue }
            days.append(DayValue(day: day, value: try row.decode(column: "value")))
        }
        return GoalProgress(
            goal: try Goal(row: first), display: display, days: days,
            weeklyRate: try first.decode(column: "weekly_rate"), exactRate: try first.decode(column: "exact_rate"))
    }

    /// The user's latest entry in the listing's order (newest day; within it, one without a time first, then the
    /// newest time), or nil.
    private func latestEntry(_ auth: Authentication) async throws -> Entry? {
        let rows = try await database.query(
            SQL("""
                SELECT \(Entry.columns) FROM weight_entries WHERE user_id = \(auth.userID)
                ORDER BY \(EntryOrder.descending) LIMIT 1
                """, name: "goals.latest_entry"))
        return try rows.first.map(Entry.init(row:))
    }
}
