import Foundation
import Postgres
import Primitives

/// Personal access tokens: made, listed and revoked by the user with a log-in token.
extension TokenService {
    /// Makes a personal token for the caller. Throws `validation`, or `tooManyTokens` when the user already has
    /// `TokenRules.liveLimit` live tokens (log-in tokens included).
    public func createPersonal(_ auth: Authentication, _ request: TokenRequest) async throws -> CreatedToken {
        try auth.require(.logIn)
        let (name, scope, days) = try TokenRules.check(request)
        let token = BearerToken(newFor: auth.userID)
        let row = try await database.withTransaction { transaction in
            try await lock(auth.userID, in: transaction)
            return try await transaction.query(
                SQL("""
                    INSERT INTO auth_tokens (user_id, token_hash, expires_at, name, scope)
                    SELECT \(auth.userID), \(token.hash), now() + make_interval(days => \(days)::int), \(name), \(scope)
                    WHERE (SELECT count(*) FROM auth_tokens WHERE user_id = \(auth.userID) AND expires_at > now())
                          < \(TokenRules.liveLimit)
                    RETURNING \(TokenSummary.columns)
                    """, name: "tokens.create_personal")).first
        }
        guard let row else { throw ServiceError.tooManyTokens(limit: TokenRules.liveLimit) }
        return CreatedToken(summary: try TokenSummary(row: row), token: token.text)
    }

    /// Every live token of the caller, log-in tokens included, oldest first; never a secret.
    public func list(_ auth: Authentication) async throws -> [TokenSummary] {
        try auth.require(.logIn)
        let rows = try await database.query(
            SQL("""
                SELECT \(TokenSummary.columns) FROM auth_tokens
                WHERE user_id = \(auth.userID) AND expires_at > now()
                ORDER BY created_at, id
                """, name: "tokens.list"))
        return try rows.map(TokenSummary.init(row:))
    }

    /// Revokes the caller's live token `id` (personal or log-in) on every instance. Throws `notFound` when the user
    /// has no such live token.
    public func revoke(_ auth: Authentication, id: UUID) async throws {
        try auth.require(.logIn)
        let rows = try await database.query(
            SQL("""
                DELETE FROM auth_tokens WHERE user_id = \(auth.userID) AND id = \(id) AND expires_at > now()
                RETURNING id
                """, name: "tokens.revoke_by_id"))
        guard !rows.isEmpty else { throw ServiceError.notFound }
        try await announceChange(of: auth.userID)
    }
}
