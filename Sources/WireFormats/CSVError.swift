/// Why a byte sequence was not accepted as CSV, and in which record.
public struct CSVError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The class of failure, so the caller can answer "invalid file" or "too many rows" differently.
    public enum Kind: Sendable, Equatable {
        /// The input is not RFC 4180 CSV in UTF-8.
        case malformed
        /// The input has more records than ``CSVLimits/maxRecords``.
        case tooManyRecords
        /// A field is longer than ``CSVLimits/maxFieldBytes``.
        case fieldTooLong
    }

    /// The class of failure.
    public let kind: Kind
    /// A short human-readable explanation, suitable for an error response.
    public let reason: String
    /// 1-based number of the record in which the problem was found (empty lines count as records).
    public let record: Int

    /// Creates an error; normally only the reader does this.
    public init(kind: Kind, reason: String, record: Int) {
        self.kind = kind
        self.reason = reason
        self.record = record
    }

    public var description: String {
        "CSV record \(record): \(reason)"
    }
}
