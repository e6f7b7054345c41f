import WeighinService
import WireFormats

/// What the server writes (`Representations.swift`): users, entries, lists, tokens, statistics, trends.
extension OpenAPI.Schema {
    /// Decimal places of the weights answers show.
    private static let places = EntryRules.weightPlaces

    /// The units an answer names (`lbs` is only ever read).
    static var answerUnits: JSONValue {
        .strings(WeightUnit.allCases.map(\.rawValue))
    }

    static var userDefinition: JSONValue {
        object(
            [
                "id": ["type": "string", "format": "uuid"],
                "email": ["type": "string", "description": "Trimmed and lower-cased."],
                "name": ["type": "string", "description": "Trimmed."],
                "weight_unit": [
                    "type": "string", "enum": answerUnits,
                    "description": "Display unit used when a request has no `unit` query parameter.",
                ],
                "created_at": Self.timestamp("RFC 3339 in UTC with `Z`."),
            ], required: ["id", "email", "name", "weight_unit", "created_at"],
            description: "A user. No password material ever appears in any answer.")
    }

    static var entryDefinition: JSONValue {
        object(
            [
                "id": ["type": "string", "format": "uuid"],
                "weight": [
                    "type": "number", "minimum": 0, "description": .string("At most \(places) decimal places."),
                ],
                "unit": ["type": "string", "enum": answerUnits],
                "recorded_on": Self.date("`YYYY-MM-DD`: the day of `measured_at` in its own offset when there is one."),
                "measured_at": Self.offsetTimestamp(
                    "The moment of the reading in the offset it was sent in (`Z` stays `Z`), or null.", nullable: true),
                "note": ["type": ["string", "null"]],
                "body_fat_percent": Self.percent,
                "water_percent": Self.percent,
                "muscle_percent": Self.percent,
                "visceral_fat": [
                    "type": ["integer", "null"], "minimum": .integer(EntryRules.visceralFatRatings.lowerBound),
                    "maximum": .integer(EntryRules.visceralFatRatings.upperBound),
                ],
                "source": ["type": ["string", "null"]],
                "client_record_id": ["type": ["string", "null"]],
                "client_version": ["type": ["integer", "null"], "minimum": 0],
                "created_at": Self.timestamp("RFC 3339 in UTC with `Z`."),
                "updated_at": Self.timestamp("RFC 3339 in UTC with `Z`."),
            ],
            required: [
                "id", "weight", "unit", "recorded_on", "measured_at", "note", "body_fat_percent", "water_percent",
                "muscle_percent", "visceral_fat", "source", "client_record_id", "client_version", "created_at",
                "updated_at",
            ],
            description: """
                A weight entry, shown in the display unit of the answer (export: in its entered unit). Where the \
                display unit is the entered unit the weight is exactly as entered; otherwise it is converted \
                (1 lb = \(WeightUnit.kilogramsPerPound) kg) and rounded half away from zero to \(places) \
                decimals.
                """)
    }

    static var entryListDefinition: JSONValue {
        object(
            [
                "entries": [
                    "type": "array", "items": Self.entry.ref,
                    "description": """
                        Newest `recorded_on` first; within a day, entries without `measured_at` first, then \
                        `measured_at` newest first; then newest `created_at`, then `id`.
                        """,
                ],
                "next_cursor": [
                    "type": ["string", "null"],
                    "description": """
                        Opaque cursor of the next page (send it with the same `from`/`to`/`unit`), or null on \
                        the last page.
                        """,
                ],
            ], required: ["entries", "next_cursor"])
    }

    static var changeDefinition: JSONValue {
        let upsert = object(
            ["op": ["type": "string", "const": "upsert"], "entry": Self.entry.ref], required: ["op", "entry"],
            description: "The entry as it now is (created or changed).")
        let delete = object(
            [
                "op": ["type": "string", "const": "delete"], "id": ["type": "string", "format": "uuid"],
                "deleted_at": Self.timestamp("When it was deleted: RFC 3339 in UTC with `Z`."),
            ], required: ["op", "id", "deleted_at"], description: "The entry with this id was deleted.")
        return ["oneOf": [upsert, delete]]
    }

