/// The stable, machine-readable `code` of a problem answer, with its `title` and `type`.
///
/// Every problem the server sends takes its code from here, and the OpenAPI document lists `allCases`, so no code is
/// written twice.
enum ProblemCode: String, CaseIterable, Sendable {
    case malformedJSON = "malformed_json"
    case malformedCSV = "malformed_csv"
    case unauthorized
    case invalidCredentials = "invalid_credentials"
    case insufficientScope = "insufficient_scope"
    case notFound = "not_found"
    case methodNotAllowed = "method_not_allowed"
    case emailTaken = "email_taken"
    case idempotencyKeyInUse = "idempotency_key_in_use"
    case versionConflict = "version_conflict"
    case limitReached = "limit_reached"
    case cursorExpired = "cursor_expired"
    case preconditionFailed = "precondition_failed"
    case payloadTooLarge = "payload_too_large"
    case unsupportedMediaType = "unsupported_media_type"
    case validationFailed = "validation_failed"
    case idempotencyKeyReused = "idempotency_key_reused"
    case tooManyRows = "too_many_rows"
    case tooManyAttempts = "too_many_attempts"
    case rateLimited = "rate_limited"
    case unavailable
    case internalError = "internal_error"

    /// The problem's `title`: a short summary that is the same for every answer with this code.
    var title: String {
        switch self {
        case .malformedJSON: "Malformed JSON"
        case .malformedCSV: "Malformed CSV"
        case .unauthorized: "Unauthorized"
        case .invalidCredentials: "Invalid credentials"
        case .insufficientScope: "Insufficient scope"
        case .notFound: "Not found"
        case .methodNotAllowed: "Method not allowed"
        case .emailTaken: "Email taken"
        case .idempotencyKeyInUse: "Idempotency key in use"
        case .versionConflict: "Version conflict"
        case .limitReached: "Limit reached"
        case .cursorExpired: "Cursor expired"
        case .preconditionFailed: "Precondition failed"
        case .payloadTooLarge: "Payload too large"
        case .unsupportedMediaType: "Unsupported media type"
        case .validationFailed: "Validation failed"
        case .idempotencyKeyReused: "Idempotency key reused"
        case .tooManyRows: "Too many rows"
        case .tooManyAttempts: "Too many attempts"
        case .rateLimited: "Rate limited"
        case .unavailable: "Service unavailable"
        case .internalError: "Internal error"
        }
    }

    /// The problem's `type`: a URI naming the code (`https://weighin.dev/problems/not-found`).
    var type: String {
        "https://weighin.dev/problems/" + rawValue.replacingOccurrences(of: "_", with: "-")
    }
}
