import Crypto
import Foundation
import Primitives

/// A position in a user's change feed, as an opaque token only this service can issue: the change number and the
/// entry id of the last change answered (changes are ordered by both), signed with HMAC-SHA-256 over the position and
/// the user, so an altered or forged cursor, or another user's, is refused.
///
/// It holds no time and no unit: reading again from the same position with nothing changed gives the same cursor,
/// and a cursor works with any display unit. Whether it is too old is decided by the user's feed horizon.
struct FeedCursor: Equatable {
    let changeSeq: Int64
    let id: UUID

    /// Before every change: where a feed read without a cursor starts. Change numbers start at 1 (entries older
    /// than the feed have 0), and no entry has the nil UUID, so (0, nil UUID) is before them all; being 0, it is
    /// within every horizon until a deletion is purged.
    static let start = FeedCursor(changeSeq: 0, id: UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))

    private static let version: UInt8 = 1
    /// Keeps the feed's MACs apart from the listing cursor's, which share the key.
    private static let purpose = Array("weighin change feed".utf8)
    private static let payloadLength = 1 + 8 + 16
    private static let macLength = 16
    private static let textLength = ((payloadLength + macLength) * 4 + 2) / 3

    init(changeSeq: Int64, id: UUID) {
        self.changeSeq = changeSeq
        self.id = id
    }

    /// The cursor text for `user`.
    func encoded(key: [UInt8], user: UUID) -> String {
        var payload: [UInt8] = [Self.version]
        payload += withUnsafeBytes(of: changeSeq.bigEndian) { Array($0) }
        payload += id.bytes
        return Base64URL.encode(payload + Self.mac(payload, key: key, user: user))
    }

    /// Reads a cursor; nil when this service did not issue it for this user.
    init?(decoding text: String, key: [UInt8], user: UUID) {
        guard text.utf8.count == Self.textLength, let bytes = Base64URL.decode(text),
            bytes.count == Self.payloadLength + Self.macLength, bytes[0] == Self.version
        else { return nil }
        let payload = Array(bytes[0..<Self.payloadLength])
        let expected = Self.mac(payload, key: key, user: user)
        // Constant time: a forger learns nothing from how long the comparison takes.
        guard zip(expected, bytes[Self.payloadLength...]).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0 else {
            return nil
        }
        guard let id = UUID(bytes: payload[9..<25]) else { return nil }
        changeSeq = payload.withUnsafeBytes { $0.bigEndian(Int64.self, at: 1) }
        self.id = id
    }

    private static func mac(_ payload: [UInt8], key: [UInt8], user: UUID) -> [UInt8] {
        let message = purpose + payload + user.bytes
        return Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)).prefix(macLength))
    }
}