    static var changeListDefinition: JSONValue {
        object(
            [
                "changes": [
                    "type": "array", "items": Self.change.ref,
                    "description": "In the order the changes committed; each entry at most once, in its latest state.",
                ],
                "next_cursor": [
                    "type": "string", "minLength": 1,
                    "description": "Where to continue from: never null (with nothing new, the cursor sent).",
                ],
                "has_more": [
                    "type": "boolean", "description": "Whether more changes are already there (ask again at once).",
                ],
            ], required: ["changes", "next_cursor", "has_more"])
    }

    static func webhookDefinition(withSecret: Bool) -> JSONValue {
        var properties: JSONObject = [
            "id": ["type": "string", "format": "uuid"],
            "url": ["type": "string"],
            "events": ["type": "array", "items": ["type": "string", "enum": .strings(WebhookEvent.allCases.map(\.rawValue))]],
            "description": ["type": ["string", "null"]],
            "created_at": Self.timestamp("RFC 3339 in UTC with `Z`."),
            "disabled_at": [
                "type": ["string", "null"], "format": "date-time",
                "description": "When deliveries were given up after a day of failures; null while enabled.",
            ],
        ]
        var required = ["id", "url", "events", "description", "created_at", "disabled_at"]
        if withSecret {
            properties.members.append((
                key: "secret",
                value: [
                    "type": "string", "pattern": "^whsec_[A-Za-z0-9+/]+={0,2}$",
                    "description": "The signing secret (Standard Webhooks), shown this once.",
                ]))
            required.append("secret")
        }
        return object(properties, required: required)
    }

    static var webhookDeliveryDefinition: JSONValue {
        object(
            [
                "event_id": ["type": "string", "format": "uuid"],
                "event_type": ["type": "string", "enum": .strings(WebhookEvent.allCases.map(\.rawValue))],
                "attempt": ["type": "integer", "minimum": 1],
                "attempted_at": Self.timestamp("RFC 3339 in UTC with `Z`."),
                "status_code": ["type": ["integer", "null"], "description": "The receiver's status; null without one."],
                "duration_ms": ["type": "integer", "minimum": 0],
                "error": ["type": ["string", "null"], "description": "Why the attempt failed; null when delivered."],
            ], required: ["event_id", "event_type", "attempt", "attempted_at", "status_code", "duration_ms", "error"])
    }

    /// `{member: [items]}`.
    static func listDefinition(_ member: String, of item: OpenAPI.Schema, _ order: String) -> JSONValue {
        object([member: ["type": "array", "items": item.ref, "description": .string(order)]], required: [member])
    }

    static var tokenDefinition: JSONValue {
        let lifetime = OpenAPI.spoken(ServiceConfiguration().tokenLifetime)
        return object(
            [
                "token": [
                    "type": "string", "minLength": 1,
                    "description": "Opaque random bearer token (at least 128 bits of entropy).",
                ],
                "token_type": ["type": "string", "const": "Bearer"],
                "expires_at": Self.timestamp(
                    "End of the token's fixed lifetime (\(lifetime) from log-in by default)."),
                "user": Self.user.ref,
            ], required: ["token", "token_type", "expires_at", "user"])
    }

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

    /// An RFC 3339 timestamp with its offset, as clients send it and the server gives it back (`OffsetTimestamp`).
    static func offsetTimestamp(_ description: String, nullable: Bool = false) -> JSONValue {
        [
            "type": nullable ? ["string", "null"] : "string", "format": "date-time",
            "pattern": #"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})$"#,
            "description": .string(description),
        ]
    }

    /// A body composition percentage as answered.
    static var percent: JSONValue {
        ["type": ["number", "null"], "exclusiveMinimum": 0, "exclusiveMaximum": 100]
    }

    /// A reference to this schema with a description of the member it types.
    func described(_ description: String) -> JSONValue {
        OpenAPI.ref("schemas", rawValue, description: description)
    }

    /// An RFC 3339 timestamp in UTC with `Z`, as the server writes them (`TimestampText`).
    static func timestamp(_ description: String) -> JSONValue {
        [
            "type": "string", "format": "date-time",
            "pattern": #"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$"#,
            "description": .string(description),
        ]
    }

    /// A `YYYY-MM-DD` date, as the server writes them (`CalendarDate`).
    static func date(_ description: String) -> JSONValue {
        [
            "type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            "description": .string(description),
        ]
    }
}
