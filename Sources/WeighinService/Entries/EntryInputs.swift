import Foundation
import Postgres
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

/// A new entry as received: the weight is exact, the other fields are checked by the service.
public struct NewEntry: Sendable {
    public var weight: Decimal
    /// nil: in the display unit of the request.
    public var unit: String?
    public var recordedOn: String
    public var note: String?

    public init(weight: Decimal, unit: String?, recordedOn: String, note: String?) {
        self.weight = weight
        self.unit = unit
        self.recordedOn = recordedOn
        self.note = note
    }
}

/// A partial change to an entry: nil fields stay as they are.
public struct EntryChange: Sendable {
    public var weight: Decimal?
    /// With `weight`, the unit of that weight; alone, a relabelling of the stored number (80 kg becomes 80 lb).
    public var unit: String?
    public var recordedOn: String?
    /// nil: unchanged; `.some(nil)`: cleared.
    public var note: String??

    public init(weight: Decimal? = nil, unit: String? = nil, recordedOn: String? = nil, note: String?? = nil) {
        self.weight = weight
        self.unit = unit
        self.recordedOn = recordedOn
        self.note = note
    }
}

/// One row of an import, as parsed from CSV or JSON; `problems` holds what the parser already found wrong.
public struct ImportRow: Sendable {
    /// 1-based data row (the CSV header is row 0).
    public var number: Int
    public var weight: Decimal?
    /// nil or empty: in the display unit of the request.
    public var unit: String?
    public var recordedOn: String?
    public var note: String?
    public var problems: [FieldError]

    public init(
        number: Int, weight: Decimal?, unit: String?, recordedOn: String?, note: String?, problems: [FieldError] = []
    ) {
        self.number = number
        self.weight = weight
        self.unit = unit
        self.recordedOn = recordedOn
        self.note = note
        self.problems = problems
    }
}

/// A request's idempotency key and the fingerprint of its body in canonical form.
public struct IdempotencyKey: Sendable {
    public let key: String
    public let fingerprint: [UInt8]

    public init(key: String, fingerprint: [UInt8]) {
        self.key = key
        self.fingerprint = fingerprint
    }
}

/// What a create answered: a new entry and its rendered answer, or the first answer again for a repeated key.
public enum CreateOutcome: Sendable {
    case created(Entry, body: [UInt8])
    case replayed(body: [UInt8], entryID: UUID)
}

/// One page of a listing.
public struct EntryPage: Sendable {
    public let entries: [Entry]
    /// The cursor of the next page, nil on the last.
    public let nextCursor: String?
}
