import WeighinService
import WireFormats

extension OpenAPI {
    /// The error answers operations document (component responses), each with a complete schema of its own.
    ///
    /// Each schema states its status as a constant and its codes as an enum, rather than narrowing the shared
    /// `Problem` with `allOf`, which client generators cannot merge (openapi-python-client dropped every error
    /// answer); answers that differ only in their description share a schema.
    enum ProblemResponse: String, CaseIterable, Sendable {
        case badRequest = "BadRequest"
        case importBadRequest = "ImportBadRequest"
        case unauthorized = "Unauthorized"
        case invalidCredentials = "InvalidCredentials"
        case wrongCurrentPassword = "WrongCurrentPassword"
        case insufficientScope = "InsufficientScope"
        case notFound = "NotFound"
        case tokenNotFound = "TokenNotFound"
        case noGoal = "NoGoal"
        case emailTaken = "EmailTaken"
        case idempotencyKeyInUse = "IdempotencyKeyInUse"
        case versionConflict = "VersionConflict"
        case limitReached = "LimitReached"
        case webhookNotFound = "WebhookNotFound"
        case cursorExpired = "CursorExpired"
        case preconditionFailed = "PreconditionFailed"
        case payloadTooLarge = "PayloadTooLarge"
        case importPayloadTooLarge = "ImportPayloadTooLarge"
        case unsupportedMediaType = "UnsupportedMediaType"
        case importUnsupportedMediaType = "ImportUnsupportedMediaType"
        case validationFailed = "ValidationFailed"
        case entryValidationFailed = "EntryValidationFailed"
        case importValidationFailed = "ImportValidationFailed"
        case tooManyAttempts = "TooManyAttempts"
        case importBusy = "ImportBusy"
        case rateLimited = "RateLimited"
        case unavailable = "Unavailable"
        case internalError = "InternalError"

        /// The HTTP status and the codes this answer may carry.
        var kind: (status: Int, codes: [ProblemCode]) {
            switch self {
            case .badRequest: (400, [.malformedJSON])
            case .importBadRequest: (400, [.malformedJSON, .malformedCSV])
            case .unauthorized: (401, [.unauthorized])
            case .invalidCredentials: (401, [.invalidCredentials])
            case .wrongCurrentPassword: (403, [.invalidCredentials, .insufficientScope])
            case .insufficientScope: (403, [.insufficientScope])
            case .notFound, .noGoal, .tokenNotFound: (404, [.notFound])
            case .emailTaken: (409, [.emailTaken])
            case .idempotencyKeyInUse: (409, [.idempotencyKeyInUse])
            case .versionConflict: (409, [.versionConflict])
            case .limitReached: (409, [.limitReached])
            case .webhookNotFound: (404, [.notFound])
            case .cursorExpired: (410, [.cursorExpired])
            case .preconditionFailed: (412, [.preconditionFailed])
            case .payloadTooLarge, .importPayloadTooLarge: (413, [.payloadTooLarge])
            case .unsupportedMediaType, .importUnsupportedMediaType: (415, [.unsupportedMediaType])
            case .validationFailed: (422, [.validationFailed])
            case .entryValidationFailed: (422, [.validationFailed, .idempotencyKeyReused])
            case .importValidationFailed: (422, [.validationFailed, .tooManyRows])
            case .tooManyAttempts: (429, [.tooManyAttempts, .rateLimited])
            case .importBusy, .rateLimited: (429, [.rateLimited])
            case .unavailable: (503, [.unavailable])
            case .internalError: (500, [.internalError])
            }
        }

