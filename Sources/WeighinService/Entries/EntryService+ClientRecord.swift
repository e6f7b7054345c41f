import Foundation
import Postgres
import Primitives

/// A `PUT /v1/entries/by-client-id/{client_record_id}` as decoded: the whole entry, the device's id and version,
/// and the fingerprint of the body in canonical form (two bodies equal as parsed JSON have the same).
public struct ClientPut: Sendable {
    public var recordID: String
    public var version: Int64?
    public var entry: NewEntry
    public var fingerprint: [UInt8]

    public init(recordID: String, version: Int64?, entry: NewEntry, fingerprint: [UInt8]) {
        self.recordID = recordID
        self.version = version
        self.entry = entry
        self.fingerprint = fingerprint
    }
}

extension EntryService {
    /// A client record id's length in Unicode code points.
    public static let clientRecordIDLength = 1...255

    /// Creates the entry with the device's id (created: true) or replaces the one that has it when `version` is
    /// higher than the stored one. An equal version with the same body changes nothing and answers the stored
    /// entry; a lower one, or an equal one with another body, throws `versionConflict` with the stored entry.
    ///
    /// The user's row is locked first, as every writer of the user does, so the look and the write that follows
    /// happen with no other write of this user between them (two devices sending the same new id at once: the second
    /// finds the first's entry).
    public func put(_ auth: Authentication, _ input: ClientPut, display: WeightUnit, precondition: EntryPrecondition?)
        async throws -> (entry: Entry, created: Bool)
    {
        var v = Validator(input.entry.problems)
        if !Self.clientRecordIDLength.contains(input.recordID.unicodeScalars.count) {
            v.fail("client_record_id", "must be \(Self.clientRecordIDLength.lowerBound) to \(Self.clientRecordIDLength.upperBound) characters")
        } else if input.recordID.utf8.contains(0) {
            v.fail("client_record_id", "must not contain NUL characters")
        }
        let version = v.require(input.version, "client_version")
        var entry = input.entry
        entry.problems = v.errors
        let draft = try validate(entry, display: display)
        return try await Self.accountMustExist {
            try await database.withTransaction { transaction in
                try await ChangeCounter.lockUser(auth.userID, in: transaction)
                let found = try await transaction.query(
                    SQL("""
                        SELECT \(Entry.columns), client_fingerprint FROM weight_entries
                        WHERE user_id = \(auth.userID) AND client_record_id = \(input.recordID) FOR UPDATE
                        """, name: "entries.get_by_client_id"))
                let stored = try found.first.map(Entry.init(row:))
                if let precondition, !precondition.holds(for: stored) { throw ServiceError.preconditionFailed }
                guard let stored, let storedVersion = stored.client?.version else {
                    return (try await insert(auth, draft, client: input, version: version!, in: transaction), true)
                }
                if version! > storedVersion {
                    return (try await replace(auth, stored.id, draft, client: input, version: version!, in: transaction), false)
                }
                let sameBody = try found[0].decode([UInt8]?.self, column: "client_fingerprint") == input.fingerprint
                guard version! == storedVersion, sameBody else { throw ServiceError.versionConflict(current: stored, display: display) }
                return (stored, false)
            }
        }
    }

    private func insert(
        _ auth: Authentication, _ draft: EntryDraft, client: ClientPut, version: Int64, in transaction: Transaction
    ) async throws -> Entry {
        let c = draft.composition
        let rows = try await transaction.query(
            SQL("""
                INSERT INTO weight_entries (user_id, weight, unit, recorded_on, note, measured_at, measured_offset,
                                            measured_zulu, body_fat_percent, water_percent, muscle_percent,
                                            visceral_fat, source, client_record_id, client_version,
                                            client_fingerprint, change_seq)
                VALUES (\(auth.userID), \(draft.weight.value), \(draft.weight.unit), \(draft.recordedOn), \(draft.note),
                        \(draft.measuredAt?.date), \(draft.measuredAt?.offsetMinutes), \(draft.measuredAt?.isZulu),
                        \(c.bodyFatPercent), \(c.waterPercent), \(c.musclePercent), \(c.visceralFat), \(c.source),
                        \(client.recordID), \(version), \(client.fingerprint), \(ChangeCounter.next(auth.userID)))
                RETURNING \(Entry.columns)
                """, name: "entries.insert_by_client_id"))
        return try Entry(row: rows[0])
    }

    /// Replaces every field of the entry (a field the body left out becomes null); its id and `created_at` stay.
    private func replace(
        _ auth: Authentication, _ id: UUID, _ draft: EntryDraft, client: ClientPut, version: Int64,
        in transaction: Transaction
    ) async throws -> Entry {
        let c = draft.composition
        let rows = try await transaction.query(
            SQL("""
                UPDATE weight_entries
                SET weight = \(draft.weight.value), unit = \(draft.weight.unit), recorded_on = \(draft.recordedOn),
                    note = \(draft.note), measured_at = \(draft.measuredAt?.date),
                    measured_offset = \(draft.measuredAt?.offsetMinutes), measured_zulu = \(draft.measuredAt?.isZulu),
                    body_fat_percent = \(c.bodyFatPercent), water_percent = \(c.waterPercent),
                    muscle_percent = \(c.musclePercent), visceral_fat = \(c.visceralFat), source = \(c.source),
                    client_version = \(version), client_fingerprint = \(client.fingerprint),
                    change_seq = \(ChangeCounter.next(auth.userID)), updated_at = now()
                WHERE id = \(id) AND user_id = \(auth.userID)
                RETURNING \(Entry.columns)
                """, name: "entries.replace_by_client_id"))
        return try Entry(row: rows[0])
    }
}
