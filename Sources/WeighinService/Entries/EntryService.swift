import Crypto
import Foundation
import Postgres
import Primitives

/// Weight entries: create (idempotently), read, change, delete, list with cursors, export and import.
///
/// Every statement carries the user's id, so one user never reaches another's rows (they are simply not found)
/// and every statement is routable by user when the database is sharded.
public final class EntryService: Sendable {
    let database: Database
    /// The HMAC key that signs listing cursors (raw bytes: `SymmetricKey` is not `Sendable`).
    let cursorKey: [UInt8]

    init(database: Database, cursorKey: [UInt8]) {
        self.database = database
        self.cursorKey = cursorKey
    }

    // MARK: - One entry

    /// Checks a new entry against every rule, together with what the request could not decode; throws one
    /// `validation` error naming every failing field. A weight without a unit is in `display`.
    public func validate(_ input: NewEntry, display: WeightUnit) throws(ServiceError) -> EntryDraft {
        var v = Validator(input.problems)
        let unit = input.unit ?? display
        if let weight = v.require(input.weight, "weight") { EntryRules.weight(weight, unit: unit, &v) }
        if let day = v.require(input.recordedOn, "recorded_on") { EntryRules.recordedOn(day, &v) }
        EntryRules.note(input.note, &v)
        try v.check()
        return EntryDraft(weight: Weight(value: input.weight!, unit: unit), recordedOn: input.recordedOn!, note: input.note)
    }

    /// Stores a checked entry; inside `transaction` when given (an idempotent create runs in the transaction that
    /// claims its key).
    public func create(_ auth: Authentication, _ draft: EntryDraft, in transaction: Transaction? = nil) async throws
        -> Entry
    {
        let insert = SQL(
            """
            INSERT INTO weight_entries (user_id, weight, unit, recorded_on, note)
            VALUES (\(auth.userID), \(draft.weight.value), \(draft.weight.unit), \(draft.recordedOn), \(draft.note))
            RETURNING \(Entry.columns)
            """, name: "entries.insert")
        do {
            let rows = if let transaction { try await transaction.query(insert) } else { try await database.query(insert) }
            return try Entry(row: rows[0])
        } catch PostgresError.Code.foreignKeyViolation {
            throw ServiceError.unauthenticated  // the account was deleted meanwhile
        }
    }

    /// One entry of the user; another user's or a missing id throws `notFound`.
    public func get(_ auth: Authentication, id: UUID) async throws -> Entry {
        let rows = try await database.query(
            SQL("SELECT \(Entry.columns) FROM weight_entries WHERE id = \(id) AND user_id = \(auth.userID)",
                name: "entries.get"))
        guard let row = rows.first else { throw ServiceError.notFound }
        return try Entry(row: row)
    }

    /// Changes the given fields of one entry. A weight without a unit is in `display`; a unit without a weight
    /// relabels the stored number.
    public func update(_ auth: Authentication, id: UUID, _ change: EntryChange, display: WeightUnit) async throws
        -> Entry
    {
        var v = Validator(change.problems)
        var unit = change.unit
        if let weight = change.weight {
            if unit == nil { unit = display }
            EntryRules.weight(weight, unit: unit ?? display, &v)
        }
        if let day = change.recordedOn { EntryRules.recordedOn(day, &v) }
        if let note = change.note { EntryRules.note(note, &v) }
        try v.check()
        let rows: PostgresRows
        do {
            rows = try await database.query(
                SQL("""
                    UPDATE weight_entries
                    SET weight = coalesce(\(change.weight), weight), unit = coalesce(\(unit), unit),
                        recorded_on = coalesce(\(change.recordedOn), recorded_on),
                        note = CASE WHEN \(change.note != nil) THEN \(change.note ?? nil) ELSE note END,
                        updated_at = now()
                    WHERE id = \(id) AND user_id = \(auth.userID)
                    RETURNING \(Entry.columns)
                    """, name: "entries.update"))
        } catch let error as PostgresError where error.code == .checkViolation {
            // Only a relabelling can break the range: 2000 lb is not a valid number of kilograms.
            throw ServiceError.invalid("unit", "the stored weight is above the maximum for this unit")
        }
        guard let row = rows.first else { throw ServiceError.notFound }
        return try Entry(row: row)
    }