        var description: String {
            switch self {
            case .badRequest:
                "The body is not valid JSON (`NaN`/`Infinity` literals included)."
            case .importBadRequest:
                "The body is not valid JSON (`malformed_json`) or not CSV (`malformed_csv`)."
            case .unauthorized:
                "Missing, malformed, expired or revoked token. Checked before anything else (body, size, query)."
            case .invalidCredentials:
                "Wrong password or unknown email (the same answer for both)."
            case .wrongCurrentPassword:
                """
                `current_password` is wrong (`invalid_credentials`), or the token is a personal access token \
                (`insufficient_scope`: changing the password needs a log-in token).
                """
            case .insufficientScope:
                """
                The token may not make this call, decided before the body is read: a `read` token calling anything \
                but `GET`/`HEAD`, or a personal access token managing tokens, changing the password or the email, or \
                deleting the account (those need a log-in token). `WWW-Authenticate: Bearer \
                error="insufficient_scope"`.
                """
            case .tokenNotFound:
                "The user has no live token with this id (or the id is not a canonical UUID)."
            case .limitReached:
                """
                The user has \(TokenRules.liveLimit) live tokens (log-in tokens included): revoke one first.
                """
            case .notFound:
                """
                No such entry: it does not exist, its id is not a canonical hyphenated UUID, or it belongs to another \
                user (indistinguishable).
                """
            case .noGoal:
                "The user has no goal."
            case .versionConflict:
                """
                `client_version` is lower than the stored one, or equal with another body: nothing changed; the \
                stored entry is in `current` (in the display unit of the request).
                """
            case .limitReached:
                "The user has \(WebhookService.limit) webhooks already: delete one first."
            case .webhookNotFound:
                "No such webhook: it does not exist, its id is not a canonical UUID, or it is another user's."
            case .cursorExpired:
                """
                The cursor is older than the deletions the feed keeps (\(OpenAPI.spoken(ChangeFeed.tombstoneRetention))): \
                start over without a cursor.
                """
            case .preconditionFailed:
                "`If-Match` names no tag of the stored entry (or the entry does not exist): nothing changed."
            case .emailTaken:
                "Another account has this email (compared case-insensitively)."
            case .idempotencyKeyInUse:
                "A request with the same `Idempotency-Key` is still in flight."
            case .payloadTooLarge:
                "The body is over \(Limits.text(Limits.jsonBody))."
            case .importPayloadTooLarge:
                "The body is over \(Limits.text(Limits.importBody))."
            case .unsupportedMediaType:
                """
                The body has another or no Content-Type (`application/json` expected; parameters such as \
                `charset=utf-8` are allowed).
                """
            case .importUnsupportedMediaType:
                "The body is neither `text/csv` nor `application/json`."
            case .validationFailed:
                """
                JSON that breaks a rule, an unknown body member, or an invalid query parameter; `errors[].field` names \
                each culprit.
                """
            case .entryValidationFailed:
                """
                `validation_failed` (body, query or `Idempotency-Key` invalid; `errors[].field` names it), or \
                `idempotency_key_reused` (the key was used in the last \
                \(OpenAPI.spoken(IdempotentReplay.keyLifetime)) with a different body).
                """
            case .importValidationFailed:
                """
                Nothing was stored. `validation_failed` with top-level `row` (1-based data row; the CSV header is row \
                0) and `errors[].field` naming the column, or for an invalid `unit` query parameter; `too_many_rows` \
                over \(OpenAPI.grouped(ImportBatch.limit)) rows.
                """
            case .tooManyAttempts:
                """
                \(AccountService.failureLimit) failed attempts within \(OpenAPI.spoken(AccountService.failureWindow)) \
                (log-in: for this email; password change: wrong current passwords of this user): refused, even with \
                the right password, until the window has passed (`too_many_attempts`); or this client is over its \
                request budget (`rate_limited`, see `RateLimited`).
                """
            case .importBusy:
                """
                An import of this account is still running, or this instance runs as many imports as it allows \
                (`--max-imports`, \(ServeSettings.defaultMaxImports) by default, or the pool size if smaller): \
                refused before the body is read; send it again after `Retry-After` seconds.
                """
            case .rateLimited:
                """
                This client (its bearer token, or its address without one) is over its request budget on this \
                instance (\(ServeSettings().rateLimit) requests per second with bursts of \(ServeSettings().rateBurst) \
                by default; `--rate-limit`, `--rate-burst`): refused before anything else of the request is read; \
                send it again after `Retry-After` seconds.
                """
            case .unavailable:
                """
                No database connection could be had in time (\(OpenAPI.spoken(ServeSettings().poolTimeout)) by \
                default), or the database is not ready.
                """
            case .internalError:
                "Unexpected failure; nothing internal in the body."
            }
        }

