import Foundation
import Postgres

/// The rows of one import, each checked as it is added and kept only in the COPY encoding that stores it, and handed
/// to the COPY in chunks as they fill: the caller reads rows one at a time (CSV is streamed), and at most a few
/// chunks are ever held.
public struct ImportBatch: Sendable {
    /// The most rows one import may hold.
    public static let limit = 100_000
    /// The size of a chunk handed to the COPY: about 10,000 rows.
    static let chunkBytes = 256 * 1024

    let userID: UUID
    let display: WeightUnit
    let validate: @Sendable (NewEntry, WeightUnit) throws(ServiceError) -> EntryDraft
    let stream: CopyInStream
    private var data = CopyData()
    /// Rows added so far.
    public private(set) var count = 0

    init(
        userID: UUID, display: WeightUnit, stream: CopyInStream,
        validate: @escaping @Sendable (NewEntry, WeightUnit) throws(ServiceError) -> EntryDraft
    ) {
        self.userID = userID
        self.display = display
        self.stream = stream
        self.validate = validate
    }

    /// Checks `row` and adds it; throws `invalidImportRow` naming the row, or `tooManyRows` past the limit. A weight
    /// with no unit is in the display unit.
    public mutating func add(_ row: ImportRow) throws(ServiceError) {
        guard count < Self.limit else { throw ServiceError.tooManyRows(limit: Self.limit) }
        let draft: EntryDraft
        do {
            draft = try validate(row.entry, display)
        } catch .validation(let errors) {
            throw ServiceError.invalidImportRow(row: row.number, errors)
        }
        let c = draft.composition
        data.appendRow([
            userID, draft.weight.value, draft.weight.unit, draft.recordedOn, draft.note, draft.measuredAt?.date,
            draft.measuredAt?.offsetMinutes, draft.measuredAt?.isZulu, c.bodyFatPercent, c.waterPercent,
            c.musclePercent, c.visceralFat, c.source,
        ])
        count += 1
        if data.bytes.count >= Self.chunkBytes { try send() }
    }

    /// Hands the last rows to the COPY and ends it.
    mutating func finish() throws(ServiceError) {
        if data.rowCount > 0 { try send() }
        stream.finish()
    }

    private mutating func send() throws(ServiceError) {
        guard stream.send(data.bytes) else { throw Self.stopped }
        data = CopyData()
    }

    /// What the reading of rows throws once the COPY has stopped taking them (the database failed): the COPY's own
    /// error is the one reported.
    static let stopped = ServiceError.unavailable(retryAfter: 1, reason: "the import's COPY stopped")
}
