import Foundation
import Postgres

/// The user's change counter (`users.change_seq`), which orders the change feed; see
/// `sql/0006_change_feed_and_client_ids.sql` for why it never lets a reader pass over a later commit.
///
/// Every statement that changes entries takes its number through `next`, which locks the user's row before the
/// entry's; statements that must look before they write (a precondition, a client version) take `lockUser` first,
/// so every writer of one user locks in the same order (user, then entry) and none can deadlock another.
enum ChangeCounter {
    /// The user's next change number for this transaction, as a SQL expression (the first use in a transaction takes
    /// it, later uses return the same). NULL when the user's row is gone.
    static func next(_ user: UUID) -> SQL {
        "weighin_change_seq(\(user))"
    }

    /// Takes the user's next change number for this transaction as a statement of its own (no row when the account
    /// is gone): what `COPY` then gives every row it stores, through the column's default.
    static func take(_ user: UUID) -> SQL {
        SQL("SELECT weighin_change_seq(id) AS taken FROM users WHERE id = \(user)", name: "changes.take")
    }

    /// Locks the user's row as a change would, without taking a number: the writes that follow in the transaction
    /// then run alone among the user's writers. Throws `unauthenticated` when the account is gone.
    static func lockUser(_ user: UUID, in transaction: Transaction) async throws {
        let rows = try await transaction.query(
            SQL("SELECT 1 AS locked FROM users WHERE id = \(user) FOR NO KEY UPDATE", name: "changes.lock_user"))
        guard !rows.isEmpty else { throw ServiceError.unauthenticated }
    }
}
