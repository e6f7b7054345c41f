import Foundation

/// Timestamp text both ways at microsecond precision: RFC 3339 in UTC for answers and logs, and PostgreSQL's
/// `timestamptz` output for results.
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

    /// Parses the server's ISO output, `2026-11-26 07:30:00.123456+00` (any offset `+hh`, `+hh:mm`, `+hh:mm:ss`),
    /// into microseconds since the epoch; `offsetRequired: false` also reads `timestamp` without a zone as UTC.
    public static func parse(_ b: UnsafeRawBufferPointer, offsetRequired: Bool) -> Int64? {
        guard b.count >= 19, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            b[10] == UInt8(ascii: " ") || b[10] == UInt8(ascii: "T"), b[13] == UInt8(ascii: ":"),
            b[16] == UInt8(ascii: ":"),
            let year = CalendarDate.digits(b[0..<4]), let month = CalendarDate.digits(b[5..<7]),
            let day = CalendarDate.digits(b[8..<10]), let hour = CalendarDate.digits(b[11..<13]),
            let minute = CalendarDate.digits(b[14..<16]), let second = CalendarDate.digits(b[17..<19]),
            let date = CalendarDate(year: year, month: month, day: day)
        else { return nil }
        var i = 19
        var micros: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var scale: Int64 = 100_000
            while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") {
                micros += Int64(b[i] - UInt8(ascii: "0")) * scale
                scale /= 10
                i += 1
            }
        }
        var offsetSeconds = 0
        if i < b.count {
            guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") else { return nil }
            let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            // Hours, then optional minutes and seconds, two digits each (PostgreSQL writes `+00`, `+05:30`).
            var parts = 0
            while true {
                guard parts < 3, i + 2 <= b.count, let part = CalendarDate.digits(b[i..<(i + 2)]) else { return nil }
                offsetSeconds += part * (parts == 0 ? 3600 : parts == 1 ? 60 : 1)
                parts += 1
                i += 2
                if i < b.count, b[i] == UInt8(ascii: ":") { i += 1 } else { break }
            }
            guard i == b.count else { return nil }
            offsetSeconds *= sign
        } else if offsetRequired {
            return nil
        }
        let seconds = Int64(date.daysSinceEpoch) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
            - Int64(offsetSeconds)
        return seconds * 1_000_000 + micros
    }
}
