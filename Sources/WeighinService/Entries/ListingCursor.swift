import Crypto
import Foundation
import Postgres
import Primitives

/// The position after the last entry of a page, as an opaque token only this service can issue.
///
/// It holds the keyset position (`recorded_on`, `created_at`, `id`) and is signed with HMAC-SHA-256 over that
/// position, the user and the `from`/`to` range, so an altered or forged cursor, another user's cursor, or one
/// sent with another range is refused. The key is shared by every instance through the database.
struct ListingCursor: Equatable {
    let recordedOn: CalendarDate
    let createdAtMicros: Int64
    let id: UUID

    private static let version: UInt8 = 1
    private static let macLength = 16

    /// The cursor text for `user` and `range`.
    func encoded(key: [UInt8], user: UUID, range: DateRange) -> String {
        var payload: [UInt8] = [Self.version]
        payload += Self.bytes(Int32(truncatingIfNeeded: recordedOn.daysSinceEpoch))
        payload += Self.bytes(createdAtMicros)
        payload += withUnsafeBytes(of: id.uuid) { Array($0) }
        let mac = Self.mac(payload, key: key, user: user, range: range)
        return Base64URL.encode(payload + mac)
    }

    /// Reads a cursor; nil when it was not issued by this service for this user and range.
    init?(decoding text: String, key: [UInt8], user: UUID, range: DateRange) {
        guard text.utf8.count == 60, let bytes = Base64URL.decode(text), bytes.count == 29 + Self.macLength,
            bytes[0] == Self.version
        else { return nil }
        let payload = Array(bytes[0..<29])
        let expected = Self.mac(payload, key: key, user: user, range: range)
        // Constant time: a forger learns nothing from how long the comparison takes.
        guard zip(expected, bytes[29...]).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0 else { return nil }
        let days = payload[1..<5].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let micros = payload[5..<13].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let u = Array(payload[13..<29])
        recordedOn = CalendarDate(daysSinceEpoch: Int(Int32(bitPattern: days)))
        createdAtMicros = Int64(bitPattern: micros)
        id = UUID(uuid: (u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]))
    }

    /// The `created_at` bound, at microsecond precision.
    var createdAt: Date { TimestampText.date(microseconds: createdAtMicros) }

    init(recordedOn: CalendarDate, createdAt: Date, id: UUID) {
        self.recordedOn = recordedOn
        self.createdAtMicros = TimestampText.microseconds(createdAt)
        self.id = id
    }

    private static func mac(_ payload: [UInt8], key: [UInt8], user: UUID, range: DateRange) -> [UInt8] {
        var message = payload
        message += withUnsafeBytes(of: user.uuid) { Array($0) }
        message += bytes(Int32(truncatingIfNeeded: range.from?.daysSinceEpoch ?? Int(Int32.min)))
        message += bytes(Int32(truncatingIfNeeded: range.to?.daysSinceEpoch ?? Int(Int32.max)))
        return Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)).prefix(macLength))
    }

    private static func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }
}