        /// The headers this answer carries besides `X-Request-ID`.
        var headers: [Header] {
            switch self {
            case .unauthorized, .insufficientScope: [.wwwAuthenticate]
            case .idempotencyKeyInUse, .tooManyAttempts, .importBusy, .unavailable: [.retryAfter]
            case .rateLimited: [.retryAfter, .rateLimitPolicy, .rateLimit]
            default: []
            }
        }

        /// The answer whose schema this one uses: answers that differ only in their description share one.
        private var schemaOwner: ProblemResponse {
            switch self {
            case .importPayloadTooLarge: .payloadTooLarge
            case .noGoal, .webhookNotFound, .tokenNotFound: .notFound
            case .importUnsupportedMediaType: .unsupportedMediaType
            default: self
            }
        }

        /// The name of this answer's body schema: `NotFoundProblem`.
        var schemaName: String {
            schemaOwner.rawValue + "Problem"
        }

        /// A reference to this answer.
        var ref: JSONValue {
            OpenAPI.ref("responses", rawValue)
        }

        /// Every problem answer, by name.
        static var responseComponents: JSONObject {
            JSONObject(allCases.map { problem in
                (
                    key: problem.rawValue,
                    value: [
                        "description": .string(problem.description),
                        "headers": Header.object(problem.headers),
                        "content": [
                            "application/problem+json": ["schema": OpenAPI.ref("schemas", problem.schemaName)],
                        ],
                    ]
                )
            })
        }

        /// The body schema of every problem answer, by name.
        static var schemaComponents: JSONObject {
            JSONObject(allCases.filter { $0.schemaOwner == $0 }.map { problem in
                let (status, codes) = problem.kind
                return (
                    key: problem.schemaName,
                    value: schema(
                        status: ["type": "integer", "const": .integer(status)], codes: codes,
                        fieldErrors: status == 422, row: problem == .importValidationFailed,
                        current: problem == .versionConflict)
                )
            })
        }

        /// A problem body schema (`Problem.response(requestID:)` writes them): `status` and `code` as given, with
        /// `errors` (422 field failures) and `row` (import) when the answer can carry them.
        static func schema(
            status: JSONValue, codes: [ProblemCode], fieldErrors: Bool, row: Bool, current: Bool = false,
            description: String? = nil
        ) -> JSONValue {
            let names = codes.map { JSONValue.string($0.rawValue) }
            let code: JSONValue =
                names.count == 1 ? ["type": "string", "const": names[0]] : ["type": "string", "enum": .array(names)]
            var properties: JSONObject = [
                "type": ["type": "string", "format": "uri-reference", "minLength": 1],
                "title": ["type": "string", "minLength": 1],
                "status": status,
                "detail": ["type": "string", "minLength": 1],
                "code": code,
            ]
            if fieldErrors {
                properties.members.append((
                    key: "errors",
                    value: [
                        "type": "array", "items": Schema.fieldError.ref,
                        "description": "Present for 422 field failures.",
                    ]
                ))
            }
            if row {
                properties.members.append((
                    key: "row",
                    value: [
                        "type": "integer", "minimum": 0,
                        "description": "Import only: the failing 1-based data row (the CSV header is row 0).",
                    ]
                ))
            }
            if current {
                properties.members.append((key: "current", value: Schema.entry.ref))
            }
            properties.members.append((
                key: "request_id", value: ["type": "string", "description": "Same value as the `X-Request-ID` header."]
            ))
            return Schema.object(
                properties,
                required: ["type", "title", "status", "detail", "code"] + (current ? ["current"] : []) + ["request_id"],
                closed: false,
                description: description)
        }
    }
}
