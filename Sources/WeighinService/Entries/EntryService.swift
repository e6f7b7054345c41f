import Crypto
import Foundation
import Postgres
import Primitives

/// Weight entries: create (idempotently), read, change, delete, list with cursors, export and import.
///
/// Every statement carries the user's id, so one user never reaches another's rows (they are simply not found)
/// and every statement is routable by user when the database is sharded.
public final class EntryService: Sendable {
    /// The most rows one import may hold.
    public static let importLimit = 100_000

    let database: PostgresPool
    /// The HMAC key that signs listing cursors (raw bytes: `SymmetricKey` is not `Sendable`).
    let cursorKey: [UInt8]

    init(database: PostgresPool, cursorKey: [UInt8]) {
        self.database = database
        self.cursorKey = cursorKey
    }

    // MARK: - One entry

    /// Stores a new entry. With an idempotency key, a repeat of the same body within 24 hours answers the first
    /// answer again (`render` made it) and stores nothing; another body with the same key throws
    /// `idempotencyKeyReused`.
    public func create(
        _ auth: Authentication, _ input: NewEntry, display: WeightUnit, idempotency: IdempotencyKey?,
        render: @Sendable (Entry) -> [UInt8]
    ) async throws -> CreateOutcome {
        var v = Validator()
        var unit = display
        if let raw = input.unit { unit = EntryRules.unit(raw, &v) ?? display }
        EntryRules.weight(input.weight, unit: unit, &v)
        let day = EntryRules.recordedOn(input.recordedOn, &v)
        EntryRules.note(input.note, &v)
        try v.check()
        guard let day else { throw ServiceError.invalid("recorded_on", "is required") }
        let insert = SQL(
            """
            INSERT INTO weight_entries (user_id, weight, unit, recorded_on, note)
            VALUES (\(auth.userID), \(input.weight), \(unit), \(day), \(input.note))
            RETURNING \(Entry.columns)
            """, name: "entries.insert")
        guard let idempotency else {
            let entry = try await insertEntry(insert, with: { try await database.query($0) })
            return .created(entry, body: render(entry))
        }
        return try await database.withTransaction { connection in
            let claimed = try await connection.query(
                SQL("""
                    INSERT INTO idempotency_keys (user_id, key, fingerprint)
                    VALUES (\(auth.userID), \(idempotency.key), \(idempotency.fingerprint))
                    ON CONFLICT (user_id, key) DO UPDATE
                        SET fingerprint = excluded.fingerprint, response = NULL, entry_id = NULL, created_at = now()
                        WHERE idempotency_keys.created_at < now() - interval '24 hours'
                    RETURNING true AS claimed
                    """, name: "idempotency.claim"))
            if claimed.isEmpty {
                // Another request holds or held the key; the claim above waited for it to finish.
                let rows = try await connection.query(
                    SQL("""
                        SELECT fingerprint, response, entry_id FROM idempotency_keys
                        WHERE user_id = \(auth.userID) AND key = \(idempotency.key)
                        """, name: "idempotency.get"))
                guard let row = rows.first else { throw ServiceError.idempotencyKeyInUse }
                guard try row.decode([UInt8].self, column: "fingerprint") == idempotency.fingerprint else {
                    throw ServiceError.idempotencyKeyReused
                }
                guard let body = try row.decode([UInt8]?.self, column: "response"),
                    let id = try row.decode(UUID?.self, column: "entry_id")
                else { throw ServiceError.idempotencyKeyInUse }
                return .replayed(body: body, entryID: id)
            }
            let entry = try await insertEntry(insert, with: { try await connection.query($0) })
            let body = render(entry)
            try await connection.query(
                SQL("""
                    UPDATE idempotency_keys SET response = \(body), entry_id = \(entry.id)
                    WHERE user_id = \(auth.userID) AND key = \(idempotency.key)
                    """, name: "idempotency.remember"))
            return .created(entry, body: body)
        }
    }

    private func insertEntry(_ insert: SQL, with run: (SQL) async throws -> PostgresRows) async throws -> Entry {
        do {
            return try Entry(row: try await run(insert)[0])
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
        var v = Validator()
        var unit = change.unit.flatMap { EntryRules.unit($0, &v) }
        if let weight = change.weight {
            if change.unit == nil { unit = display }
            EntryRules.weight(weight, unit: unit ?? display, &v)
        }
        let day = change.recordedOn.flatMap { EntryRules.recordedOn($0, &v) }
        if let note = change.note { EntryRules.note(note, &v) }
        try v.check()
        let rows: PostgresRows
        do {
            rows = try await database.query(
                SQL("""
                    UPDATE weight_entries
                    SET weight = coalesce(\(change.weight), weight), unit = coalesce(\(unit), unit),
                        recorded_on = coalesce(\(day), recorded_on),
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
    public func list(_ auth: Authentication, range: DateRange, limit: Int, cursor: String?) async throws -> EntryPage {
        let after: ListingCursor?
        if let cursor {
            guard let decoded = ListingCursor(decoding: cursor, key: cursorKey, user: auth.userID, range: range) else {
                throw ServiceError.invalid("cursor", "is not a cursor this server issued for this listing")
            }
            after = decoded
        } else {
            after = nil
        }
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

    /// Checks every row, then stores all of them with one COPY, or none: the first failing row throws
    /// `invalidImportRow` naming it. A weight with no (or an empty) unit is in `display`.
    public func importEntries(_ auth: Authentication, rows: [ImportRow], display: WeightUnit) async throws -> Int {
        guard rows.count <= Self.importLimit else { throw ServiceError.tooManyRows(limit: Self.importLimit) }
        var data = CopyData()
        for row in rows {
            var v = Validator()
            for problem in row.problems { v.fail(problem.field, problem.message) }
            var unit = display
            if let raw = row.unit, !raw.isEmpty { unit = EntryRules.unit(raw, &v) ?? display }
            if let weight = row.weight {
                EntryRules.weight(weight, unit: unit, &v)
            } else if !row.problems.contains(where: { $0.field == "weight" }) {
                v.fail("weight", "is required")
            }
            var day: CalendarDate?
            if let raw = row.recordedOn {
                day = EntryRules.recordedOn(raw, &v)
            } else if !row.problems.contains(where: { $0.field == "recorded_on" }) {
                v.fail("recorded_on", "is required")
            }
            EntryRules.note(row.note, &v)
            guard v.errors.isEmpty, let weight = row.weight, let day else {
                throw ServiceError.invalidImportRow(row: row.number, v.errors)
            }
            data.appendRow([auth.userID, weight, unit, day, row.note])
        }
        guard data.rowCount > 0 else { return 0 }
        do {
            return try await database.withConnection { connection in
                try await connection.copyIn(
                    "COPY weight_entries (user_id, weight, unit, recorded_on, note) FROM STDIN", data: data)
            }
        } catch PostgresError.Code.foreignKeyViolation {
            throw ServiceError.unauthenticated
        }
    }
}
