import Foundation
import Primitives

/// An inclusive range of days; nil ends are open.
public struct DateRange: Sendable, Equatable {
    public var from: CalendarDate?
    public var to: CalendarDate?

    public init(from: CalendarDate? = nil, to: CalendarDate? = nil) {
        self.from = from
        self.to = to
    }

    /// The first day, with an open start as the earliest day PostgreSQL's `date` holds in AD.
    var lowerBound: CalendarDate { from ?? CalendarDate(year: 1, month: 1, day: 1)! }
    /// The last day, with an open end as 9999-12-31.
    var upperBound: CalendarDate { to ?? CalendarDate(year: 9999, month: 12, day: 31)! }
}

/// A new entry as decoded from a request: typed fields (nil when absent or undecodable) and what could not be
/// decoded, which the service reports together with the rules it checks.
public struct NewEntry: Sendable {
    public var weight: Decimal?
    /// nil: in the display unit of the request.
    public var unit: WeightUnit?
    /// The day; derived from `measuredAt` when absent.
    public var recordedOn: CalendarDate?
    /// The moment of the reading in the offset it was taken at.
    public var measuredAt: OffsetTimestamp?
    public var note: String?
    public var composition: BodyComposition
    /// Fields that could not be decoded.
    public var problems: [FieldError]

    public init(
        weight: Decimal?, unit: WeightUnit? = nil, recordedOn: CalendarDate?, measuredAt: OffsetTimestamp? = nil,
        note: String? = nil, composition: BodyComposition = BodyComposition(), problems: [FieldError] = []
    ) {
        self.weight = weight
        self.unit = unit
        self.recordedOn = recordedOn
        self.measuredAt = measuredAt
        self.note = note
        self.composition = composition
        self.problems = problems
    }
}

/// A new entry that passed every rule, in the unit it is stored in; only `EntryService.validate` makes one.
public struct EntryDraft: Sendable, Equatable {
    public let weight: Weight
    public let recordedOn: CalendarDate
    public let measuredAt: OffsetTimestamp?
    public let note: String?
    public let composition: BodyComposition
}

/// A partial change to an entry: nil fields stay as they are; `.some(nil)` clears a field that may be null.
public struct EntryChange: Sendable {
    public var weight: Decimal?
    /// With `weight`, the unit of that weight; alone, a relabelling of the stored number (80 kg becomes 80 lb).
    public var unit: WeightUnit?
    public var recordedOn: CalendarDate?
    /// Set: `recorded_on` follows it (unless also given, when they must agree); cleared: `recorded_on` stays.
    public var measuredAt: OffsetTimestamp??
    public var note: String??
    public var bodyFatPercent: Decimal??
    public var waterPercent: Decimal??
    public var musclePercent: Decimal??
    public var visceralFat: Int??
    public var source: String??
    /// Fields that could not be decoded.
    public var problems: [FieldError]

    public init(
        weight: Decimal? = nil, unit: WeightUnit? = nil, recordedOn: CalendarDate? = nil,
        measuredAt: OffsetTimestamp?? = nil, note: String?? = nil, bodyFatPercent: Decimal?? = nil,
        waterPercent: Decimal?? = nil, musclePercent: Decimal?? = nil, visceralFat: Int?? = nil,
        source: String?? = nil, problems: [FieldError] = []
    ) {
        self.weight = weight
        self.unit = unit
        self.recordedOn = recordedOn
        self.measuredAt = measuredAt
        self.note = note
        self.bodyFatPercent = bodyFatPercent
        self.waterPercent = waterPercent
        self.musclePercent = musclePercent
        self.visceralFat = visceralFat
        self.source = source
        self.problems = problems
    }
}

/// One row of an import as decoded from CSV or JSON; `problems` holds what could not be decoded.
public struct ImportRow: Sendable {
    /// 1-based data row (the CSV header is row 0).
    public var number: Int
    public var entry: NewEntry

    public init(number: Int, entry: NewEntry) {
        self.number = number
        self.entry = entry
    }
}

/// A page of a listing as asked for: the range, the page size and the cursor of the previous page.
public struct ListingRequest: Sendable {
    public var range: DateRange
    public var limit: Int
    public var cursor: String?
    /// Query parameters that could not be decoded.
    public var problems: [FieldError]

    public init(range: DateRange = DateRange(), limit: Int = EntryRules.defaultPageSize, cursor: String? = nil,
                problems: [FieldError] = []) {
        self.range = range
        self.limit = limit
        self.cursor = cursor
        self.problems = problems
    }
}

/// One page of a listing.
public struct EntryPage: Sendable {
    public let entries: [Entry]
    /// The cursor of the next page, nil on the last.
    public let nextCursor: String?
}
