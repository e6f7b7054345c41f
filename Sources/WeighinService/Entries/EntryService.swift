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
    /// `validation` error naming every failing field. A weight without a unit is in `display`; the day is
    /// `recorded_on`, or the local date of `measured_at` (both given: they must agree).
    public func validate(_ input: NewEntry, display: WeightUnit) throws(ServiceError) -> EntryDraft {
        var v = Validator(input.problems)
        let unit = input.unit ?? display
        if let weight = v.require(input.weight, "weight") { EntryRules.weight(weight, unit: unit, &v) }
        var day: CalendarDate?
        if input.recordedOn == nil, input.measuredAt == nil {
            // Neither: recorded_on is required, unless a measured_at was sent and could not be read.
            if !v.hasFailed("measured_at") { _ = v.require(CalendarDate?.none, "recorded_on") }
        } else {
            day = EntryRules.day(recordedOn: input.recordedOn, measuredAt: input.measuredAt, &v)
        }
        EntryRules.note(input.note, &v)
        let composition = EntryRules.composition(input.composition, &v)
        try v.check()
        return EntryDraft(
            weight: Weight(value: input.weight!, unit: unit), recordedOn: day!, measuredAt: input.measuredAt,
            note: input.note, composition: composition)
    }

    /// Stores a checked entry; inside `transaction` when given (an idempotent create runs in the transaction that
    /// claims its key).
    public func create(_ auth: Authentication, _ draft: EntryDraft, in transaction: Transaction? = nil) async throws
        -> Entry
    {
        let c = draft.composition
        let insert = SQL(
            """
            INSERT INTO weight_entries (user_id, weight, unit, recorded_on, note, measured_at, measured_offset,
                                        measured_zulu, body_fat_percent, water_percent, muscle_percent, visceral_fat,
                                        source, change_seq)
            VALUES (\(auth.userID), \(draft.weight.value), \(draft.weight.unit), \(draft.recordedOn), \(draft.note),
                    \(draft.measuredAt?.date), \(draft.measuredAt?.offsetMinutes), \(draft.measuredAt?.isZulu),
                    \(c.bodyFatPercent), \(c.waterPercent), \(c.musclePercent), \(c.visceralFat), \(c.source),
                    \(ChangeCounter.next(auth.userID)))
            RETURNING \(Entry.columns)
            """, name: "entries.insert")
        return try await Self.accountMustExist {
            let rows = if let transaction { try await transaction.query(insert) } else { try await database.query(insert) }
            return try Entry(row: rows[0])
        }
    }

    /// One entry of the user; another user's or a missing id throws `notFound`.
    public func get(_ auth: Authentication, id: UUID) async throws -> Entry {
        let rows = try await database.read(
            SQL("SELECT \(Entry.columns) FROM weight_entries WHERE id = \(id) AND user_id = \(auth.userID)",
                name: "entries.get"), for: auth)
        guard let row = rows.first else { throw ServiceError.notFound }
        return try Entry(row: row)
    }

    /// Deletes one entry of the user, leaving a tombstone in the change feed (the table's trigger writes it with the
    /// change number this statement takes); another user's or a missing id throws `notFound`. With a
    /// `precondition`, the stored entry must meet it (else `preconditionFailed`, and nothing changes), checked
    /// under the locks of the deletion.
    public func delete(_ auth: Authentication, id: UUID, precondition: EntryPrecondition? = nil) async throws {
        let delete = SQL(
            """
            DELETE FROM weight_entries
            WHERE id = \(id) AND user_id = \(auth.userID) AND \(ChangeCounter.next(auth.userID)) IS NOT NULL
            """, name: "entries.delete")
        guard let precondition else {
            let rows = try await database.query(delete)
            guard rows.affectedRows == 1 else { throw ServiceError.notFound }
            return
        }
        try await database.withTransaction { transaction in
            try await checkLocked(auth, id: id, precondition, in: transaction)
            try await transaction.query(delete)
        }
    }

    /// Locks the user (as every writer does first) and the entry, and throws `preconditionFailed` unless the stored
    /// entry meets `precondition`; a missing entry meets none.
    func checkLocked(_ auth: Authentication, id: UUID, _ precondition: EntryPrecondition, in transaction: Transaction)
        async throws
    {
        try await ChangeCounter.lockUser(auth.userID, in: transaction)
        let rows = try await transaction.query(
            SQL("SELECT \(Entry.columns) FROM weight_entries WHERE id = \(id) AND user_id = \(auth.userID) FOR UPDATE",
                name: "entries.get_for_update"))
        guard precondition.holds(for: try rows.first.map(Entry.init(row:))) else { throw ServiceError.preconditionFailed }
    }

    /// Runs a write that adds rows of the user: a missing user row (the account was deleted meanwhile) shows as a
    /// broken foreign key or as no change number, and means the caller is no longer authenticated.
    static func accountMustExist<T>(_ write: () async throws -> T) async throws -> T {
        do {
            return try await write()
        } catch let error as PostgresError
            where error.code == .foreignKeyViolation || error.code == .notNullViolation && error.column == "change_seq"
        {
            throw ServiceError.unauthenticated
        }
    }

    // MARK: - Many entries

    /// A page of entries in `range`, newest first (by `recorded_on`; within a day, those without `measured_at`
    /// first, then `measured_at` newest first; then `created_at`, then `id`), after `cursor`.
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
        let keyset: SQL = after.map { "AND \(EntryOrder.key) < \(EntryOrder.position($0))" } ?? ""
        let rows = try await database.read(
            SQL("""
                SELECT \(Entry.columns) FROM weight_entries
                WHERE user_id = \(auth.userID) AND recorded_on BETWEEN \(range.lowerBound) AND \(range.upperBound) \(keyset)
                ORDER BY \(EntryOrder.descending)
                LIMIT \(limit + 1)
                """, name: after == nil ? "entries.list" : "entries.list_after"), for: auth)
        var entries = try rows.map(Entry.init(row:))
        var next: String?
        if entries.count > limit {
            entries.removeLast()
            next = entries[entries.count - 1].position.encoded(key: cursorKey, user: auth.userID, range: range)
        }
        return EntryPage(entries: entries, nextCursor: next)
    }

    /// Every entry of the user, oldest first, in batches: one statement per batch and no connection held between
    /// them, so a slow reader holds nothing and memory stays constant whatever the history's length.
    public func export(_ auth: Authentication) -> EntryBatches {
        EntryBatches(database: database, auth: auth)
    }

    /// Stores the rows that `read` adds to an import's batch, all or none, as one change of the feed: one COPY,
    /// whose transaction takes one change number that every row gets as its column default. COPY stores rows many
    /// times faster than INSERTs.
    ///
    /// `read` runs through `thread` (the caller's threads for CPU-heavy work) while the COPY stores what it has
    /// added so far: the COPY starts with the first chunk of rows (so a body that fails early never takes a
    /// connection) and takes the rest as they come, instead of after the last row is read. A row that fails ends the
    /// COPY with an error, the transaction rolls back, and the row's error is the one thrown. Returns the rows stored.
    public func store(
        _ auth: Authentication, display: WeightUnit,
        reading read: @escaping @Sendable (inout ImportBatch) throws -> Void,
        on thread: @escaping @Sendable (@escaping @Sendable () throws -> Void) async throws -> Void
    ) async throws -> Int {
        let stream = CopyInStream()
        let batch = ImportBatch(userID: auth.userID, display: display, stream: stream) { (entry, display) throws(ServiceError) in
            try self.validate(entry, display: display)
        }
        async let readFailure: (any Error)? = Self.produce(batch, read, on: thread)
        let stored: Result<Int, any Error>
        if await stream.hasRows() {
            do {
                stored = .success(try await copy(stream, for: auth.userID))
            } catch {
                stored = .failure(error)
            }
        } else {
            stored = .success(0)
        }
        stream.close()
        let failure = await readFailure
        // A row that failed first ended the COPY: its error, not the COPY's. A COPY that failed first stopped the
        // reading: its error, not the reading's.
        if let failure, stream.failedByProducer { throw failure }
        let count = try stored.get()
        if let failure { throw failure }
        return count
    }

    /// Runs `read` on `batch` through `thread`, then hands the last rows over; on failure, ends the COPY with an
    /// error. Returns what failed, if anything.
    private static func produce(
        _ batch: ImportBatch, _ read: @escaping @Sendable (inout ImportBatch) throws -> Void,
        on thread: @escaping @Sendable (@escaping @Sendable () throws -> Void) async throws -> Void
    ) async -> (any Error)? {
        do {
            try await thread {
                var batch = batch
                try read(&batch)
                try batch.finish()
            }
            return nil
        } catch {
            batch.stream.fail(reason: "the import's rows were refused")
            return error
        }
    }

    /// The COPY of an import's rows, in a transaction that takes the change number they share.
    private func copy(_ stream: CopyInStream, for user: UUID) async throws -> Int {
        try await Self.accountMustExist {
            try await database.withTransaction { transaction in
                let taken = try await transaction.query(ChangeCounter.take(user))
                guard !taken.isEmpty else { throw ServiceError.unauthenticated }
                return try await transaction.copyIn(
                    """
                    COPY weight_entries (user_id, weight, unit, recorded_on, note, measured_at, measured_offset,
                                         measured_zulu, body_fat_percent, water_percent, muscle_percent, visceral_fat,
                                         source) FROM STDIN
                    """, stream: stream)
            }
        }
    }
}
