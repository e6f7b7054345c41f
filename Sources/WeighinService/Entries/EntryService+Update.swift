import Foundation
import Postgres
import Primitives

extension EntryService {
    /// Changes the given fields of one entry. A weight without a unit is in `display`; a unit without a weight
    /// relabels the stored number. Setting `measured_at` moves `recorded_on` to its local date (a `recorded_on` given
    /// too must agree); clearing it leaves `recorded_on`; a `recorded_on` alone must agree with a stored
    /// `measured_at` (the database's check says so in the same statement). A client id and version stay; the
    /// content no longer is what the client's PUT sent. With a `precondition`, the stored entry must meet it (else
    /// `preconditionFailed`, and nothing changes), checked under the locks of the write.
    public func update(
        _ auth: Authentication, id: UUID, _ change: EntryChange, display: WeightUnit,
        precondition: EntryPrecondition? = nil
    ) async throws -> Entry {
        var v = Validator(change.problems)
        var unit = change.unit
        if let weight = change.weight {
            if unit == nil { unit = display }
            EntryRules.weight(weight, unit: unit ?? display, &v)
        }
        var day = change.recordedOn
        if let measured = change.measuredAt {
            day = EntryRules.day(recordedOn: change.recordedOn, measuredAt: measured, &v)
        } else if let recordedOn = change.recordedOn {
            EntryRules.recordedOn(recordedOn, &v)
        }
        if let note = change.note { EntryRules.note(note, &v) }
        EntryRules.percent(change.bodyFatPercent ?? nil, &v, field: "body_fat_percent")
        EntryRules.percent(change.waterPercent ?? nil, &v, field: "water_percent")
        EntryRules.percent(change.musclePercent ?? nil, &v, field: "muscle_percent")
        EntryRules.visceralFat(change.visceralFat ?? nil, &v)
        let source = change.source.map { EntryRules.source($0, &v) }
        try v.check()
        let measured = change.measuredAt ?? nil
        let update = SQL("""
                    UPDATE weight_entries
                    SET weight = coalesce(\(change.weight), weight), unit = coalesce(\(unit), unit),
                        recorded_on = coalesce(\(day), recorded_on),
                        measured_at = CASE WHEN \(change.measuredAt != nil) THEN \(measured?.date) ELSE measured_at END,
                        measured_offset = CASE WHEN \(change.measuredAt != nil) THEN \(measured?.offsetMinutes)
                                          ELSE measured_offset END,
                        measured_zulu = CASE WHEN \(change.measuredAt != nil) THEN \(measured?.isZulu) ELSE measured_zulu END,
                        note = CASE WHEN \(change.note != nil) THEN \(change.note ?? nil) ELSE note END,
                        body_fat_percent = CASE WHEN \(change.bodyFatPercent != nil) THEN \(change.bodyFatPercent ?? nil)
                                           ELSE body_fat_percent END,
                        water_percent = CASE WHEN \(change.waterPercent != nil) THEN \(change.waterPercent ?? nil)
                                        ELSE water_percent END,
                        muscle_percent = CASE WHEN \(change.musclePercent != nil) THEN \(change.musclePercent ?? nil)
                                         ELSE muscle_percent END,
                        visceral_fat = CASE WHEN \(change.visceralFat != nil) THEN \(change.visceralFat ?? nil)
                                       ELSE visceral_fat END,
                        source = CASE WHEN \(change.source != nil) THEN \(source ?? nil) ELSE source END,
                        client_fingerprint = NULL, change_seq = \(ChangeCounter.next(auth.userID)), updated_at = now()
                    WHERE id = \(id) AND user_id = \(auth.userID)
                    RETURNING \(Entry.columns)
                    """, name: "entries.update")
        let rows: PostgresRows
        do {
            rows = try await Self.accountMustExist {
                guard let precondition else { return try await database.query(update) }
                return try await database.withTransaction { transaction in
                    try await checkLocked(auth, id: id, precondition, in: transaction)
                    return try await transaction.query(update)
                }
            }
        } catch let error as PostgresError where error.code == .checkViolation {
            throw Self.refusal(of: error)
        }
        guard let row = rows.first else { throw ServiceError.notFound }
        return try Entry(row: row)
    }

    /// What a broken check of a PATCH means: a value the request could not know was wrong on its own.
    private static func refusal(of error: PostgresError) -> ServiceError {
        switch error.constraint {
        case "weight_entries_recorded_on_of_measured_at":
            .invalid("recorded_on", "must be the date of the entry's measured_at in its own offset (or clear measured_at)")
        default:
            // A relabelling: 2000 lb is not a valid number of kilograms.
            .invalid("unit", "the stored weight is above the maximum for this unit")
        }
    }
}
