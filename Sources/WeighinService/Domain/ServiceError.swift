import Foundation

/// One invalid field of a request: the body member, query parameter or header at fault.
public struct FieldError: Sendable, Equatable {
    public let field: String
    public let message: String

    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }
}

/// What can go wrong in the service layer, in the domain's terms; the HTTP layer maps each case to a status in one
/// place.
public enum ServiceError: Error, Sendable, Equatable {
    /// The input breaks a rule; each field at fault is named.
    case validation([FieldError])
    /// An import row breaks a rule: `row` is the 1-based data row (0 is the CSV header).
    case invalidImportRow(row: Int, [FieldError])
    /// An import holds more rows than allowed.
    case tooManyRows(limit: Int)
    /// Another account has this email.
    case emailTaken
    /// Log-in with an unknown email or a wrong password (never saying which).
    case invalidCredentials
    /// The current password given to a password change is wrong.
    case wrongPassword
    /// The token is missing, malformed, unknown, expired or revoked.
    case unauthenticated
    /// The token may not make this call: a `read` token changing data, or a personal token doing what needs a
    /// log-in token (`requirement` says which).
    case insufficientScope(AccessRequirement)
    /// The user has as many live tokens as allowed (`limit`, log-in tokens included).
    case tooManyTokens(limit: Int)
    /// The thing does not exist or belongs to someone else (never saying which).
    case notFound
    /// Too many failed log-ins for this email: try again after `retryAfter` seconds.
    case tooManyAttempts(retryAfter: Int)
    /// This idempotency key was used before with another body.
    case idempotencyKeyReused
    /// The first request with this idempotency key is still being processed.
    case idempotencyKeyInUse
    /// A conditional write's precondition (`If-Match`) does not hold for the stored entry; nothing changed.
    case preconditionFailed
    /// A client version not above the stored one (or equal with other content); `current` is the stored entry, to be
    /// shown in `display`.
    case versionConflict(current: Entry, display: WeightUnit)
    /// The user already has as many of these (`what`: "webhooks", at most `limit`) as allowed.
    case limitReached(what: String, limit: Int)
    /// The change feed no longer holds everything since this cursor (deletions older than the retention were
    /// purged): the client starts over.
    case cursorExpired
    /// A dependency (the database, the hashing pool) is unavailable or saturated: try again after `retryAfter`
    /// seconds. `reason` is a sentence for the client; `sqlState` is the database's code when it was the database.
    case unavailable(retryAfter: Int, reason: String, sqlState: String? = nil)

    /// A validation failure of one field.
    public static func invalid(_ field: String, _ message: String) -> ServiceError {
        .validation([FieldError(field, message)])
    }
}
