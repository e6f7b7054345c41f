import Foundation

/// An instant together with the UTC offset it was written in, as RFC 3339 says it: `2026-11-26T07:30:00+01:00`.
///
/// A reading taken at 07:30 in Paris must come back as 07:30+01:00, not as 06:30Z: a `Date` keeps only the instant,
/// so the offset (and whether it was written `Z`) travels beside it. Parsing is strict: seconds are required,
/// fractions have at most 6 digits, there is no hour 24 and no leap second, and the offset is `Z` or `±hh:mm` from
/// −12:00 to +14:00 (`-00:00`, RFC 3339's "offset unknown", is refused like a missing offset).
public struct OffsetTimestamp: Hashable, Sendable, CustomStringConvertible {
    /// The most negative and most positive offsets, in minutes.
    public static let offsets = -720...840

    /// Microseconds since 1970-01-01T00:00:00Z.
    public let microseconds: Int64
    /// Minutes east of UTC.
    public let offsetMinutes: Int
    /// Whether the offset was written `Z` (it is then 0).
    public let isZulu: Bool

    /// The instant `microseconds` written in `offsetMinutes` (`Z` when `isZulu`); nil for an offset out of range.
    public init?(microseconds: Int64, offsetMinutes: Int, isZulu: Bool = false) {
        guard Self.offsets.contains(offsetMinutes), !isZulu || offsetMinutes == 0 else { return nil }
        self.microseconds = microseconds
        self.offsetMinutes = offsetMinutes
        self.isZulu = isZulu
    }

    /// Parses `YYYY-MM-DDThh:mm:ss[.f{1,6}](Z|±hh:mm)`; nil for anything else.
    public init?(rfc3339 text: some StringProtocol) {
        var text = String(text)
        guard let parsed = text.withUTF8({ Self(rfc3339: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = parsed
    }

    /// `init(rfc3339:)` for text as bytes.
    init?(rfc3339 b: UnsafeRawBufferPointer) {
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let year = CalendarDate.digits(b[0..<4]), year >= 1, let month = CalendarDate.digits(b[5..<7]),
            let day = CalendarDate.digits(b[8..<10]), let hour = CalendarDate.digits(b[11..<13]), hour < 24,
            let minute = CalendarDate.digits(b[14..<16]), minute < 60,
            let second = CalendarDate.digits(b[17..<19]), second < 60,
            let date = CalendarDate(year: year, month: month, day: day)
        else { return nil }
        var i = 19
        var micros: Int64 = 0
        if b[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            var scale: Int64 = 100_000
            while i < b.count, let digit = CalendarDate.digits(b[i...i]) {
                digits += 1
                guard digits <= 6 else { return nil }
                micros += Int64(digit) * scale
                scale /= 10
                i += 1
            }
            guard digits > 0 else { return nil }
        }
        let zulu: Bool
        var offset = 0
        if i == b.count - 1, b[i] == UInt8(ascii: "Z") {
            zulu = true
        } else if i == b.count - 6, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), b[i + 3] == UInt8(ascii: ":"),
            let hours = CalendarDate.digits(b[(i + 1)...(i + 2)]), let minutes = CalendarDate.digits(b[(i + 4)...(i + 5)]),
            minutes < 60
        {
            let negative = b[i] == UInt8(ascii: "-")
            guard !(negative && hours == 0 && minutes == 0) else { return nil }  // "-00:00": offset unknown
            zulu = false
            offset = (negative ? -1 : 1) * (hours * 60 + minutes)
        } else {
            return nil
        }
        let local = Int64(date.daysSinceEpoch) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        self.init(microseconds: (local - Int64(offset * 60)) * 1_000_000 + micros, offsetMinutes: offset, isZulu: zulu)
    }

    /// The instant as a `Date` (to the microsecond).
    public var date: Date {
        TimestampText.date(microseconds: microseconds)
    }

    /// The calendar day at the place it was written: `2026-11-26T23:30:00-05:00` is on 2026-11-26.
    public var localDate: CalendarDate {
        CalendarDate(daysSinceEpoch: Int(floorDivide(localMicroseconds, 86_400_000_000)))
    }

    /// RFC 3339 in its own offset, fractional seconds without trailing zeros (none when whole).
    public var rfc3339: String {
        let local = localMicroseconds
        let days = floorDivide(local, 86_400_000_000)
        let inDay = local - days * 86_400_000_000
        let (year, month, day) = CalendarDate(daysSinceEpoch: Int(days)).components
        let seconds = Int(inDay / 1_000_000)
        var fraction = Int(inDay % 1_000_000)
        var text = CalendarDate.pad(year, 4) + "-" + CalendarDate.pad(month, 2) + "-" + CalendarDate.pad(day, 2) + "T"
            + CalendarDate.pad(seconds / 3600, 2) + ":" + CalendarDate.pad(seconds / 60 % 60, 2) + ":"
            + CalendarDate.pad(seconds % 60, 2)
        if fraction != 0 {
            var width = 6
            while fraction % 10 == 0 {
                fraction /= 10
                width -= 1
            }
            text += "." + CalendarDate.pad(fraction, width)
        }
        if isZulu { return text + "Z" }
        let magnitude = abs(offsetMinutes)
        return text + (offsetMinutes < 0 ? "-" : "+") + CalendarDate.pad(magnitude / 60, 2) + ":"
            + CalendarDate.pad(magnitude % 60, 2)
    }

    public var description: String { rfc3339 }

    /// The wall-clock time at its offset, in microseconds since 1970-01-01T00:00:00 of that clock.
    private var localMicroseconds: Int64 {
        microseconds + Int64(offsetMinutes) * 60_000_000
    }

    private func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }
}
