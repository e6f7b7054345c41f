import Crypto
import Foundation

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
        self.text = Self.prefix + Self.base64url(Self.bytes(of: userID) + secret)
    }

    /// Parses a token; nil when it is not one of ours.
    init?(parsing text: String) {
        guard text.hasPrefix(Self.prefix), text.utf8.count == Self.prefix.utf8.count + 54 else { return nil }
        var body = String(text.dropFirst(Self.prefix.count))
        guard body.utf8.allSatisfy(Self.isBase64url) else { return nil }
        body = body.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "=="
        guard let data = Data(base64Encoded: body), data.count == 40 else { return nil }
        let bytes = [UInt8](data)
        self.userID = UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                                  bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        self.text = text
    }

    /// What the database stores: SHA-256 of the token text.
    var hash: [UInt8] {
        Array(SHA256.hash(data: Data(text.utf8)))
    }

    private static func bytes(of id: UUID) -> [UInt8] {
        withUnsafeBytes(of: id.uuid) { Array($0) }
    }

    /// Whether `byte` is one of base64url's 64 characters (padding excluded).
    static func isBase64url(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
