/// Why a byte sequence was not accepted as JSON, and where.
public struct JSONParseError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The class of failure, so the HTTP layer can pick a status code.
    public enum Kind: Sendable, Equatable {
        /// The input is not JSON as defined by RFC 8259.
        case malformed
        /// The input may be JSON but exceeds a ``JSONLimits`` bound (depth, string/number length or member count).
        case limitExceeded
    }

    /// The class of failure.
    public let kind: Kind
    /// A short human-readable explanation, suitable for an error response.
    public let reason: String
    /// Zero-based byte offset in the input where the problem was detected.
    public let offset: Int

    /// Creates an error; normally only the parser does this.
    public init(kind: Kind, reason: String, offset: Int) {
        self.kind = kind
        self.reason = reason
        self.offset = offset
    }

    public var description: String {
        switch kind {
        case .malformed: "invalid JSON at byte \(offset): \(reason)"
        case .limitExceeded: "JSON limit exceeded at byte \(offset): \(reason)"
        }
    }
}
