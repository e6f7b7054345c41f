import Crypto
import Foundation

/// A webhook's signing secret and the Standard Webhooks signature made with it.
///
/// The secret is shown once as `whsec_` + base64 of 32 random bytes; the signature of a delivery is `v1,` + base64
/// of HMAC-SHA256 over `id.timestamp.body` keyed by those bytes (https://www.standardwebhooks.com), so receivers
/// can verify deliveries with any of that specification's libraries.
public struct WebhookSecret: Sendable, Equatable {
    public static let prefix = "whsec_"
    /// The key bytes.
    public let key: [UInt8]

    /// A new random secret.
    public static func random() -> WebhookSecret {
        var generator = SystemRandomNumberGenerator()
        return WebhookSecret(key: (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    public init(key: [UInt8]) {
        self.key = key
    }

    /// Reads `whsec_...`; nil when it is not one.
    public init?(text: String) {
        guard text.hasPrefix(Self.prefix), let key = Data(base64Encoded: String(text.dropFirst(Self.prefix.count))),
            !key.isEmpty
        else { return nil }
        self.key = Array(key)
    }

    /// `whsec_` + base64 of the key: what the receiver is given once.
    public var text: String {
        Self.prefix + Data(key).base64EncodedString()
    }

    /// The `webhook-signature` header's value for a message.
    public func signature(id: String, timestamp: Int, body: [UInt8]) -> String {
        var message = Array("\(id).\(timestamp).".utf8)
        message += body
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))
        return "v1," + Data(mac).base64EncodedString()
    }
}
