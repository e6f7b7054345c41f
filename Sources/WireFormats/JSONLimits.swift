/// Resource limits applied while parsing JSON.
///
/// They bound the work and memory an untrusted request body can cause; exceeding one throws
/// a ``JSONParseError`` of kind ``JSONParseError/Kind/limitExceeded``.
public struct JSONLimits: Sendable, Equatable {
    /// Maximum number of nested arrays/objects: with 32, `[[…]]` nested 32 deep parses and 33 deep fails. Scalars add no depth.
    public var maxDepth: Int
    /// Maximum length in UTF-8 bytes of one decoded string (member names included) and of one number's text.
    public var maxStringBytes: Int
    /// Maximum number of elements in one array or members in one object.
    public var maxMembers: Int

    /// Creates limits; the defaults suit small API request bodies.
    public init(maxDepth: Int = 32, maxStringBytes: Int = 1 << 20, maxMembers: Int = 200_000) {
        self.maxDepth = maxDepth
        self.maxStringBytes = maxStringBytes
        self.maxMembers = maxMembers
    }
}
