import Foundation
import Postgres
import Primitives

/// A new account as decoded from a request: every field as received (the service trims, checks and normalizes),
/// nil when absent or undecodable.
public struct Registration: Sendable {
    public var email: String?
    public var name: String?
    public var password: String?
    public var weightUnit: WeightUnit?
    /// Fields that could not be decoded.
    public var problems: [FieldError]

    public init(
        email: String?, name: String?, password: String?, weightUnit: WeightUnit? = nil, problems: [FieldError] = []
    ) {
        self.email = email
        self.name = name
        self.password = password
        self.weightUnit = weightUnit
        self.problems = problems
    }
}

/// A change to one's own profile: nil fields stay as they are.
public struct ProfileChange: Sendable {
    public var name: String?
    public var email: String?
    public var weightUnit: WeightUnit?
    /// Fields that could not be decoded.
    public var problems: [FieldError]

    public init(name: String? = nil, email: String? = nil, weightUnit: WeightUnit? = nil, problems: [FieldError] = []) {
        self.name = name
        self.email = email
        self.weightUnit = weightUnit
        self.problems = problems
    }
}

/// A password change as decoded from a request.
public struct PasswordChange: Sendable {
    public var current: String?
    public var new: String?
    /// Fields that could not be decoded.
    public var problems: [FieldError]

    public init(current: String?, new: String?, problems: [FieldError] = []) {
        self.current = current
        self.new = new
        self.problems = problems
    }
}

/// Accounts: registration, log-in and log-out, profile, password and deletion.
public final class AccountService: Sendable {
    /// Failed log-ins allowed per email within `failureWindow` before log-in answers "too many attempts".
    public static let failureLimit = 10
    /// The sliding window over which failed log-ins count.
    public static let failureWindow: Duration = .seconds(15 * 60)

    let database: Database
    let hasher: PasswordHasher
    let tokens: TokenService

    init(database: Database, hasher: PasswordHasher, tokens: TokenService) {
        self.database = database
        self.hasher = hasher
        self.tokens = tokens
    }

    /// Creates an account. Throws `validation` or `emailTaken`.
    public func register(_ registration: Registration) async throws -> User {
        var v = Validator(registration.problems)
        let email = v.require(registration.email, "email").map { AccountRules.email($0, &v) }
        let name = v.require(registration.name, "name").map { AccountRules.name($0, &v) }
        let password = v.require(registration.password, "password")
        if let password { AccountRules.password(password, &v) }
        let unit = registration.weightUnit ?? AccountRules.defaultWeightUnit
        try v.check()
        let hash = try await hasher.hash(password!)
        do {
            let rows = try await database.query(
                SQL("""
                    INSERT INTO users (email, name, password_hash, weight_unit)
                    VALUES (\(email), \(name), \(hash), \(unit))
                    RETURNING \(User.columns)
                    """, name: "users.insert"))
            return try User(row: rows[0])
        } catch PostgresError.Code.uniqueViolation {
            throw ServiceError.emailTaken
        }
    }

    /// Logs in by email (trimmed, any case) and password, and issues a token.
    ///
    /// Wrong password and unknown email fail alike and take the same time. After `failureLimit` failures for an
    /// email within `failureWindow`, even the right password is refused until the window has passed; refused
    /// attempts are not counted and a success does not reset the count.
    public func logIn(email rawEmail: String, password: String) async throws -> IssuedToken {
        if hasher.isSaturated {
            throw ServiceError.unavailable(retryAfter: 1, reason: PasswordHasher.saturated)
        }
        let email = AccountRules.normalizedEmail(rawEmail)
        let windowSeconds = Self.failureWindow.wholeSeconds
        let rows = try await database.query(
            SQL("""
                WITH recent AS (
                    SELECT attempted_at FROM failed_logins
                    WHERE email = \(email) AND attempted_at > now() - make_interval(secs => \(windowSeconds))
                    ORDER BY attempted_at DESC LIMIT \(Self.failureLimit))
                SELECT (SELECT count(*) FROM recent) AS failures,
                       (SELECT ceil(extract(epoch FROM min(attempted_at) + make_interval(secs => \(windowSeconds))
                                             - clock_timestamp()))::int FROM recent) AS retry_after,
                       u.id, u.email, u.name, u.weight_unit, u.created_at, u.password_hash
                FROM (SELECT 1) AS one LEFT JOIN users u ON lower(u.email) = lower(\(email))
                """, name: "users.login"))
        let row = rows[0]
        if try row.decode(Int.self, column: "failures") >= Self.failureLimit {
            let wait = try row.decode(Int?.self, column: "retry_after") ?? 1
            throw ServiceError.tooManyAttempts(retryAfter: max(1, wait))
        }
        let hash = try row.decode(String?.self, column: "password_hash")
        guard try await hasher.verify(password, against: hash), !row.isNull(column: "id") else {
            try await database.query(SQL("INSERT INTO failed_logins (email) VALUES (\(email))", name: "failed_logins.insert"))
            throw ServiceError.invalidCredentials
        }
        return try await tokens.issue(for: try User(row: row))
    }

