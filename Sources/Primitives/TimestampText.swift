import Foundation

/// Timestamp text at microsecond precision: RFC 3339 in UTC for answers and logs.
///
/// Done by hand because Foundation's formatters are slow and depend on locale settings.
public enum TimestampText {
    /// Microseconds since 1970-01-01T00:00:00Z, rounded to the nearest microsecond.
    public static func microseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// The instant `micros` microseconds after 1970-01-01T00:00:00Z.
    public static func date(microseconds micros: Int64) -> Date {
        Date(timeIntervalSince1970: Double(micros) / 1_000_000)
    }

    /// RFC 3339 in UTC with a `Z` and six fractional digits: `2026-11-26T07:30:00.123456Z`.
    public static func format(_ date: Date) -> String {
        format(microseconds: microseconds(date))
    }

    /// RFC 3339 in UTC with a `Z` and six fractional digits.
    public static func format(microseconds micros: Int64) -> String {
        String(unsafeUninitializedCapacity: length) { write(microseconds: micros, into: $0) }
    }

    /// The length of `format`'s text.
    public static let length = 27

    /// Writes `format`'s text into `buffer` (at least `length` bytes) and returns its length: for writers that
    /// append it to their own output without a `String` in between (a listing writes 60 per page).
    public static func write(microseconds micros: Int64, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        precondition(buffer.count >= length, "a buffer too short for a timestamp")
        let perDay: Int64 = 86_400_000_000
        var days = micros / perDay
        var rest = micros % perDay
        if rest < 0 {
            rest += perDay
            days -= 1
        }
        let (year, month, day) = CalendarDate(daysSinceEpoch: Int(days)).components
        let seconds = Int(rest / 1_000_000)
        let fraction = Int(rest % 1_000_000)
        var position = 0
        func put(_ value: Int, width: Int) {
            var value = value
            for offset in stride(from: width - 1, through: 0, by: -1) {
                buffer[position + offset] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
            position += width
        }
        func put(_ character: Unicode.Scalar) {
            buffer[position] = UInt8(ascii: character)
            position += 1
        }
        put(year, width: 4); put("-"); put(month, width: 2); put("-"); put(day, width: 2); put("T")
        put(seconds / 3600, width: 2); put(":"); put(seconds / 60 % 60, width: 2); put(":")
        put(seconds % 60, width: 2); put("."); put(fraction, width: 6); put("Z")
        return position
    }
}
