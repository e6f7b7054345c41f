import Postgres

/// Which values statistics and trends use where a day has several readings: every entry, or one per day with
/// entries (its first or last reading, its smallest or largest, or their mean).
public enum DailyValue: String, Sendable, CaseIterable {
    case all, first, last, min, max, mean

    /// The choice of statistics without a `daily` parameter (Part 1's behaviour: every entry).
    public static let statisticsDefault = DailyValue.all
    /// The choice of a trend without a `daily` parameter (Part 1's: the day's mean). Trends take no `all`.
    public static let trendDefault = DailyValue.mean
    /// The choices a trend takes.
    public static let trendChoices = allCases.filter { $0 != .all }

    /// One row per value used, from the relation `e` (`recorded_on`, `m` = `measured_at` or infinity,
    /// `created_at`, `id`, `weight`, `unit`, `w` = the weight in the display unit), in the same columns.
    ///
    /// Within a day the readings are ordered by `m` (one without a time counts as later), then `created_at`;
    /// `first` and `last` take the ends of that order, `min` and `max` the extremes (ties: the earlier reading),
    /// `mean` the day's mean (no single entry: `weight` and `unit` are null). A fixed fragment per choice, so each
    /// statement is prepared once.
    var values: SQL {
        switch self {
        case .all:
            "SELECT * FROM e"
        case .first:
            "SELECT DISTINCT ON (recorded_on) * FROM e ORDER BY recorded_on, m, created_at, id"
        case .last:
            "SELECT DISTINCT ON (recorded_on) * FROM e ORDER BY recorded_on, m DESC, created_at DESC, id DESC"
        case .min:
            "SELECT DISTINCT ON (recorded_on) * FROM e ORDER BY recorded_on, w, m, created_at, id"
        case .max:
            "SELECT DISTINCT ON (recorded_on) * FROM e ORDER BY recorded_on, w DESC, m, created_at, id"
        case .mean:
            """
            SELECT recorded_on, NULL::timestamptz AS m, NULL::timestamptz AS created_at, NULL::uuid AS id,
                   NULL::numeric AS weight, NULL::text AS unit, avg(w) AS w
            FROM e GROUP BY recorded_on
            """
        }
    }
}
