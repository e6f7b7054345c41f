import HTTPTypes
import Hummingbird
import WeighinService

extension Problem {
    /// The one place where every error becomes an HTTP answer: domain errors, database errors, the router's own
    /// 404, and anything unexpected (500, with nothing internal in the body).
    ///
    /// - Parameter allowedMethods: for a router 404, the methods of a route at the same path (then it is a 405).
    static func from(_ error: any Error, allowedMethods: () -> [HTTPRequest.Method]) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let error as ServiceError:
            return from(error)
        case is CancellationError:
            // The server is stopping (drain time over) and cut this request's wait short.
            return .unavailable(retryAfter: 1, detail: "The server is restarting; try again shortly.")
        case let error as HTTPError where error.status == .notFound:
            let allowed = allowedMethods()
            return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
        case let error as HTTPError where error.status == .contentTooLarge:
            return .payloadTooLarge(limit: Limits.jsonBody)
        default:
            return .internalError
        }
    }

    static func from(_ error: ServiceError) -> Problem {
        switch error {
        case .validation(let errors):
            return .validation(errors)
        case .invalidImportRow(let row, let errors):
            var problem = Problem.validation(errors, detail: "Row \(row) breaks the rules below; nothing was stored.")
            problem.row = row
            return problem
        case .tooManyRows(let limit):
            return Problem(
                status: .unprocessableContent, code: .tooManyRows,
                detail: "An import may hold at most \(limit) rows; nothing was stored.")
        case .emailTaken:
            return Problem(status: .conflict, code: .emailTaken, detail: "Another account uses this email.")
        case .invalidCredentials:
            return Problem(status: .unauthorized, code: .invalidCredentials, detail: "The email or password is wrong.")
        case .wrongPassword:
            return Problem(status: .forbidden, code: .invalidCredentials, detail: "The current password is wrong.")
        case .unauthenticated:
            return .unauthorized
        case .insufficientScope(let requirement):
            let detail = switch requirement {
            case .read, .write: "This token's scope is read: it may only read (GET and HEAD)."
            case .logIn: "This call needs a log-in token; personal access tokens may not make it."
            }
            return Problem(
                status: .forbidden, code: .insufficientScope, detail: detail,
                headers: [.wwwAuthenticate: #"Bearer error="insufficient_scope""#])
        case .tooManyTokens(let limit):
            return Problem(
                status: .conflict, code: .limitReached,
                detail: "A user may have at most \(limit) live tokens, log-in tokens included; revoke one first.")
        case .notFound:
            return .notFound
        case .tooManyAttempts(let retryAfter):
            return Problem(
                status: .tooManyRequests, code: .tooManyAttempts,
                detail: "Too many failed password attempts; try again after Retry-After seconds.",
                headers: [.retryAfter: String(retryAfter)])
        case .idempotencyKeyReused:
            return Problem(
                status: .unprocessableContent, code: .idempotencyKeyReused,
                detail: "This Idempotency-Key was used with another body.",
                errors: [FieldError("Idempotency-Key", "was used before with another body")])
        case .idempotencyKeyInUse:
            return Problem(
                status: .conflict, code: .idempotencyKeyInUse,
                detail: "A request with this Idempotency-Key is still being processed; retry shortly.",
                headers: [.retryAfter: "1"])
        case .preconditionFailed:
            return Problem(
                status: .preconditionFailed, code: .preconditionFailed,
                detail: "If-Match names no tag of the stored entry; nothing changed.")
        case .versionConflict(let current, let display):
            var problem = Problem(
                status: .conflict, code: .versionConflict,
                detail: "The stored entry has a higher client_version, or the same with other content; nothing changed.")
            problem.current = (current, display)
            return problem
        case .limitReached(let what, let limit):
            return Problem(
                status: .conflict, code: .limitReached, detail: "At most \(limit) \(what) per user; delete one first.")
        case .cursorExpired:
            return Problem(
                status: .gone, code: .cursorExpired,
                detail: "This cursor is older than the deletions the feed keeps; start over without a cursor.")
        case .unavailable(let retryAfter, let reason, _):
            return .unavailable(retryAfter: retryAfter, detail: reason)
        }
    }
}