    /// Deletes one entry of the user; another user's or a missing id throws `notFound`.
    public func delete(_ auth: Authentication, id: UUID) async throws {
        let rows = try await database.query(
            SQL("DELETE FROM weight_entries WHERE id = \(id) AND user_id = \(auth.userID)", name: "entries.delete"))
        guard rows.affectedRows == 1 else { throw ServiceError.notFound }
    }

    // MARK: - Many entries

    /// A page of entries in `range`, newest first (by `recorded_on`, then `created_at`, then `id`), after `cursor`.
    ///
    /// Keyset paging: each page is one index range scan, however deep, and following the cursors visits every
    /// entry that existed at the start exactly once even while entries are added. A cursor not issued for this
    /// user and range throws a validation error on `cursor`.
    public func list(_ auth: Authentication, _ request: ListingRequest) async throws -> EntryPage {
        var v = Validator(request.problems)
        let range = request.range
        let limit = request.limit
        var after: ListingCursor?
        if let cursor = request.cursor {
            after = ListingCursor(decoding: cursor, key: cursorKey, user: auth.userID, range: range)
            if after == nil { v.fail("cursor", "is not a cursor this server issued for this listing") }
        }
        if !EntryRules.pageSizes.contains(limit), !v.hasFailed("limit") {
            v.fail("limit", "must be a whole number from \(EntryRules.pageSizes.lowerBound) to \(EntryRules.pageSizes.upperBound)")
        }
        try v.check()
        var keyset: SQL = ""
        if let after {
            keyset = "AND (recorded_on, created_at, id) < (\(after.recordedOn), \(after.createdAt), \(after.id))"
        }
        let rows = try await database.query(
            SQL("""
                SELECT \(Entry.columns) FROM weight_entries
                WHERE user_id = \(auth.userID) AND recorded_on BETWEEN \(range.lowerBound) AND \(range.upperBound) \(keyset)
                ORDER BY recorded_on DESC, created_at DESC, id DESC
                LIMIT \(limit + 1)
                """, name: after == nil ? "entries.list" : "entries.list_after"))
        var entries = try rows.map(Entry.init(row:))
        var next: String?
        if entries.count > limit {
            entries.removeLast()
            let last = entries[entries.count - 1]
            next = ListingCursor(recordedOn: last.recordedOn, createdAt: last.createdAt, id: last.id)
                .encoded(key: cursorKey, user: auth.userID, range: range)
        }
        return EntryPage(entries: entries, nextCursor: next)
    }

    /// Every entry of the user, oldest first, in batches: one statement per batch and no connection held between
    /// them, so a slow reader holds nothing and memory stays constant whatever the history's length.
    public func export(_ auth: Authentication) -> EntryBatches {
        EntryBatches(database: database, userID: auth.userID)
    }

    /// An empty import for the user: rows are added (and checked) one by one, then `store` saves them all.
    public func importBatch(_ auth: Authentication, display: WeightUnit) -> ImportBatch {
        ImportBatch(userID: auth.userID, display: display) { (entry, display) throws(ServiceError) in
            try self.validate(entry, display: display)
        }
    }

    /// Stores every row of `batch` with one COPY, all or none. COPY stores rows many times faster than INSERTs, and
    /// takes a connection to itself (the HTTP layer bounds how many imports run at once).
    public func store(_ batch: ImportBatch) async throws -> Int {
        guard batch.count > 0 else { return 0 }
        do {
            return try await database.withConnection { connection in
                try await connection.copyIn(
                    "COPY weight_entries (user_id, weight, unit, recorded_on, note) FROM STDIN", data: batch.data)
            }
        } catch PostgresError.Code.foreignKeyViolation {
            throw ServiceError.unauthenticated
        }
    }
}
