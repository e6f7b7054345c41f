import Foundation

/// A day of the proleptic Gregorian calendar without a time or time zone: PostgreSQL's `date`.
///
/// Swift has no such type, and `Date` (an instant) shifts days across time zones, so days are
/// kept as a count of days since 1970-01-01.
public struct CalendarDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Days since 1970-01-01 (negative before it).
    public let daysSinceEpoch: Int

    public init(daysSinceEpoch: Int) {
        self.daysSinceEpoch = daysSinceEpoch
    }

    /// The given day, or nil when it does not exist (February 30th, month 13, ...).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year) else { return nil }
        self.daysSinceEpoch = Self.days(year: year, month: month, day: day)
    }

    /// Parses exactly `YYYY-MM-DD` (four-digit year from 0001, zero-padded month and day) and rejects days that do
    /// not exist, including year 0000 (the calendar, and PostgreSQL, go from 1 BC to AD 1).
    public init?(iso text: some StringProtocol) {
        var text = String(text)
        guard let day = text.withUTF8({ CalendarDate(iso: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = day
    }

    /// `init(iso:)` for text as bytes, without copying them.
    public init?(iso bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = Self.digits(bytes[0..<4]), year >= 1, let month = Self.digits(bytes[5..<7]),
            let day = Self.digits(bytes[8..<10])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// Today's date in UTC.
    public static func today(now: Date = Date()) -> CalendarDate {
        CalendarDate(daysSinceEpoch: Int((now.timeIntervalSince1970 / 86_400).rounded(.down)))
    }

    /// Year, month and day.
    public var components: (year: Int, month: Int, day: Int) {
        // Howard Hinnant's civil_from_days.
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// The date `days` days later (earlier when negative).
    public func adding(days: Int) -> CalendarDate {
        CalendarDate(daysSinceEpoch: daysSinceEpoch + days)
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        guard hasFourDigitYear else {
            let (y, m, d) = components
            return Self.pad(y, 4) + "-" + Self.pad(m, 2) + "-" + Self.pad(d, 2)
        }
        return String(unsafeUninitializedCapacity: Self.isoLength) { writeISO(into: $0) }
    }

    /// The length of `description` for a year of four digits.
    public static let isoLength = 10

    /// Whether the year is within 0...9999, so that `description` has `isoLength` bytes and `writeISO` can write it.
    public var hasFourDigitYear: Bool {
        (Self.firstFourDigitDay...Self.lastFourDigitDay).contains(daysSinceEpoch)
    }

    private static let firstFourDigitDay = days(year: 0, month: 1, day: 1)
    private static let lastFourDigitDay = days(year: 9999, month: 12, day: 31)

    /// Writes `description`'s text into `buffer` (at least `isoLength` bytes) and returns its length, for a day with
    /// `hasFourDigitYear`: for writers that append it to their own output without a `String` in between (every
    /// listed entry has one).
    public func writeISO(into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        precondition(buffer.count >= Self.isoLength && hasFourDigitYear, "a buffer too short or a year too far")
        let (y, m, d) = components
        func put(_ value: Int, width: Int, endingAt end: Int) {
            var rest = value
            for position in stride(from: end - 1, through: end - width, by: -1) {
                buffer[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            }
        }
        put(y, width: 4, endingAt: 4)
        buffer[4] = UInt8(ascii: "-")
        put(m, width: 2, endingAt: 7)
        buffer[7] = UInt8(ascii: "-")
        put(d, width: 2, endingAt: 10)
        return Self.isoLength
    }

    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        lhs.daysSinceEpoch < rhs.daysSinceEpoch
    }

    // MARK: - Arithmetic

    static func days(year: Int, month: Int, day: Int) -> Int {
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// The value of a run of decimal digits in request text (dates, RFC 3339 timestamps); nil when any byte is not
    /// a digit.
    ///
    /// It reads the slice's base directly: iterating a `Slice` checks each index against its bounds.
    static func digits(_ bytes: Slice<UnsafeRawBufferPointer>) -> Int? {
        let base = bytes.base
        var value = 0
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let digit = base[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value &* 10 &+ Int(digit)
            index += 1
        }
        return value
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let s = String(value)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
