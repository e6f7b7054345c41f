import Crypto
import Foundation
import Primitives

/// The bearer token format: `wi_` then base64url of the user's id (16 bytes) and 24 random bytes.
///
/// 192 random bits from the system's cryptographic generator make tokens unguessable; the visible `wi_` prefix
/// lets secret scanners find leaked tokens; the embedded user id lets every lookup go by user (one shard when the
/// database is sharded by user). The database keeps only a SHA-256 of the whole token.
struct BearerToken {
    static let prefix = "wi_"
    let userID: UUID
    let text: String

    /// A new random token for `userID`.
    init(newFor userID: UUID) {
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<24).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        self.userID = userID
        self.text = Self.prefix + Base64URL.encode(Self.bytes(of: userID) + secret)
    }

    /// Parses a token; nil when it is not one of ours.
    init?(parsing text: String) {
        guard text.hasPrefix(Self.prefix), text.utf8.count == Self.prefix.utf8.count + 54,
            let bytes = Base64URL.decode(String(text.utf8.dropFirst(Self.prefix.utf8.count))!), bytes.count == 40
        else { return nil }
        self.userID = UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                                  bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        self.text = text
    }

    /// What the database stores: SHA-256 of the token text.
    var hash: [UInt8] {
        // Hashed in place and copied once: through `Data` and the digest's sequence it took three copies.
        var text = text
        return text.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }.withUnsafeBytes { Array($0) }
    }

    private static func bytes(of id: UUID) -> [UInt8] {
        withUnsafeBytes(of: id.uuid) { Array($0) }
    }
}
