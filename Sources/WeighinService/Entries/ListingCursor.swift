import Crypto
import Foundation
import Postgres
import Primitives

/// The position after the last entry of a page, as an opaque token only this service can issue.
///
/// It holds the keyset position (`recorded_on`, `measured_at` or none, `created_at`, `id`) and is signed with
/// HMAC-SHA-256 over that position, the user and the `from`/`to` range, so an altered or forged cursor, another
/// user's cursor, or one sent with another range is refused. The key is shared by every instance through the
/// database. Version 2 added the time of day; a version 1 cursor (issued before it) is refused like any other
/// stranger, and the client starts over.
struct ListingCursor: Equatable {
    let recordedOn: CalendarDate
    /// The reading's instant in microseconds; nil for an entry without `measured_at` (it sorts as infinity).
    let measuredAtMicros: Int64?
    let createdAtMicros: Int64
    let id: UUID

    private static let version: UInt8 = 2
    private static let payloadLength = 1 + 4 + 8 + 8 + 16
    private static let macLength = 16
    /// The cursor's text length: base64url of payload and MAC, unpadded.
    private static let textLength = ((payloadLength + macLength) * 4 + 2) / 3
    /// `measuredAtMicros` nil, as written in the payload.
    private static let noMeasurement = Int64.max

    init(recordedOn: CalendarDate, measuredAtMicros: Int64?, createdAt: Date, id: UUID) {
        self.recordedOn = recordedOn
        self.measuredAtMicros = measuredAtMicros
        self.createdAtMicros = TimestampText.microseconds(createdAt)
        self.id = id
    }

    /// The cursor text for `user` and `range`.
    func encoded(key: [UInt8], user: UUID, range: DateRange) -> String {
        var payload: [UInt8] = [Self.version]
        payload += Self.bytes(Int32(truncatingIfNeeded: recordedOn.daysSinceEpoch))
        payload += Self.bytes(measuredAtMicros ?? Self.noMeasurement)
        payload += Self.bytes(createdAtMicros)
        payload += id.bytes
        return Base64URL.encode(payload + Self.mac(payload, key: key, user: user, range: range))
    }

    /// Reads a cursor; nil when it was not issued by this service for this user and range.
    init?(decoding text: String, key: [UInt8], user: UUID, range: DateRange) {
        guard text.utf8.count == Self.textLength, let bytes = Base64URL.decode(text),
            bytes.count == Self.payloadLength + Self.macLength, bytes[0] == Self.version
        else { return nil }
        let payload = Array(bytes[0..<Self.payloadLength])
        let expected = Self.mac(payload, key: key, user: user, range: range)
        // Constant time: a forger learns nothing from how long the comparison takes.
        guard zip(expected, bytes[Self.payloadLength...]).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0 else {
            return nil
        }
        let (days, measured, created) = payload.withUnsafeBytes {
            ($0.bigEndian(Int32.self, at: 1), $0.bigEndian(Int64.self, at: 5), $0.bigEndian(Int64.self, at: 13))
        }
        guard let id = UUID(bytes: payload[21..<37]) else { return nil }
        recordedOn = CalendarDate(daysSinceEpoch: Int(days))
        measuredAtMicros = measured == Self.noMeasurement ? nil : measured
        createdAtMicros = created
        self.id = id
    }

    /// The `measured_at` bound (nil: none, sorting as infinity), at microsecond precision.
    var measuredAt: Date? { measuredAtMicros.map(TimestampText.date(microseconds:)) }

    /// The `created_at` bound, at microsecond precision.
    var createdAt: Date { TimestampText.date(microseconds: createdAtMicros) }

    private static func mac(_ payload: [UInt8], key: [UInt8], user: UUID, range: DateRange) -> [UInt8] {
        var message = payload
        message += user.bytes
        message += bytes(Int32(truncatingIfNeeded: range.from?.daysSinceEpoch ?? Int(Int32.min)))
        message += bytes(Int32(truncatingIfNeeded: range.to?.daysSinceEpoch ?? Int(Int32.max)))
        return Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)).prefix(macLength))
    }

    private static func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }
}
