import WeighinService
import WireFormats

/// What the server writes (`Representations.swift`): users, entries, lists, changes, webhooks, tokens; statistics,
/// trends and goals are in `OpenAPIStatisticsSchemas.swift`.
extension OpenAPI.Schema {
    /// Decimal places of the weights answers show.
    static let places = EntryRules.weightPlaces

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
