/// A failure that stops a load test, with a one-line message meant for the operator.
public struct LoadTestError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The message, without a trailing newline.
    public var message: String

    /// Creates an error with a one-line message.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
