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
    let limits: AttemptLimits
    let emails: UserEmails

    init(database: Database, hasher: PasswordHasher, tokens: TokenService) {
        self.database = database
        self.hasher = hasher
        self.tokens = tokens
        limits = AttemptLimits(database: database, limit: Self.failureLimit, window: Self.failureWindow)
        emails = UserEmails(database: database)
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
            // Two rows, one transaction: the account, and its email in user_emails, whose key refuses a taken email.
            return try await database.withTransaction { transaction in
                let rows = try await transaction.query(
                    SQL("""
                        INSERT INTO users (email, name, password_hash, weight_unit)
                        VALUES (\(email), \(name), \(hash), \(unit))
                        RETURNING \(User.columns)
                        """, name: "users.insert"))
                let user = try User(row: rows[0])
                try await emails.claim(user.email, for: user.id, in: transaction)
                return user
            }
        } catch PostgresError.Code.uniqueViolation {
            throw ServiceError.emailTaken
        }
    }

    /// Logs in by email (trimmed, any case) and password, and issues a token.
    ///
    /// Wrong password and unknown email fail alike and take the same time. After `failureLimit` failures for an
    /// email within `failureWindow`, even the right password is refused until the window has passed; refused
    /// attempts are not counted and a success does not reset the count. Each attempt is recorded as a failure
    /// before the password is checked and forgiven after a success, so concurrent guesses all count; the token is
    /// issued only if the password is still the one checked (a password change in between wins).
    public func logIn(email rawEmail: String, password: String) async throws -> IssuedToken {
        if hasher.isSaturated {
            throw ServiceError.unavailable(retryAfter: 1, reason: PasswordHasher.saturated)
        }
        let email = AccountRules.normalizedEmail(rawEmail)
        guard email.unicodeScalars.count <= AccountRules.emailLength else {
            // No account can have it, and it is never a key in SQL (an overlong email breaks the index's row
            // limit); it costs the same hash as any other failure.
            _ = try await hasher.verify(password, against: nil)
            throw ServiceError.invalidCredentials
        }
        let attempt = try await limits.recordLogIn(email: email)
        let verified: Bool
        do {
            verified = try await hasher.verify(password, against: attempt.passwordHash)
        } catch {
            try? await limits.forgive(attempt)  // never checked: not a failure
            throw error
        }
        guard verified, let user = attempt.user, let hash = attempt.passwordHash else {
            throw ServiceError.invalidCredentials
        }
        let issued = try await tokens.issue(for: user, verifiedHash: hash)
        try await limits.forgive(attempt)
        return issued
    }

    /// Revokes the log-in token that made the request (personal tokens are revoked with `TokenService.revoke(_:id:)`).
    public func logOut(_ auth: Authentication) async throws {
        try auth.require(.logIn)
        try await tokens.revoke(auth)
    }

    /// The account of the token's owner.
    public func profile(_ auth: Authentication) async throws -> User {
        let rows = try await database.query(
            SQL("SELECT \(User.columns) FROM users WHERE id = \(auth.userID)", name: "users.get"))
        guard let row = rows.first else { throw ServiceError.unauthenticated }
        return try User(row: row)
    }

    /// Changes name, email or display unit; stored entries never change. Throws `validation` or `emailTaken`, and
    /// `insufficientScope` when a personal token changes the email (that needs a log-in token).
    public func updateProfile(_ auth: Authentication, _ change: ProfileChange) async throws -> User {
        if change.email != nil { try auth.require(.logIn) }
        var v = Validator(change.problems)
        let email = change.email.map { AccountRules.email($0, &v) }
        let name = change.name.map { AccountRules.name($0, &v) }
        let unit = change.weightUnit
        try v.check()
        let update = SQL("""
            UPDATE users SET email = coalesce(\(email), email), name = coalesce(\(name), name),
                             weight_unit = coalesce(\(unit), weight_unit), updated_at = now()
            WHERE id = \(auth.userID)
            RETURNING \(User.columns)
            """, name: "users.update")
        let user: User
        do {
            if let email {
                user = try await database.withTransaction { transaction in
                    try await changeEmail(of: auth.userID, to: email, update, in: transaction)
                }
            } else {
                guard let row = try await database.query(update).first else { throw ServiceError.unauthenticated }
                user = try User(row: row)
            }
        } catch PostgresError.Code.uniqueViolation {
            throw ServiceError.emailTaken
        }
        // Cached tokens carry the display unit: every instance forgets them.
        try await tokens.announceChange(of: auth.userID)
        return user
    }

    /// Runs `update` (which sets the email to `email`) in `transaction`, moving the account's row of user_emails
    /// when the email changes: the old one is released, the new one claimed (a unique violation when taken).
    private func changeEmail(of userID: UUID, to email: String, _ update: SQL, in transaction: Transaction)
        async throws -> User
    {
        // The account row stays locked until commit, so the email released is the one being replaced (lower-cased as
        // sql/0009 filled the table: the service stores emails lower-cased already, rows written by hand may not be).
        let current = try await transaction.query(
            SQL("SELECT lower(email) AS email FROM users WHERE id = \(userID) FOR NO KEY UPDATE",
                name: "users.lock_email"))
        guard let old = try current.first?.decode(String.self, column: "email") else {
            throw ServiceError.unauthenticated
        }
        if old != email {
            try await emails.release(old, of: userID, in: transaction)
            try await emails.claim(email, for: userID, in: transaction)
        }
        guard let row = try await transaction.query(update).first else { throw ServiceError.unauthenticated }
        return try User(row: row)
    }

    /// Changes the password and revokes every other token of the account; the token used keeps working.
    ///
    /// A wrong current password throws `wrongPassword` (not counted as a failed log-in); after `failureLimit` of
    /// them within `failureWindow` the user's changes answer `tooManyAttempts`, counted like log-ins (recorded
    /// before checking, forgiven after a success) but per user.
    public func changePassword(_ auth: Authentication, _ change: PasswordChange) async throws {
        try auth.require(.logIn)
        var v = Validator(change.problems)
        _ = v.require(change.current, "current_password")
        if let new = v.require(change.new, "new_password") { AccountRules.password(new, &v, field: "new_password") }
        try v.check()
        let (current, new) = (change.current!, change.new!)
        let attempt = try await limits.recordPasswordChange(userID: auth.userID)
        let verified: Bool
        do {
            verified = try await hasher.verify(current, against: attempt.passwordHash)
        } catch {
            try? await limits.forgive(attempt)
            throw error
        }
        guard attempt.passwordHash != nil else { throw ServiceError.unauthenticated }
        guard verified else { throw ServiceError.wrongPassword }
        let hash = try await hasher.hash(new)
        // Separate statements in one transaction: the UPDATE waits for any log-in still issuing a token with the
        // old password (it holds the user row locked until it commits), and the DELETE, with a snapshot taken after that wait,
        // sees the token it issued.
        try await database.withTransaction { transaction in
            let changed = try await transaction.query(
                SQL("UPDATE users SET password_hash = \(hash), updated_at = now() WHERE id = \(auth.userID) RETURNING id",
                    name: "users.change_password"))
            guard !changed.isEmpty else { throw ServiceError.unauthenticated }
            try await transaction.query(
                SQL("DELETE FROM auth_tokens WHERE user_id = \(auth.userID) AND token_hash <> \(auth.tokenHash)",
                    name: "tokens.revoke_others"))
            try await limits.forgive(attempt, in: transaction)
        }
        try await tokens.announceChange(of: auth.userID)
    }

    /// Deletes the account and its email; its entries, tokens and idempotency keys go with it through
    /// `ON DELETE CASCADE`.
    public func deleteAccount(_ auth: Authentication) async throws {
        try auth.require(.logIn)
        _ = try await emails.deleteAccount(auth.userID)
        try await tokens.announceChange(of: auth.userID)
    }
}
