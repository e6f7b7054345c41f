import WeighinService
import WireFormats

/// What clients send, with the limits `AccountRules`, `EntryRules` and `WeightUnit` enforce.
extension OpenAPI.Schema {
    static var userCreateDefinition: JSONValue {
        object(
            [
                "email": email, "name": name, "password": password,
                "weight_unit": unitMember(
                    "Defaults to `\(AccountRules.defaultWeightUnit.rawValue)`; `lbs` is stored as `lb`."),
            ], required: ["email", "name", "password"])
    }

    static var userUpdateDefinition: JSONValue {
        object(
            [
                "name": name, "email": email,
                "weight_unit": unitMember("The user's display unit: `kg` or `lb` (`lbs` accepted as `lb`)."),
            ],
            description: """
                Only the given members change. Changing your email to itself in another case is allowed. Changing \
                `weight_unit` never changes any stored entry.
                """)
    }

    static var credentialsDefinition: JSONValue {
        object(
            [
                "email": [
                    "type": "string", "pattern": .string(withoutNUL),
                    "description": "Matched trimmed and case-insensitively. NUL (U+0000) answers 422.",
                ],
                "password": [
                    "type": "string", "pattern": .string(withoutNUL), "description": "NUL (U+0000) answers 422.",
                ],
            ], required: ["email", "password"])
    }

    static var passwordChangeDefinition: JSONValue {
        object(
            [
                "current_password": [
                    "type": "string", "pattern": .string(withoutNUL),
                    "description": """
                        Wrong: 403 `invalid_credentials` (not counted as a failed log-in). NUL (U+0000) answers 422.
                        """,
                ],
                "new_password": password,
            ], required: ["current_password", "new_password"])
    }

    /// `EntryCreate` (`required`) or `EntryUpdate`.
    static func entryDefinition(required: Bool) -> JSONValue {
        object(
            entryMembers(unit: unit), required: required ? ["weight"] : [],
            description: required
                ? """
                    `recorded_on` or `measured_at` is required (neither: 422 naming `recorded_on`); given both, \
                    `recorded_on` must be the date of `measured_at` in its own offset (else 422 naming `recorded_on`).
                    """
                : """
                    Only the given members change. `unit` without `weight` relabels the stored number (80 kg becomes \
                    80 lb); `weight` without `unit` is in the display unit of the request; `null` clears `note`, \
                    `measured_at` (`recorded_on` stays), the body composition and `source`. Setting `measured_at` \
                    moves `recorded_on` to its local date (a `recorded_on` given too must agree); a `recorded_on` \
                    alone must agree with a stored `measured_at`.
                    """,
            also: kilogramLimit)
    }

    /// `EntryPut`: a whole entry (members left out are null) and the device's version of it.
    static var entryPutDefinition: JSONValue {
        var members = entryMembers(unit: unit)
        members.members.append((
            key: "client_version",
            value: [
                "type": "integer", "minimum": 0, "maximum": .integer(Int.max),
                "description": "The device's version of the entry: a higher one replaces the stored entry.",
            ]
        ))
        return object(
            members, required: ["weight", "client_version"],
            description: """
                The whole entry: a member left out is null. `recorded_on` or `measured_at` is required, as for \
                `EntryCreate`.
                """,
            also: kilogramLimit)
    }

    static var webhookCreateDefinition: JSONValue {
        let length = WebhookService.urlLength
        return object(
            [
                "url": [
                    "type": "string", "minLength": .integer(length.lowerBound), "maxLength": .integer(length.upperBound),
                    "description": """
                        An absolute `http` or `https` URL. In production its host must resolve to public addresses \
                        only (else 422 naming `url`); checked again at each delivery.
                        """,
                ],
                "events": [
                    "type": "array", "minItems": 1, "items": ["type": "string", "enum": .strings(WebhookEvent.allCases.map(\.rawValue))],
                    "description": "The events to deliver; default all three.",
                ],
                "description": [
                    "type": ["string", "null"], "maxLength": .integer(WebhookService.descriptionLength.upperBound),
                ],
            ], required: ["url"])
    }

