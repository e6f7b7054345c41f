import WeighinService
import WireFormats

extension OpenAPI {
    /// The parameters operations take (component parameters), with the limits `QueryReader`'s callers enforce.
    enum Parameter: String, CaseIterable, Sendable {
        case entryID = "EntryId"
        case tokenID = "TokenId"
        case unit = "Unit"
        case from = "From"
        case to = "To"
        case limit = "Limit"
        case cursor = "Cursor"
        case window = "Window"
        case trendMethod = "TrendMethod"
        case smoothing = "Smoothing"
        case slopeSmoothing = "SlopeSmoothing"
        case statsDaily = "StatsDaily"
        case trendDaily = "TrendDaily"
        case format = "Format"
        case idempotencyKey = "IdempotencyKey"
        case clientRecordID = "ClientRecordId"
        case changesCursor = "ChangesCursor"
        case changesLimit = "ChangesLimit"
        case ifMatch = "IfMatch"
        case ifNoneMatch = "IfNoneMatch"
        case webhookID = "WebhookId"
        case deliveriesLimit = "DeliveriesLimit"
        case weighinPosition = "WeighinPosition"

        /// Where the parameter is: `path`, `query` or `header`.
        var location: String {
            switch self {
            case .entryID, .clientRecordID, .webhookID, .tokenID: "path"
            case .unit, .from, .to, .limit, .cursor, .window, .trendMethod, .smoothing, .slopeSmoothing, .statsDaily,
                .trendDaily, .format, .changesCursor, .changesLimit, .deliveriesLimit:
                "query"
            case .idempotencyKey, .ifMatch, .ifNoneMatch, .weighinPosition: "header"
            }
        }

        /// A reference to this parameter.
        var ref: JSONValue {
            OpenAPI.ref("parameters", rawValue)
        }

        var definition: JSONValue {
            let (name, description, schema) = parts
            return [
                "name": .string(name), "in": .string(location), "required": .bool(location == "path"),
                "description": .string(description), "schema": schema,
            ]
        }

        /// The name, description and schema.
        private var parts: (String, String, JSONValue) {
            switch self {
            case .entryID:
                return (
                    "id", "Entry id: a UUID in the canonical hyphenated 36-character form (any other form: 404).",
                    ["type": "string", "format": "uuid"]
                )
            case .tokenID:
                return (
                    "id", "Token id (from the token list): a canonical hyphenated UUID (any other form: 404).",
                    ["type": "string", "format": "uuid"]
                )
            case .unit:
                return (
                    "unit",
                    """
                    Display unit of the answer (and unit of a weight sent without one); default: the user's \
                    `weight_unit`. `lbs` means `lb`.
                    """,
                    ["type": "string", "enum": .strings(WeightUnit.spellings.map(\.key))]
                )
            case .from:
                return (
                    "from", "First `recorded_on` date included (`YYYY-MM-DD`); must not be after `to` (422 on `from`).",
                    ["type": "string", "format": "date"]
                )
            case .to:
                return ("to", "Last `recorded_on` date included (`YYYY-MM-DD`).", ["type": "string", "format": "date"])
            case .limit:
                return Self.wholeNumber(
                    "limit", "Page size", EntryRules.pageSizes, default: EntryRules.defaultPageSize)
            case .cursor:
                return (
                    "cursor",
                    """
                    `next_cursor` of the previous page, sent with the same `from`/`to`/`unit`. A cursor that was \
                    altered or forged, or is sent by another user or with other `from`/`to`, answers 422 (field \
                    `cursor`).
                    """,
                    ["type": "string"]
                )
            case .window:
                return Self.wholeNumber(
                    "window", "Moving-average window in calendar days", StatisticsService.windows,
                    default: StatisticsService.defaultWindow)
            case .trendMethod:
                return (
                    "method",
                    """
                    How the days' values are smoothed: `window` (the mean over `window` calendar days, the default), \
                    `ema` (time-aware exponential moving average: a gap of g days weighs as g single days) or `holt` \
                    (Holt's linear smoothing per day: a level and a slope).
                    """,
                    ["type": "string", "enum": .strings(TrendMethod.names), "default": .string(TrendMethod.names[0])]
                )
            case .smoothing:
                return Self.fraction("smoothing", "α of `ema` and `holt` (not used by `window`, but checked)")
            case .slopeSmoothing:
                return Self.fraction(
                    "slope_smoothing", "β, the slope's smoothing of `holt` (not used by the others, but checked)")
            case .statsDaily:
                return Self.daily(DailyValue.allCases, default: .statisticsDefault)
            case .trendDaily:
                return Self.daily(DailyValue.trendChoices, default: .trendDefault)
            case .format:
                let formats = ImportExportRoutes.exportFormats
                return (
                    "format", "`\(formats[0])` (default) or `\(formats[1])`.",
                    ["type": "string", "enum": .strings(formats), "default": .string(formats[0])]
                )
            case .clientRecordID:
                let length = EntryService.clientRecordIDLength
                return (
                    "client_record_id",
                    """
                    The device's own id of the entry, \(length.lowerBound) to \(length.upperBound) characters after \
                    percent-decoding (else 422 naming `client_record_id`); unique per user.
                    """,
                    ["type": "string", "minLength": .integer(length.lowerBound), "maxLength": .integer(length.upperBound)]
                )
            case .changesCursor:
                return (
                    "cursor",
                    """
                    `next_cursor` of an earlier answer (without one: from the beginning). Altered, forged or another \
                    user's: 422 naming `cursor`; older than the kept deletions: 410 `cursor_expired`.
                    """,
                    ["type": "string"]
                )
            case .webhookID:
                return (
                    "id", "Webhook id: a UUID in the canonical hyphenated 36-character form (any other form: 404).",
                    ["type": "string", "format": "uuid"]
                )
            case .deliveriesLimit:
                return Self.wholeNumber(
                    "limit", "Attempts per page", WebhookService.deliveryPageSizes,
                    default: WebhookService.defaultDeliveryPageSize)
            case .changesLimit:
                return Self.wholeNumber(
                    "limit", "Changes per page", ChangeFeed.pageSizes, default: ChangeFeed.defaultPageSize)
            case .ifMatch:
                return (
                    "If-Match",
                    """
                    Write only if the stored entry's `ETag` (in this request's display unit) is one of these strong \
                    tags, or it exists (`*`); otherwise 412 `precondition_failed` and nothing changes.
                    """,
                    ["type": "string"]
                )
            case .weighinPosition:
                return (
                    "Weighin-Position",
                    """
                    The newest `Weighin-Position` the client received from a write (any instance): with read replicas \
                    (`--read-database-url`), the answer then reflects that write on every instance. Any value that is \
                    not a position is read from the primary.
                    """,
                    ["type": "string"]
                )
            case .ifNoneMatch:
                return (
                    "If-None-Match",
                    "The `ETag`s the client holds: when the answer's tag is one of them (or `*`), 304 with no body.",
                    ["type": "string"]
                )
            case .idempotencyKey:
                return (
                    "Idempotency-Key", Self.idempotencyKeyDescription,
                    [
                        "type": "string", "minLength": .integer(IdempotencyKey.length.lowerBound),
                        "maxLength": .integer(IdempotencyKey.length.upperBound), "pattern": #"[^ \t]"#,
                    ]
                )
            }
        }

