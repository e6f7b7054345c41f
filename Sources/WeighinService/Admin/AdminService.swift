import Foundation
import Postgres

/// An account as the operator sees it: the user and the size of their data.
public struct AccountSummary: Sendable {
    public let user: User
    public let entries: Int
    public let activeTokens: Int
}

/// Operator tasks by email, for `weighin users` and `weighin tokens`.
///
/// These find an account by email through `user_emails`, as log-in does, and then work on it by id (see
/// docs/SCALING.md); only the listing reads every account.
public final class AdminService: Sendable {
    let database: Database
    let tokens: TokenService
    let emails: UserEmails

    init(database: Database, tokens: TokenService) {
        self.database = database
        self.tokens = tokens
        emails = UserEmails(database: database)
    }

    /// Accounts ordered by email, `limit` at a time, after the email `after` (keyset paging).
    public func listAccounts(after: String?, limit: Int) async throws -> [AccountSummary] {
        let rows = try await database.query(
            SQL("""
                SELECT \(User.columns),
                       (SELECT count(*) FROM weight_entries e WHERE e.user_id = u.id) AS entries,
                       (SELECT count(*) FROM auth_tokens t WHERE t.user_id = u.id AND t.expires_at > now()) AS tokens
                FROM users u WHERE lower(u.email) > lower(\(after ?? "")) ORDER BY lower(u.email) LIMIT \(limit)
                """, name: "admin.users.list"))
        return try rows.map(Self.summary)
    }

    /// The account with this email (trimmed, any case), or nil.
    public func account(email: String) async throws -> AccountSummary? {
        guard let userID = try await emails.userID(of: AccountRules.normalizedEmail(email)) else { return nil }
        let rows = try await database.query(
            SQL("""
                SELECT \(User.columns),
                       (SELECT count(*) FROM weight_entries e WHERE e.user_id = u.id) AS entries,
                       (SELECT count(*) FROM auth_tokens t WHERE t.user_id = u.id AND t.expires_at > now()) AS tokens
                FROM users u WHERE u.id = \(userID)
                """, name: "admin.users.get"))
        return try rows.first.map(Self.summary)
    }

    /// Deletes the account, its email and, through the database's cascades, all its data; every instance forgets
    /// its tokens. Returns false when no account has this email.
    public func deleteAccount(email: String) async throws -> Bool {
        guard let userID = try await emails.userID(of: AccountRules.normalizedEmail(email)),
            try await emails.deleteAccount(userID)
        else { return false }
        try await tokens.announceChange(of: userID)
        return true
    }

    /// Revokes every token of the account; returns how many, or nil when no account has this email.
    public func revokeTokens(email: String) async throws -> Int? {
        guard let account = try await account(email: email) else { return nil }
        let rows = try await database.query(
            SQL("""
                WITH revoked AS (DELETE FROM auth_tokens WHERE user_id = \(account.user.id) RETURNING 1)
                SELECT count(*) AS n FROM revoked
                """, name: "admin.tokens.revoke"))
        try await tokens.announceChange(of: account.user.id)
        return try rows[0].decode(Int.self, column: "n")
    }

    private static func summary(_ row: PostgresRow) throws -> AccountSummary {
        AccountSummary(
            user: try User(row: row), entries: try row.decode(column: "entries"),
            activeTokens: try row.decode(column: "tokens"))
    }
}