    /// The members of an entry body, with `unit` as the body takes it.
    private static func entryMembers(unit: JSONValue) -> JSONObject {
        let places = EntryRules.weightPlaces
        let percent: JSONValue = [
            "type": ["number", "null"], "exclusiveMinimum": 0, "exclusiveMaximum": 100,
            "description": .string("Greater than 0 and less than 100, at most \(places) decimal places, kept exactly."),
        ]
        let sourceLength = EntryRules.sourceLength
        return [
            "weight": weight, "unit": unit, "recorded_on": recordedOn,
            "measured_at": offsetTimestamp(
                """
                The moment of the reading and the UTC offset it was taken at: RFC 3339 with seconds, fractional \
                seconds up to 6 digits, `Z` or `±hh:mm` from −12:00 to +14:00 (no offset, hour 24 or a leap second: \
                422). Answered in that same offset.
                """, nullable: true),
            "note": note, "body_fat_percent": percent, "water_percent": percent, "muscle_percent": percent,
            "visceral_fat": [
                "type": ["integer", "null"], "minimum": .integer(EntryRules.visceralFatRatings.lowerBound),
                "maximum": .integer(EntryRules.visceralFatRatings.upperBound), "description": "A rating.",
            ],
            "source": [
                "type": ["string", "null"], "minLength": .integer(sourceLength.lowerBound),
                "maxLength": .integer(sourceLength.upperBound), "pattern": .string(withoutNUL),
                "description": .string("""
                    Where the reading came from (`manual`, `Withings Body+`): \(sourceLength.lowerBound) to \
                    \(sourceLength.upperBound) Unicode code points after trimming; stored trimmed. NUL (U+0000) \
                    answers 422.
                    """),
            ],
        ]
    }

    static var importEntryDefinition: JSONValue {
        var members = entryMembers(unit: [
            "type": ["string", "null"],
            "enum": .array(WeightUnit.spellings.map { .string($0.key) } + [.string(""), .null]),
            "description": "`kg`, `lb` or `lbs`; empty, null or absent means the display unit.",
        ])
        for ignored in ["id", "created_at", "updated_at", "client_record_id", "client_version"] {
            members.members.append((key: ignored, value: ["description": "Ignored."]))
        }
        return object(
            members, required: ["weight"],
            description: """
                An entry body as for POST /v1/entries (`recorded_on` or `measured_at` required). `id`, `created_at`, \
                `updated_at`, `client_record_id` and `client_version` (as JSON export produces them) are accepted and \
                ignored. A row with no or an empty `unit` is in the display unit of the request.
                """,
            also: kilogramLimit)
    }

    static var goalSetDefinition: JSONValue {
        let weightLimit: JSONValue = ["maximum": .decimal(WeightUnit.kg.maximum)]
        return object(
            [
                "target_weight": weight,
                "unit": [
                    "type": ["string", "null"], "enum": .array(WeightUnit.spellings.map { .string($0.key) } + [.null]),
                    "description": """
                        The unit of `target_weight` and `start_weight`; null or absent: the display unit of the \
                        request. `lbs` is accepted as `lb`.
                        """,
                ],
                "target_date": [
                    "type": ["string", "null"], "format": "date",
                    "description": "The day to reach the target by, after `start_date`; null or absent: none.",
                ],
                "start_weight": [
                    "type": ["number", "null"], "exclusiveMinimum": 0,
                    "maximum": .decimal(WeightUnit.allCases.map(\.maximum).max()!),
                    "description": """
                        Given with `start_date` or not at all (else 422 naming the missing one); absent: the latest \
                        entry's weight in its own unit (no entry: 422 naming `start_weight`). Must differ from \
                        `target_weight` (else 422 naming `target_weight`).
                        """,
                ],
                "start_date": [
                    "type": ["string", "null"], "format": "date",
                    "description": .string("""
                        A real date from \(EntryRules.earliestDay) to today (UTC) + \(EntryRules.daysAfterToday) \
                        day, with `start_weight`; absent: the latest entry's `recorded_on`.
                        """),
                ],
            ], required: ["target_weight"],
            description: "A goal, replacing any the user has. Weights are kept exactly as given.",
            also: [
                "if": ["required": ["unit"], "properties": ["unit": ["const": "kg"]]],
                "then": ["properties": ["target_weight": weightLimit, "start_weight": weightLimit]],
            ])
    }

    // MARK: - Members

