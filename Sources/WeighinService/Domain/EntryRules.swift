import Foundation
import Primitives

/// The contract's rules for entry fields and for the queries that read entries.
///
/// The parsing rules (`unit`, `date`) turn text into typed values for the HTTP layer, which decodes bodies and
/// queries with them; the others check typed values in the service. Every message is written here once.
public enum EntryRules {
    public static let earliestDay = CalendarDate(year: 1900, month: 1, day: 1)!
    /// How many days after today (UTC) an entry's day may be: clients ahead of UTC are already on tomorrow.
    public static let daysAfterToday = 1
    public static let noteLength = 500
    /// Decimal places a weight may have.
    public static let weightPlaces = 2
    /// Entries per listed page.
    public static let pageSizes = 1...1000
    public static let defaultPageSize = 100

    /// A unit as sent: `kg`, `lb`, or `lbs` (taken as `lb`); lower case only.
    public static func unit(_ raw: String, _ v: inout Validator, field: String = "unit") -> WeightUnit? {
        guard let unit = WeightUnit(input: raw) else {
            v.fail(field, "must be \"kg\", \"lb\" or \"lbs\"")
            return nil
        }
        return unit
    }

    /// A day written `YYYY-MM-DD` that exists in the calendar.
    public static func date(_ raw: String, _ v: inout Validator, field: String) -> CalendarDate? {
        guard let day = CalendarDate(iso: raw) else {
            v.fail(field, "must be a real date written YYYY-MM-DD")
            return nil
        }
        return day
    }

    /// `from` and `to`, inclusive; `from` after `to` fails on `from`.
    public static func range(from: CalendarDate?, to: CalendarDate?, _ v: inout Validator) -> DateRange {
        if let from, let to, from > to { v.fail("from", "must not be after to") }
        return DateRange(from: from, to: to)
    }

    /// A weight > 0, at most `unit.maximum` (1000 kg, 2204.62 lb), with at most `weightPlaces` decimal places.
    static func weight(_ value: Decimal, unit: WeightUnit, _ v: inout Validator, field: String = "weight") {
        if value.isNaN || value <= 0 {
            v.fail(field, "must be greater than 0")
        } else if value > unit.maximum {
            v.fail(field, "must be at most \(WeightUnit.kg.maximum) kg (\(WeightUnit.lb.maximum) lb)")
        } else if !Weight.hasAtMost(places: weightPlaces, value) {
            v.fail(field, "must have at most \(weightPlaces) decimal places")
        }
    }

    /// The day of an entry: from `earliestDay` to today (UTC) + `daysAfterToday`.
    static func recordedOn(_ day: CalendarDate, _ v: inout Validator, field: String = "recorded_on") {
        let latest = CalendarDate.today().adding(days: daysAfterToday)
        if day < earliestDay || day > latest {
            v.fail(field, "must be from \(earliestDay) to \(latest)")
        }
    }

    static func note(_ raw: String?, _ v: inout Validator, field: String = "note") {
        guard let raw else { return }
        if raw.unicodeScalars.count > noteLength {
            v.fail(field, "must be at most \(noteLength) characters")
        }
    }
}
