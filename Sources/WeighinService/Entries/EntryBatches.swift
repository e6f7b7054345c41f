import Foundation
import Postgres

/// A user's entries, oldest first (the listing's order reversed), fetched a batch at a time by keyset.
public struct EntryBatches: AsyncSequence, Sendable {
    public typealias Element = [Entry]
    /// Rows per statement.
    static let batchSize = 1000

    let database: Database
    let auth: Authentication

    public struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        let database: Database
        let auth: Authentication
        var after: ListingCursor?
        var finished = false

        public mutating func next() async throws -> [Entry]? {
            guard !finished else { return nil }
            let keyset: SQL = after.map { "AND \(EntryOrder.key) > \(EntryOrder.position($0))" } ?? ""
            let rows = try await database.read(
                SQL("""
                    SELECT \(Entry.columns) FROM weight_entries WHERE user_id = \(auth.userID) \(keyset)
                    ORDER BY \(EntryOrder.ascending) LIMIT \(EntryBatches.batchSize)
                    """, name: after == nil ? "entries.export" : "entries.export_after"), for: auth)
            let batch = try rows.map(Entry.init(row:))
            finished = batch.count < EntryBatches.batchSize
            guard let last = batch.last else { return nil }
            after = last.position
            return batch
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(database: database, auth: auth)
    }
}
