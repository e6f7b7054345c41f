import Foundation
import Postgres

/// The email → account table `user_emails` (sql/0009): the one place an account is found by email, and the key that
/// keeps an email to one account.
///
/// Every statement here is keyed by the email (routed to the email's shard when sharded, docs/SCALING.md), and the
/// writes run in the caller's transaction beside the change to `users`, so the two tables never disagree.
struct UserEmails: Sendable {
    let database: Database

    /// The account that has `email` (normalized, as `AccountRules.normalizedEmail` makes it), or nil.
    func userID(of email: String) async throws -> UUID? {
        let rows = try await database.query(
            SQL("SELECT user_id FROM user_emails WHERE email = \(email)", name: "user_emails.find"))
        return try rows.first?.decode(UUID.self, column: "user_id")
    }

    /// Gives `email` to `userID` in `transaction`; a unique violation (`PostgresError`) when another account has it.
    func claim(_ email: String, for userID: UUID, in transaction: Transaction) async throws {
        try await transaction.query(
            SQL("INSERT INTO user_emails (email, user_id) VALUES (\(email), \(userID))", name: "user_emails.insert"))
    }

    /// Takes `email` away from `userID` in `transaction` (an email change or an account deletion).
    func release(_ email: String, of userID: UUID, in transaction: Transaction) async throws {
        try await transaction.query(
            SQL("DELETE FROM user_emails WHERE email = \(email) AND user_id = \(userID)", name: "user_emails.delete"))
    }

    /// Deletes the account `userID` and its email in one transaction; every other row of it goes through
    /// `ON DELETE CASCADE`. Returns false when there was no such account.
    func deleteAccount(_ userID: UUID) async throws -> Bool {
        try await database.withTransaction { transaction in
            let rows = try await transaction.query(
                SQL("DELETE FROM users WHERE id = \(userID) RETURNING lower(email) AS email", name: "users.delete"))
            guard let row = rows.first else { return false }
            try await release(try row.decode(String.self, column: "email"), of: userID, in: transaction)
            return true
        }
    }
}
