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
    /// Percentages are above 0 and below 100.
    public static let percentRange: ClosedRange<Decimal> = 0...100
    /// Visceral fat ratings.
    public static let visceralFatRatings = 1...59
    /// A source's length after trimming.
    public static let sourceLength = 1...100
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

    /// An instant with the UTC offset it was taken at: RFC 3339 with seconds, `Z` or `±hh:mm` (−12:00 to +14:00).
    public static func timestamp(_ raw: String, _ v: inout Validator, field: String) -> OffsetTimestamp? {
        guard let timestamp = OffsetTimestamp(rfc3339: raw) else {
            v.fail(
                field,
                "must be an RFC 3339 timestamp with seconds and its UTC offset, Z or ±hh:mm from -12:00 to +14:00 "
                    + "(2026-11-26T07:30:00+01:00)")
            return nil
        }
        return timestamp
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

    /// A percentage of body composition: above 0, below 100, at most 2 decimal places.
    static func percent(_ value: Decimal?, _ v: inout Validator, field: String) {
        guard let value else { return }
        if value <= percentRange.lowerBound || value >= percentRange.upperBound {
            v.fail(field, "must be greater than 0 and less than 100")
        } else if !Weight.hasAtMost(places: weightPlaces, value) {
            v.fail(field, "must have at most \(weightPlaces) decimal places")
        }
    }

    /// A visceral fat rating from 1 to 59.
    static func visceralFat(_ value: Int?, _ v: inout Validator, field: String = "visceral_fat") {
        guard let value, !visceralFatRatings.contains(value) else { return }
        v.fail(field, "must be a whole number from \(visceralFatRatings.lowerBound) to \(visceralFatRatings.upperBound)")
    }

    /// A source, trimmed: 1 to 100 characters.
    static func source(_ raw: String?, _ v: inout Validator, field: String = "source") -> String? {
        guard let raw else { return nil }
        let source = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if !sourceLength.contains(source.unicodeScalars.count) {
            v.fail(field, "must be \(sourceLength.lowerBound) to \(sourceLength.upperBound) characters after trimming")
        }
        return source
    }

    /// Every body composition field.
    static func composition(_ c: BodyComposition, _ v: inout Validator) -> BodyComposition {
        percent(c.bodyFatPercent, &v, field: "body_fat_percent")
        percent(c.waterPercent, &v, field: "water_percent")
        percent(c.musclePercent, &v, field: "muscle_percent")
        visceralFat(c.visceralFat, &v)
        var checked = c
        checked.source = source(c.source, &v)
        return checked
    }

    /// The day of an entry given its `recorded_on` and `measured_at` (either may be absent): the local date of
    /// `measured_at`, which a given `recorded_on` must equal; the day's range is checked on the field it came from.
    static func day(recordedOn: CalendarDate?, measuredAt: OffsetTimestamp?, _ v: inout Validator) -> CalendarDate? {
        guard let measuredAt else {
            if let recordedOn { self.recordedOn(recordedOn, &v) }
            return recordedOn
        }
        let local = measuredAt.localDate
        if let recordedOn, recordedOn != local {
            v.fail("recorded_on", "must be the date of measured_at in its own offset (\(local))")
            return nil
        }
        self.recordedOn(local, &v, field: recordedOn == nil ? "measured_at" : "recorded_on")
        return local
    }

    static func note(_ raw: String?, _ v: inout Validator, field: String = "note") {
        guard let raw else { return }
        if raw.unicodeScalars.count > noteLength {
            v.fail(field, "must be at most \(noteLength) characters")
        }
    }
}
