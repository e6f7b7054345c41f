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
                "email": ["type": "string", "description": "Matched trimmed and case-insensitively."],
                "password": ["type": "string"],
            ], required: ["email", "password"])
    }

    static var passwordChangeDefinition: JSONValue {
        object(
            [
                "current_password": [
                    "type": "string",
                    "description": "Wrong: 403 `invalid_credentials` (not counted as a failed log-in).",
                ],
                "new_password": password,
            ], required: ["current_password", "new_password"])
    }

    /// `EntryCreate` (`required`) or `EntryUpdate`.
    static func entryDefinition(required: Bool) -> JSONValue {
        object(
            ["weight": weight, "unit": unit, "recorded_on": recordedOn, "note": note],
            required: required ? ["weight", "recorded_on"] : [],
            description: required
                ? nil
                : """
                    Only the given members change. `unit` without `weight` relabels the stored number (80 kg becomes \
                    80 lb); `weight` without `unit` is in the display unit of the request; `"note": null` clears the \
                    note.
                    """,
            also: kilogramLimit)
    }

    static var importEntryDefinition: JSONValue {
        object(
            [
                "weight": weight,
                "unit": [
                    "type": "string", "enum": .strings(WeightUnit.spellings.map(\.key) + [""]),
                    "description": "`kg`, `lb` or `lbs`; empty or absent means the display unit.",
                ],
                "recorded_on": recordedOn,
                "note": note,
                "id": ["description": "Ignored."],
                "created_at": ["description": "Ignored."],
                "updated_at": ["description": "Ignored."],
            ], required: ["weight", "recorded_on"],
            description: """
                An entry body as for POST /v1/entries. `id`, `created_at` and `updated_at` (as JSON export produces \
                them) are accepted and ignored. A row with no or an empty `unit` is in the display unit of the request.
                """,
            also: kilogramLimit)
    }

    // MARK: - Members

    /// Swift's `CharacterSet.whitespacesAndNewlines`, what the server trims: Unicode Zs, TAB, LF..CR, NEL, LS, PS.
    private static let whitespace = #"\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"#
    /// Control characters, which `AccountRules.email` refuses (and NUL, which `AccountRules.name` refuses).
    private static let control = #"\u0000-\u001f\u007f"#

    private static var name: JSONValue {
        let length = AccountRules.nameLength
        return [
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
            "description": .string("""
                \(length.lowerBound) to \(length.upperBound) Unicode code points. It verifies only against itself in \
                full: two passwords that share their first 72 bytes but differ after them are different passwords. \
                Never echoed.
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
            "type": ["string", "null"], "maxLength": .integer(EntryRules.noteLength),
            "description": .string("""
                At most \(EntryRules.noteLength) Unicode code points; `null` (or absent on creation) means no note.
                """),
        ]
    }
}
