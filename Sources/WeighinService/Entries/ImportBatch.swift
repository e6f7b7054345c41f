import Foundation
import Postgres

/// The rows of one import, each checked as it is added and kept only in the COPY encoding that stores it: the
/// caller can read rows one at a time (CSV is streamed) and no list of every row is ever held.
public struct ImportBatch: Sendable {
    /// The most rows one import may hold.
    public static let limit = 100_000

    let userID: UUID
    let display: WeightUnit
    let validate: @Sendable (NewEntry, WeightUnit) throws(ServiceError) -> EntryDraft
    private(set) var data = CopyData()
    /// Rows added so far.
    public private(set) var count = 0

    init(userID: UUID, display: WeightUnit, validate: @escaping @Sendable (NewEntry, WeightUnit) throws(ServiceError) -> EntryDraft) {
        self.userID = userID
        self.display = display
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
    }
}
