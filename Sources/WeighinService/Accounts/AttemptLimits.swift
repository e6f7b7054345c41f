import Foundation
import Postgres
import Primitives

/// One password attempt, recorded as a failure before the password is checked.
struct RecordedAttempt: Sendable {
    enum Kind: Sendable {
        case logIn(email: String)
        case passwordChange(userID: UUID)
    }

    let kind: Kind
    let id: UUID
    /// The account's bcrypt hash to check against; nil when no account has the email (or the user is gone).
    let passwordHash: String?
    /// The account, for log-ins.
    let user: User?
}

/// Counts failed password attempts per email (log-in) and per user (password change) across every instance.
///
/// An attempt is recorded before its password is checked, under a transaction-scoped advisory lock on its email or
/// user, and forgiven after a success: concurrent guesses are serialized on the count, so at most `limit` of them
/// get a check within `window` however many arrive at once (checking first and recording after a failure let
/// every concurrent guess see a count below the limit).
struct AttemptLimits: Sendable {
    let database: Database
    let limit: Int
    let window: Duration

    /// Records a log-in attempt for `email` and reads its account; throws `tooManyAttempts` (recording nothing)
    /// at the limit.
    ///
    /// Two statements, each by one key: the count, the record and the account's id by the email (`failed_logins`
    /// and `user_emails`, both keyed by email), then the account by its id. The second is sent whether or not the
    /// email has an account, so an unknown email costs the same round trips as a known one.
    func recordLogIn(email: String) async throws -> RecordedAttempt {
        let row = try await record(
            lock: "login:" + email,
            SQL("""
                WITH recent AS (
                    SELECT attempted_at FROM failed_logins
                    WHERE email = \(email) AND attempted_at > now() - make_interval(secs => \(window.wholeSeconds))
                    ORDER BY attempted_at DESC LIMIT \(limit)),
                counted AS (
                    SELECT count(*) AS failures,
                           ceil(extract(epoch FROM min(attempted_at) + make_interval(secs => \(window.wholeSeconds))
                                - clock_timestamp()))::int AS retry_after
                    FROM recent),
                recorded AS (
                    INSERT INTO failed_logins (email) SELECT \(email) FROM counted WHERE failures < \(limit)
                    RETURNING attempt_id)
                SELECT counted.failures, counted.retry_after, (SELECT attempt_id FROM recorded) AS attempt_id,
                       e.user_id
                FROM counted LEFT JOIN user_emails e ON e.email = \(email)
                """, name: "failed_logins.record"))
        let userID = try row.decode(UUID?.self, column: "user_id")
        let account = try await database.query(
            SQL("SELECT \(User.columns), password_hash FROM users WHERE id = \(userID)", name: "users.get_for_log_in"))
            .first
        return RecordedAttempt(
            kind: .logIn(email: email), id: try row.decode(column: "attempt_id"),
            passwordHash: try account?.decode(column: "password_hash"), user: try account.map(User.init(row:)))
    }

    /// Records a password-change attempt of `userID` and reads the user's hash; throws `tooManyAttempts` at the
    /// limit.
    func recordPasswordChange(userID: UUID) async throws -> RecordedAttempt {
        do {
            let row = try await record(
                lock: "password:" + userID.lowercasedString,
                SQL("""
                    WITH recent AS (
                        SELECT attempted_at FROM failed_password_changes
                        WHERE user_id = \(userID)
                          AND attempted_at > now() - make_interval(secs => \(window.wholeSeconds))
                        ORDER BY attempted_at DESC LIMIT \(limit)),
                    counted AS (
                        SELECT count(*) AS failures,
                               ceil(extract(epoch FROM min(attempted_at) + make_interval(secs => \(window.wholeSeconds))
                                    - clock_timestamp()))::int AS retry_after
                        FROM recent),
                    recorded AS (
                        INSERT INTO failed_password_changes (user_id) SELECT \(userID) FROM counted
                        WHERE failures < \(limit)
                        RETURNING attempt_id)
                    SELECT counted.failures, counted.retry_after, (SELECT attempt_id FROM recorded) AS attempt_id,
                           u.password_hash
                    FROM counted LEFT JOIN users u ON u.id = \(userID)
                    """, name: "failed_password_changes.record"))
            return RecordedAttempt(
                kind: .passwordChange(userID: userID), id: try row.decode(column: "attempt_id"),
                passwordHash: try row.decode(column: "password_hash"), user: nil)
        } catch PostgresError.Code.foreignKeyViolation {
            throw ServiceError.unauthenticated  // the account was deleted meanwhile
        }
    }

    /// Forgets a recorded attempt: its password was right, or it was never checked.
    func forgive(_ attempt: RecordedAttempt, in transaction: Transaction? = nil) async throws {
        let sql: SQL = switch attempt.kind {
        case .logIn(let email):
            SQL("DELETE FROM failed_logins WHERE email = \(email) AND attempt_id = \(attempt.id)",
                name: "failed_logins.forgive")
        case .passwordChange(let userID):
            SQL("DELETE FROM failed_password_changes WHERE user_id = \(userID) AND attempt_id = \(attempt.id)",
                name: "failed_password_changes.forgive")
        }
        if let transaction { try await transaction.query(sql) } else { try await database.query(sql) }
    }

    /// Runs the counting statement under the advisory lock of `lock`; throws `tooManyAttempts` when nothing was
    /// recorded.
    private func record(lock: String, _ statement: SQL) async throws -> PostgresRow {
        let row = try await database.withTransaction { transaction in
            // Held until the transaction ends; the statement after it takes its snapshot once the lock is had, so
            // it counts every attempt committed by those that held the lock before.
            try await transaction.query(
                SQL("SELECT pg_advisory_xact_lock(hashtextextended(\(lock), 0))", name: "attempts.lock"))
            return try await transaction.query(statement)[0]
        }
        guard !row.isNull(column: "attempt_id") else {
            let wait = try row.decode(Int?.self, column: "retry_after") ?? 1
            throw ServiceError.tooManyAttempts(retryAfter: max(1, wait))
        }
        return row
    }
}
