import WeighinService
import WireFormats

/// What the server writes about a user's series: statistics, trends, the goal and its progress.
extension OpenAPI.Schema {
    static var datedWeightDefinition: JSONValue {
        [
            "type": ["object", "null"],
            "required": ["recorded_on", "weight"],
            "additionalProperties": false,
            "properties": ["recorded_on": Self.date("`YYYY-MM-DD`."), "weight": ["type": "number"]],
        ]
    }

    static var statsDefinition: JSONValue {
        object(
            [
                "unit": ["type": "string", "enum": answerUnits],
                "daily": ["type": "string", "enum": .strings(DailyValue.allCases.map(\.rawValue))],
                "count": [
                    "type": "integer", "minimum": 0,
                    "description": "Values used: entries with `daily=all`, days with entries otherwise.",
                ],
                "min": ["type": ["number", "null"]],
                "max": ["type": ["number", "null"]],
                "mean": ["type": ["number", "null"], "description": "Mean over the values used."],
                "first": Self.datedWeight.described("""
                    Earliest value (within a day by `measured_at`, none counting as later, then `created_at`), or \
                    null.
                    """),
                "latest": Self.datedWeight.described("Latest value, in the same order, or null."),
                "change": [
                    "type": ["number", "null"],
                    "description": """
                        latest − first, computed exactly then rounded (may differ by 0.01 from the difference \
                        of the two shown weights).
                        """,
                ],
                "weekly_rate": [
                    "type": ["number", "null"],
                    "description": """
                        Least-squares slope of weight against day over the values used, times 7; null with fewer \
                        than 2 distinct days.
                        """,
                ],
                "weekly_rate_ci95": [
                    "type": ["array", "null"], "items": ["type": "number"], "minItems": 2, "maxItems": 2,
                    "description": """
                        `[low, high]`: the 95 % confidence interval of `weekly_rate`, the slope ± t₀.₉₇₅,ₙ₋₂ × its \
                        standard error, times 7, over the same values; null with fewer than 3 distinct days.
                        """,
                ],
            ],
            required: [
                "unit", "daily", "count", "min", "max", "mean", "first", "latest", "change", "weekly_rate",
                "weekly_rate_ci95",
            ],
            description: """
                Computed from exact values in the display unit, rounded half away from zero to \(places) \
                decimals at the end. Empty range: `count` 0, `first`/`latest` null, every other number null.
                """)
    }

    static var trendPointDefinition: JSONValue {
        object(
            [
                "date": Self.date("A day that has entries."),
                "weight": [
                    "type": "number",
                    "description": .string("That day's value by `daily` (\(places) decimals)."),
                ],
                "average": [
                    "type": "number",
                    "description": .string("""
                        The smoothed value on `date`: with `window`, the mean of the days' values within the \
                        `window` calendar days ending on `date` (looking back before `from`); with `ema` or `holt`, \
                        the average or level of the recurrence started \(TrendMethod.runIn) days before `from`.
                        """),
                ],
            ], required: ["date", "weight", "average"])
    }

    static var trendDefinition: JSONValue {
        let smoothing: JSONValue = [
            "type": "number", "minimum": .decimal(TrendMethod.smoothingRange.lowerBound),
            "maximum": .decimal(TrendMethod.smoothingRange.upperBound),
        ]
        return object(
            [
                "unit": ["type": "string", "enum": answerUnits],
                "method": ["type": "string", "enum": .strings(TrendMethod.names)],
                "daily": ["type": "string", "enum": .strings(DailyValue.trendChoices.map(\.rawValue))],
                "window": [
                    "type": "integer", "minimum": .integer(StatisticsService.windows.lowerBound),
                    "maximum": .integer(StatisticsService.windows.upperBound),
                    "description": "`window` only.",
                ],
                "smoothing": smoothing,
                "slope_smoothing": smoothing,
                "points": [
                    "type": "array", "items": Self.trendPoint.ref,
                    "description": "Ascending date order, one point per day with entries.",
                ],
            ], required: ["unit", "method", "daily", "points"],
            description: """
                `window`: `{unit, method, daily, window, points}`; `ema`: `{unit, method, daily, smoothing, points}`; \
                `holt`: `{unit, method, daily, smoothing, slope_smoothing, points}`. Numbers are rounded half away \
                from zero to \(places) decimals; `ema` and `holt` are computed in binary floating point, within 0.01 \
                of the exact recurrence.
                """)
    }

    static var goalDefinition: JSONValue {
        object(
            [
                "target_weight": ["type": "number", "exclusiveMinimum": 0],
                "unit": ["type": "string", "enum": answerUnits],
                "target_date": [
                    "type": ["string", "null"], "format": "date", "description": "After `start_date`, or null.",
                ],
                "start_weight": ["type": "number", "exclusiveMinimum": 0],
                "start_date": Self.date("`YYYY-MM-DD`."),
                "direction": [
                    "type": "string", "enum": ["lose", "gain"],
                    "description": "`lose` when the target is below the start, else `gain` (never equal).",
                ],
                "created_at": Self.timestamp("When the user first set a goal since the last delete (UTC, `Z`)."),
                "updated_at": Self.timestamp("When it was last set (UTC, `Z`)."),
            ],
            required: [
                "target_weight", "unit", "target_date", "start_weight", "start_date", "direction", "created_at",
                "updated_at",
            ],
            description: """
                The user's goal, weights in the display unit: exactly as set where that is their unit, else \
                converted and rounded half away from zero to \(places) decimals.
                """)
    }

    static var goalProgressDefinition: JSONValue {
        let nullableNumber = { (description: String) -> JSONValue in
            ["type": ["number", "null"], "description": .string(description)]
        }
        return object(
            [
                "goal": Self.goal.ref,
                "current": nullableNumber("""
                    The `ema` average (α \(GoalService.currentSmoothing), `daily=mean`, over the whole history) on the \
                    latest day with entries; null without entries.
                    """),
                "remaining": nullableNumber("target − current; null without entries."),
                "percent_complete": [
                    "type": ["number", "null"], "minimum": 0, "maximum": 100,
                    "description": "100 × (start − current) / (start − target), clamped to 0..100, 1 decimal.",
                ],
                "weekly_rate": nullableNumber("""
                    Least-squares slope × 7 of the daily means over the \(GoalService.rateDays) days ending on the \
                    latest day with entries; null unless they hold at least \(GoalService.rateMinimumDays) days with \
                    entries.
                    """),
                "projected_date": [
                    "type": ["string", "null"], "format": "date",
                    "description": """
                        Latest day with entries + ⌈remaining / weekly_rate × 7⌉ days when the state is `on_track` or \
                        `behind` (null beyond 9999-12-31), else null.
                        """,
                ],
                "state": [
                    "type": "string", "enum": .strings(GoalProgress.State.allCases.map(\.rawValue)),
                    "description": """
                        `reached` once current is at or past the target in the goal's direction; else \
                        `not_enough_data` without a weekly rate (or without entries); else `wrong_direction` when the \
                        rate is zero or points away; else `on_track` without a target date or when the projected \
                        date is on or before it; else `behind`.
                        """,
                ],
            ],
            required: ["goal", "current", "remaining", "percent_complete", "weekly_rate", "projected_date", "state"],
            description: """
                In the display unit, from exact values where the rules allow (the smoothed current weight is \
                computed in binary floating point, within 0.01), rounded at the end.
                """)
    }
}
