import Foundation

/// A `YYYY-MM-DD` date in UTC counted in days since 1970-01-01, without Foundation's calendar machinery.
struct CalendarDate: Sendable, Equatable {
    /// Days since 1970-01-01.
    var daysSinceEpoch: Int

    /// Today in UTC.
    static var today: CalendarDate {
        CalendarDate(daysSinceEpoch: Int((Date().timeIntervalSince1970 / 86_400).rounded(.down)))
    }

    /// The date `days` days earlier.
    func subtracting(days: Int) -> CalendarDate {
        CalendarDate(daysSinceEpoch: daysSinceEpoch - days)
    }

    /// The date as `YYYY-MM-DD` (Howard Hinnant's civil-from-days algorithm).
    var text: String {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return "\(year)-\(month < 10 ? "0" : "")\(month)-\(day < 10 ? "0" : "")\(day)"
    }
}
