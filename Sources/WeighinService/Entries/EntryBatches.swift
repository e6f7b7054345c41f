import Foundation
import Postgres

/// A user's entries, oldest first (`recorded_on`, `created_at`, `id`), fetched a batch at a time by keyset.
public struct EntryBatches: AsyncSequence, Sendable {
    public typealias Element = [Entry]
    /// Rows per statement.
    static let batchSize = 1000

    let database: Database
    let userID: UUID

    public struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        let database: Database
        let userID: UUID
        var after: ListingCursor?
        var finished = false

        public mutating func next() async throws -> [Entry]? {
            guard !finished else { return nil }
            var keyset: SQL = ""
            if let after {
                keyset = "AND (recorded_on, created_at, id) > (\(after.recordedOn), \(after.createdAt), \(after.id))"
            }
            let rows = try await database.query(
                SQL("""
                    SELECT \(Entry.columns) FROM weight_entries WHERE user_id = \(userID) \(keyset)
                    ORDER BY recorded_on, created_at, id LIMIT \(EntryBatches.batchSize)
                    """, name: after == nil ? "entries.export" : "entries.export_after"))
            let batch = try rows.map(Entry.init(row:))
            finished = batch.count < EntryBatches.batchSize
            guard let last = batch.last else { return nil }
            after = ListingCursor(recordedOn: last.recordedOn, createdAt: last.createdAt, id: last.id)
            return batch
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(database: database, userID: userID)
    }
}