    /// Swift's `CharacterSet.whitespacesAndNewlines`, what the server trims: Unicode Zs, TAB, LF..CR, NEL, LS, PS.
    private static let whitespace = #"\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"#
    /// Control characters, which `AccountRules.email` refuses (and NUL, which `AccountRules.name` refuses).
    private static let control = #"\u0000-\u001f\u007f"#
    /// Text without NUL: every string member of a body that holds one answers 422 naming it (`BodyReader`), since
    /// libpq would cut the text at the NUL.
    static let withoutNUL = #"^[^\u0000]*$"#

    private static var name: JSONValue {
        trimmedName(AccountRules.nameLength)
    }

    /// A name member of `length` Unicode code points after trimming (a user's, a personal token's).
    static func trimmedName(_ length: ClosedRange<Int>) -> JSONValue {
        [
            "type": "string", "minLength": .integer(length.lowerBound), "maxLength": .integer(length.upperBound),
            "pattern": .string(#"^[^\u0000]*[^"# + whitespace + #"\u0000][^\u0000]*$"#),
            "description": .string("""
                \(length.lowerBound) to \(length.upperBound) Unicode code points after trimming leading and trailing \
                whitespace; stored trimmed.
                """),
        ]
    }

    private static var email: JSONValue {
        let (ws, ctrl) = (whitespace, control)
        let part = "[^@\(ctrl)]*[^@\(ws)\(ctrl)][^@\(ctrl)]*"
        return [
            "type": "string", "maxLength": .integer(AccountRules.emailLength),
            "pattern": .string("^[\(ws)]*\(part)@\(part)[\(ws)]*$"),
            "description": .string("""
                Trimmed, then stored lower-cased (Unicode default case mapping): at most \(AccountRules.emailLength) \
                code points, exactly one `@` with text on both sides. Unique regardless of case.
                """),
        ]
    }

    private static var password: JSONValue {
        let length = AccountRules.passwordLength
        return [
            "type": "string", "minLength": .integer(length.lowerBound), "maxLength": .integer(length.upperBound),
            "pattern": .string(withoutNUL),
            "description": .string("""
                \(length.lowerBound) to \(length.upperBound) Unicode code points, without NUL (U+0000: 422). It \
                verifies only against itself in full: two passwords that share their first 72 bytes but differ after \
                them are different passwords. Never echoed.
                """),
        ]
    }

    /// A unit as clients may spell it (`WeightUnit.spellings`).
    private static func unitMember(_ description: String) -> JSONValue {
        ["type": "string", "enum": .strings(WeightUnit.spellings.map(\.key)), "description": .string(description)]
    }

    private static var unit: JSONValue {
        unitMember("`kg` or `lb` (lower case only); `lbs` is accepted as `lb`.")
    }

    private static var weight: JSONValue {
        [
            "type": "number", "exclusiveMinimum": 0,
            "maximum": .decimal(WeightUnit.allCases.map(\.maximum).max()!),
            "description": .string("""
                A JSON number > 0 with at most \(EntryRules.weightPlaces) decimal places (checked on the number as \
                written: 72.35 is valid, 70.123 answers 422). The maximum depends on the unit: \
                \(WeightUnit.kg.maximum) kg or \(WeightUnit.lb.maximum) lb. A weight sent without `unit` is in the \
                display unit of the request (the `unit` query parameter if given, else the user's `weight_unit`). \
                `NaN`/`Infinity` literals are not JSON (400); a number out of range such as `1e999` answers 422.
                """),
        ]
    }

    /// `weight` at most the kilogram maximum when the same body says `"unit": "kg"` (the pound maximum is `weight`'s).
    private static var kilogramLimit: JSONObject {
        [
            "if": ["required": ["unit"], "properties": ["unit": ["const": "kg"]]],
            "then": ["properties": ["weight": ["maximum": .decimal(WeightUnit.kg.maximum)]]],
        ]
    }

    private static var recordedOn: JSONValue {
        [
            "type": "string", "format": "date",
            "description": .string("""
                A real calendar date `YYYY-MM-DD` from \(EntryRules.earliestDay) to today (UTC) + \
                \(EntryRules.daysAfterToday) day.
                """),
        ]
    }

    private static var note: JSONValue {
        [
            "type": ["string", "null"], "maxLength": .integer(EntryRules.noteLength), "pattern": .string(withoutNUL),
            "description": .string("""
                At most \(EntryRules.noteLength) Unicode code points, without NUL (U+0000: 422); `null` (or absent \
                on creation) means no note.
                """),
        ]
    }
}