    /// Revokes the token that made the request.
    public func logOut(_ auth: Authentication) async throws {
        try await tokens.revoke(auth)
    }

    /// The account of the token's owner.
    public func profile(_ auth: Authentication) async throws -> User {
        let rows = try await database.query(
            SQL("SELECT \(User.columns) FROM users WHERE id = \(auth.userID)", name: "users.get"))
        guard let row = rows.first else { throw ServiceError.unauthenticated }
        return try User(row: row)
    }

    /// Changes name, email or display unit; stored entries never change. Throws `validation` or `emailTaken`.
    public func updateProfile(_ auth: Authentication, _ change: ProfileChange) async throws -> User {
        var v = Validator(change.problems)
        let email = change.email.map { AccountRules.email($0, &v) }
        let name = change.name.map { AccountRules.name($0, &v) }
        let unit = change.weightUnit
        try v.check()
        do {
            let rows = try await database.query(
                SQL("""
                    WITH changed AS (
                        UPDATE users SET email = coalesce(\(email), email), name = coalesce(\(name), name),
                                         weight_unit = coalesce(\(unit), weight_unit), updated_at = now()
                        WHERE id = \(auth.userID)
                        RETURNING \(User.columns))
                    SELECT \(User.columns), pg_notify(\(TokenService.channel), id::text) FROM changed
                    """, name: "users.update"))
            tokens.userChanged(auth.userID)
            guard let row = rows.first else { throw ServiceError.unauthenticated }
            return try User(row: row)
        } catch PostgresError.Code.uniqueViolation {
            throw ServiceError.emailTaken
        }
    }

    /// Changes the password and revokes every other token of the account; the token used keeps working.
    /// A wrong current password throws `wrongPassword` (not counted as a failed log-in).
    public func changePassword(_ auth: Authentication, _ change: PasswordChange) async throws {
        var v = Validator(change.problems)
        _ = v.require(change.current, "current_password")
        if let new = v.require(change.new, "new_password") { AccountRules.password(new, &v, field: "new_password") }
        try v.check()
        let (current, new) = (change.current!, change.new!)
        let rows = try await database.query(
            SQL("SELECT password_hash FROM users WHERE id = \(auth.userID)", name: "users.password_hash"))
        guard let row = rows.first else { throw ServiceError.unauthenticated }
        guard try await hasher.verify(current, against: try row.decode(String.self, column: "password_hash")) else {
            throw ServiceError.wrongPassword
        }
        let hash = try await hasher.hash(new)
        try await database.query(
            SQL("""
                WITH changed AS (
                    UPDATE users SET password_hash = \(hash), updated_at = now() WHERE id = \(auth.userID) RETURNING id),
                revoked AS (
                    DELETE FROM auth_tokens WHERE user_id = \(auth.userID) AND token_hash <> \(auth.tokenHash))
                SELECT pg_notify(\(TokenService.channel), id::text) FROM changed
                """, name: "users.change_password"))
        tokens.userChanged(auth.userID)
    }

    /// Deletes the account; its entries, tokens and idempotency keys go with it through `ON DELETE CASCADE`.
    public func deleteAccount(_ auth: Authentication) async throws {
        try await database.query(
            SQL("""
                WITH gone AS (DELETE FROM users WHERE id = \(auth.userID) RETURNING id)
                SELECT pg_notify(\(TokenService.channel), id::text) FROM gone
                """, name: "users.delete"))
        tokens.userChanged(auth.userID)
    }
}
