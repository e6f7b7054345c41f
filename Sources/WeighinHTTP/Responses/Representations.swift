import Foundation
import Primitives
import WeighinService
import WireFormats

/// The JSON shapes of the contract, written member by member.
extension JSONWriter {
    /// RFC 3339 in UTC with a `Z`, microseconds.
    mutating func timestamp(_ date: Date) {
        string(TimestampText.format(date))
    }

    mutating func date(_ day: CalendarDate) {
        string(day.description)
    }

    mutating func optionalNumber(_ value: Decimal?) {
        if let value { number(value) } else { null() }
    }

    /// `{id, email, name, weight_unit, created_at}`.
    mutating func user(_ user: User) {
        beginObject()
        key("id"); string(user.id.lowercasedString)
        key("email"); string(user.email)
        key("name"); string(user.name)
        key("weight_unit"); string(user.weightUnit.rawValue)
        key("created_at"); timestamp(user.createdAt)
        endObject()
    }

    /// `{id, weight, unit, recorded_on, note, created_at, updated_at}`, the weight shown in `display`.
    mutating func entry(_ entry: Entry, display: WeightUnit) {
        beginObject()
        key("id"); string(entry.id.lowercasedString)
        key("weight"); number(entry.weight.shown(in: display))
        key("unit"); string(display.rawValue)
        key("recorded_on"); date(entry.recordedOn)
        key("note"); if let note = entry.note { string(note) } else { null() }
        key("created_at"); timestamp(entry.createdAt)
        key("updated_at"); timestamp(entry.updatedAt)
        endObject()
    }

    /// An entry in the unit it was entered in (export).
    mutating func enteredEntry(_ entry: Entry) {
        self.entry(entry, display: entry.weight.unit)
    }

    /// `{token, token_type, expires_at, user}`.
    mutating func token(_ issued: IssuedToken) {
        beginObject()
        key("token"); string(issued.token)
        key("token_type"); string("Bearer")
        key("expires_at"); timestamp(issued.expiresAt)
        key("user"); user(issued.user)
        endObject()
    }

    /// `{unit, count, min, max, mean, first, latest, change, weekly_rate}`.
    mutating func statistics(_ stats: Statistics) {
        func point(_ point: Statistics.Point?, into writer: inout JSONWriter) {
            guard let point else { return writer.null() }
            writer.beginObject()
            writer.key("recorded_on"); writer.date(point.recordedOn)
            writer.key("weight"); writer.number(point.weight)
            writer.endObject()
        }
        beginObject()
        key("unit"); string(stats.unit.rawValue)
        key("count"); number(stats.count)
        key("min"); optionalNumber(stats.min)
        key("max"); optionalNumber(stats.max)
        key("mean"); optionalNumber(stats.mean)
        key("first"); point(stats.first, into: &self)
        key("latest"); point(stats.latest, into: &self)
        key("change"); optionalNumber(stats.change)
        key("weekly_rate"); optionalNumber(stats.weeklyRate)
        endObject()
    }

    /// `{unit, window, points: [{date, weight, average}]}`.
    mutating func trend(_ points: [TrendPoint], unit: WeightUnit, window: Int) {
        beginObject()
        key("unit"); string(unit.rawValue)
        key("window"); number(window)
        key("points")
        beginArray()
        for point in points {
            beginObject()
            key("date"); date(point.date)
            key("weight"); number(point.weight)
            key("average"); number(point.average)
            endObject()
        }
        endArray()
        endObject()
    }
}
