import Foundation
import Postgres

/// One change of the feed: an entry as it now is, or the deletion of one.
public enum Change: Sendable, Equatable {
    case upsert(Entry)
    case delete(id: UUID, deletedAt: Date)
}

/// A page of the feed as asked for.
public struct ChangeRequest: Sendable {
    public var cursor: String?
    public var limit: Int
    /// Query parameters that could not be decoded.
    public var problems: [FieldError]

    public init(cursor: String? = nil, limit: Int = ChangeFeed.defaultPageSize, problems: [FieldError] = []) {
        self.cursor = cursor
        self.limit = limit
        self.problems = problems
    }
}

/// A page of the feed: the changes after the cursor in change order, the cursor to continue from (never nil: with
/// nothing new it is the one given), and whether more changes are already there.
public struct ChangePage: Sendable {
    public let changes: [Change]
    public let nextCursor: String
    public let hasMore: Bool
}

/// The change feed of a user's entries: every entry created, changed or deleted after a cursor, each once in its
/// latest state, in the order of the user's change counter (`ChangeCounter`), which never lets a cursor pass over a
/// change that commits later.
public final class ChangeFeed: Sendable {
    /// Changes per page.
    public static let pageSizes = 1...1000
    public static let defaultPageSize = 500
    /// How long deletions are kept for the feed at least; the maintenance job purges older ones.
    public static let tombstoneRetention: Duration = .seconds(30 * 86_400)

    let database: Database
    let cursorKey: [UInt8]

    init(database: Database, cursorKey: [UInt8]) {
        self.database = database
        self.cursorKey = cursorKey
    }

    /// The changes after `request.cursor` (from the start without one), in one statement served by two index range
    /// scans (live entries, tombstones) merged in change order. A cursor not issued for this user throws a
    /// validation error on `cursor`; one from before the newest purged deletion throws `cursorExpired`.
    public func changes(_ auth: Authentication, _ request: ChangeRequest) async throws -> ChangePage {
        var v = Validator(request.problems)
        var after = FeedCursor.start
        if let text = request.cursor {
            if let cursor = FeedCursor(decoding: text, key: cursorKey, user: auth.userID) {
                after = cursor
            } else {
                v.fail("cursor", "is not a cursor this server issued for this user's change feed")
            }
        }
        if !Self.pageSizes.contains(request.limit), !v.hasFailed("limit") {
            v.fail("limit", "must be a whole number from \(Self.pageSizes.lowerBound) to \(Self.pageSizes.upperBound)")
        }
        try v.check()
        let user = auth.userID
        let position: SQL = "(\(after.changeSeq), \(after.id))"
        let limit = request.limit + 1
        let rows = try await database.read(
            SQL("""
                WITH changed AS (
                    (SELECT \(Entry.columns), NULL::timestamptz AS deleted_at FROM weight_entries
                     WHERE user_id = \(user) AND (change_seq, id) > \(position)
                     ORDER BY change_seq, id LIMIT \(limit))
                    UNION ALL
                    (SELECT entry_id AS id, \(Entry.nullColumns), change_seq, deleted_at FROM entry_tombstones
                     WHERE user_id = \(user) AND (change_seq, entry_id) > \(position)
                     ORDER BY change_seq, entry_id LIMIT \(limit))
                    ORDER BY change_seq, id LIMIT \(limit))
                SELECT changed.*, users.feed_horizon FROM users LEFT JOIN changed ON true
                WHERE users.id = \(user)
                ORDER BY changed.change_seq, changed.id
                """, name: "changes.page"), for: auth)
        guard let first = rows.first else { throw ServiceError.unauthenticated }
        if request.cursor != nil, after.changeSeq < (try first.decode(Int64.self, column: "feed_horizon")) {
            throw ServiceError.cursorExpired
        }
        // One row without a change when there is none (the user's row, for the horizon); one more than the page
        // when more changes follow.
        var changes: [Change] = []
        var last = after
        for row in rows.prefix(request.limit) {
            guard let id = try row.decode(UUID?.self, column: "id") else { break }
            if let deletedAt = try row.decode(Date?.self, column: "deleted_at") {
                changes.append(.delete(id: id, deletedAt: deletedAt))
            } else {
                changes.append(.upsert(try Entry(row: row)))
            }
            last = FeedCursor(changeSeq: try row.decode(column: "change_seq"), id: id)
        }
        return ChangePage(
            changes: changes, nextCursor: last.encoded(key: cursorKey, user: user), hasMore: rows.count > request.limit)
    }
}
