import Foundation
import Postgres
import Primitives

/// Body composition and where a reading came from: every field optional, percentages exactly as entered.
public struct BodyComposition: Sendable, Equatable {
    public var bodyFatPercent: Decimal?
    public var waterPercent: Decimal?
    public var musclePercent: Decimal?
    /// A visceral fat rating, 1 to 59.
    public var visceralFat: Int?
    /// Where the reading came from (`manual`, `Withings Body+`), trimmed.
    public var source: String?

    public init(
        bodyFatPercent: Decimal? = nil, waterPercent: Decimal? = nil, musclePercent: Decimal? = nil,
        visceralFat: Int? = nil, source: String? = nil
    ) {
        self.bodyFatPercent = bodyFatPercent
        self.waterPercent = waterPercent
        self.musclePercent = musclePercent
        self.visceralFat = visceralFat
        self.source = source
    }
}

/// A device's id for an entry and the version of it the device last sent.
public struct ClientRecord: Sendable, Equatable {
    public let id: String
    public let version: Int64
}

/// A weight entry, with its weight exactly as entered, and the moment of the reading in the offset it was taken
/// at when known.
public struct Entry: Sendable, Equatable {
    public let id: UUID
    public let weight: Weight
    public let recordedOn: CalendarDate
    public let measuredAt: OffsetTimestamp?
    public let note: String?
    public let composition: BodyComposition
    /// The device's own id for the entry and the version it last sent (`PUT /v1/entries/by-client-id/...`).
    public let client: ClientRecord?
    public let createdAt: Date
    public let updatedAt: Date
    /// The number of the entry's latest change in its user's change feed.
    let changeSeq: Int64

    /// The columns `init(row:)` reads, which every entry statement selects first, in this order.
    static let columns: SQL = """
        id, weight, unit, recorded_on, note, created_at, updated_at, measured_at, measured_offset, measured_zulu, \
        body_fat_percent, water_percent, muscle_percent, visceral_fat, source, client_record_id, client_version, \
        change_seq
        """

    /// `columns` as typed NULLs, for a row that is not an entry in a union with entries (a tombstone in the feed).
    static let nullColumns: SQL = """
        NULL::numeric AS weight, NULL::text AS unit, NULL::date AS recorded_on, NULL::text AS note, \
        NULL::timestamptz AS created_at, NULL::timestamptz AS updated_at, NULL::timestamptz AS measured_at, \
        NULL::smallint AS measured_offset, NULL::boolean AS measured_zulu, NULL::numeric AS body_fat_percent, \
        NULL::numeric AS water_percent, NULL::numeric AS muscle_percent, NULL::smallint AS visceral_fat, \
        NULL::text AS source, NULL::text AS client_record_id, NULL::bigint AS client_version
        """

    /// Reads `columns` by position (listing decodes thousands of these per second; names cost a lookup each).
    init(row: PostgresRow) throws {
        id = try row.decode(at: 0)
        weight = Weight(value: try row.decode(at: 1), unit: try row.decode(at: 2))
        recordedOn = try row.decode(at: 3)
        note = try row.decode(at: 4)
        createdAt = try row.decode(at: 5)
        updatedAt = try row.decode(at: 6)
        if let instant = try row.decode(Date?.self, at: 7) {
            measuredAt = OffsetTimestamp(
                microseconds: TimestampText.microseconds(instant), offsetMinutes: try row.decode(Int.self, at: 8),
                isZulu: try row.decode(Bool.self, at: 9))
        } else {
            measuredAt = nil
        }
        composition = BodyComposition(
            bodyFatPercent: try row.decode(at: 10), waterPercent: try row.decode(at: 11),
            musclePercent: try row.decode(at: 12), visceralFat: try row.decode(at: 13), source: try row.decode(at: 14))
        if let id = try row.decode(String?.self, at: 15) {
            client = ClientRecord(id: id, version: try row.decode(Int64.self, at: 16))
        } else {
            client = nil
        }
        changeSeq = try row.decode(at: 17)
    }

    /// Where the entry stands in the listing order: within a day, one without `measured_at` counts as later than
    /// those with it (as if measured at infinity).
    var position: ListingCursor {
        ListingCursor(
            recordedOn: recordedOn, measuredAtMicros: measuredAt?.microseconds, createdAt: createdAt, id: id)
    }
}

/// The order of the listing and the export, as SQL: the day, then the time of day (none counting as later), then
/// `created_at`, then `id`. The listing index has these columns, so every page is one range scan.
enum EntryOrder {
    /// The sort key, for a row comparison with a cursor's position.
    static let key: SQL = "(recorded_on, coalesce(measured_at, 'infinity'::timestamptz), created_at, id)"
    /// Newest first.
    static let descending: SQL =
        "recorded_on DESC, coalesce(measured_at, 'infinity'::timestamptz) DESC, created_at DESC, id DESC"
    /// Oldest first.
    static let ascending: SQL = "recorded_on, coalesce(measured_at, 'infinity'::timestamptz), created_at, id"

    /// The position of `cursor`, as the right side of a row comparison with `key`.
    static func position(_ cursor: ListingCursor) -> SQL {
        "(\(cursor.recordedOn), coalesce(\(cursor.measuredAt), 'infinity'::timestamptz), \(cursor.createdAt), \(cursor.id))"
    }
}
