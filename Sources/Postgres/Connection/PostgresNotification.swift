/// A notification received through `LISTEN`.
public struct PostgresNotification: Sendable {
    /// The channel it was sent on.
    public let channel: String
    /// The payload text (possibly empty).
    public let payload: String
    /// The server process that sent it.
    public let processID: Int32
}
