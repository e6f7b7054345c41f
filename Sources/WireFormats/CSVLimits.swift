/// Resource limits applied while reading CSV.
///
/// The record limit has no default because it depends on the import being performed (e.g. rows allowed per upload).
public struct CSVLimits: Sendable, Equatable {
    /// Maximum number of records, header record included; one more throws ``CSVError/Kind/tooManyRecords``.
    public var maxRecords: Int
    /// Maximum length in UTF-8 bytes of one decoded field; a longer one throws ``CSVError/Kind/fieldTooLong``.
    public var maxFieldBytes: Int

    /// Creates limits.
    public init(maxRecords: Int, maxFieldBytes: Int = 65_536) {
        self.maxRecords = maxRecords
        self.maxFieldBytes = maxFieldBytes
    }
}