        private static func wholeNumber(
            _ name: String, _ what: String, _ range: ClosedRange<Int>, default fallback: Int
        ) -> (String, String, JSONValue) {
            (
                name, "\(what), \(range.lowerBound) to \(range.upperBound).",
                [
                    "type": "integer", "minimum": .integer(range.lowerBound), "maximum": .integer(range.upperBound),
                    "default": .integer(fallback),
                ]
            )
        }

        private static func fraction(_ name: String, _ what: String) -> (String, String, JSONValue) {
            let range = TrendMethod.smoothingRange
            return (
                name, "\(what), \(range.lowerBound) to \(range.upperBound); default \(TrendMethod.defaultSmoothing).",
                [
                    "type": "number", "minimum": .decimal(range.lowerBound), "maximum": .decimal(range.upperBound),
                    "default": .decimal(TrendMethod.defaultSmoothing),
                ]
            )
        }

        private static func daily(_ choices: [DailyValue], default fallback: DailyValue) -> (String, String, JSONValue) {
            let every = choices.contains(.all) ? "`all` (every entry), " : ""
            let description = """
                Which values to use where a day has several readings: \(every)`first` or `last` (by `measured_at`, \
                entries without it counting as later than those with it, then by `created_at`), `min`, `max` or \
                `mean` of the day; default `\(fallback.rawValue)`.
                """
            return (
                "daily", description,
                ["type": "string", "enum": .strings(choices.map(\.rawValue)), "default": .string(fallback.rawValue)]
            )
        }

        private static var idempotencyKeyDescription: String {
            let length = IdempotencyKey.length
            return """
                \(length.lowerBound) to \(length.upperBound) characters (empty or longer: 422 on \
                `Idempotency-Key`). The same user sending the same key with the same body (equal as parsed JSON: key \
                order, whitespace and `70` vs `70.0` do not matter, `lbs` = `lb`, but a missing `unit` differs from a \
                given one) within \(OpenAPI.spoken(IdempotentReplay.keyLifetime)) gets the first 201 answer again, \
                byte for byte (same entry id, even if it was deleted since), and nothing new is stored; a different \
                body answers 422 `idempotency_key_reused`. Only 201 answers are remembered; keys of different users \
                never collide. While the first request is in flight a second may wait and replay, or answer 409 \
                `idempotency_key_in_use`. (Leading and trailing blanks are not part of an HTTP header value, so the \
                key must contain a character other than space and tab.)
                """
        }
    }
}
