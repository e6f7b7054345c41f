import Hummingbird
import WeighinService

/// Accounts and tokens: `/v1/users`, `/v1/tokens`, `/v1/me`.
struct AccountRoutes {
    let services: WeighinServices
    let metrics: AppMetrics

    static let routes: [Route] = [
        Route(
            .post, "/v1/users", authenticated: false, carriesPersonalData: true, id: "createUser", summary: "Register a user", tag: .accounts,
            description: """
                Creates an account. The email is trimmed and stored lower-cased; the name is stored trimmed; \
                `weight_unit` defaults to `\(AccountRules.defaultWeightUnit.rawValue)`. Unknown members answer 422 \
                naming them.
                """,
            body: .json(.userCreate), answers: [.json("The new user.", .user, status: 201), .problem(.emailTaken)]
        ) { $0.accounts.register },
        Route(
            .post, "/v1/tokens", authenticated: false, carriesPersonalData: true, id: "createToken", summary: "Log in", tag: .accounts,
            description: """
                Exchanges email and password for an opaque bearer token (the database keeps only its hash), valid for \
                a fixed lifetime (\(OpenAPI.spoken(ServiceConfiguration().tokenLifetime)) by default). The email is \
                matched trimmed and case-insensitively; a wrong password and an unknown email give the same 401. \
                After \(AccountService.failureLimit) failed log-ins for one email (trimmed, lower-cased, whether or \
                not an account has it) within \(OpenAPI.spoken(AccountService.failureWindow)), log-in for that email \
                answers 429 with `Retry-After`, even with the right password, until the window has passed; a success \
                does not reset the count and 429 answers are not counted.
                """,
            body: .json(.credentials),
            answers: [
                .json("A new token.", .token, status: 201), .problem(.invalidCredentials), .problem(.tooManyAttempts),
            ]
        ) { $0.accounts.logIn },
        Route(
            .delete, "/v1/tokens/current", authenticated: true, access: .logIn, id: "deleteCurrentToken", summary: "Log out",
            tag: .accounts,
            description: """
                Revokes the log-in token that authenticates this request; it answers 401 from then on. Personal \
                tokens are revoked with `DELETE /v1/me/tokens/{id}`.
                """,
            answers: [.noContent]
        ) { $0.accounts.logOut },
        Route(
            .get, "/v1/me", authenticated: true, id: "getMe", summary: "Get the current user", tag: .accounts,
            description: "The user the token belongs to.", answers: [.json("The user.", .user)]
        ) { $0.accounts.profile },
        Route(
            .patch, "/v1/me", authenticated: true, id: "updateMe", summary: "Update the current user", tag: .accounts,
            description: """
                Changes the given members of `{name, email, weight_unit}`. Changing your email to itself in another \
                case is allowed; changing `weight_unit` never changes any stored entry. Changing the email needs a \
                log-in token (a personal token answers 403 `insufficient_scope`).
                """,
            body: .json(.userUpdate), answers: [.json("The updated user.", .user), .problem(.emailTaken)]
        ) { $0.accounts.updateProfile },
        Route(
            .put, "/v1/me/password", authenticated: true, access: .logIn, id: "changePassword", summary: "Change the password",
            tag: .accounts,
            description: """
                Checks `current_password` (a wrong one answers 403 and is not counted as a failed log-in), sets \
                `new_password` and revokes every other token of the user; the token that made the change keeps \
                working. Passwords verify only in full (not just their first 72 bytes). After \
                \(AccountService.failureLimit) wrong current passwords of the user within \
                \(OpenAPI.spoken(AccountService.failureWindow)), it answers 429 `too_many_attempts` with \
                `Retry-After` until the window has passed (counted apart from log-ins, on every instance).
                """,
            body: .json(.passwordChange),
            answers: [.noContent, .problem(.wrongCurrentPassword), .problem(.tooManyAttempts)]
        ) { $0.accounts.changePassword },
        Route(
            .delete, "/v1/me", authenticated: true, access: .logIn, id: "deleteMe", summary: "Delete the current user", tag: .accounts,
            description: """
                Deletes the user, all their entries and all their tokens (through `ON DELETE CASCADE`); the email can \
                register again afterwards.
                """,
            answers: [.noContent]
        ) { $0.accounts.deleteAccount },
    ]

    @Sendable func register(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        var body = try BodyReader(
            try await RequestBodyReader.json(request), allowed: ["email", "name", "password", "weight_unit"])
        var registration = Registration(
            email: body.string("email", required: true), name: body.string("name", required: true),
            password: body.string("password", required: true), weightUnit: body.weightUnit("weight_unit"))
        registration.problems = body.errors
        let user = try await services.accounts.register(registration)
        return await ReadYourWrites.confirm(
            JSONResponse.make(.created) { $0.user(user) }, writeOf: user.id, database: services.database)
    }

    @Sendable func logIn(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        var body = try BodyReader(try await RequestBodyReader.json(request), allowed: ["email", "password"])
        let email = body.string("email", required: true)
        let password = body.string("password", required: true)
        try body.finish()
        do {
            let issued = try await services.accounts.logIn(email: email!, password: password!)
            return await ReadYourWrites.confirm(
                JSONResponse.make(.created) { $0.token(issued) }, writeOf: issued.user.id, database: services.database)
        } catch ServiceError.invalidCredentials {
            metrics.recordLoginFailure(reason: "invalid_credentials")
            throw ServiceError.invalidCredentials
        } catch let error as ServiceError {
            if case .tooManyAttempts = error { metrics.recordLoginFailure(reason: "too_many_attempts") }
            throw error
        }
    }

    @Sendable func logOut(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await services.accounts.logOut(try context.caller())
        return JSONResponse.noContent()
    }

    @Sendable func profile(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let user = try await services.accounts.profile(try context.caller())
        return JSONResponse.make { $0.user(user) }
    }

    @Sendable func updateProfile(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        var body = try BodyReader(try await RequestBodyReader.json(request), allowed: ["name", "email", "weight_unit"])
        var change = ProfileChange(
            name: body.string("name"), email: body.string("email"), weightUnit: body.weightUnit("weight_unit"))
        change.problems = body.errors
        let user = try await services.accounts.updateProfile(try context.caller(), change)
        return JSONResponse.make { $0.user(user) }
    }

    @Sendable func changePassword(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        var body = try BodyReader(
            try await RequestBodyReader.json(request), allowed: ["current_password", "new_password"])
        var change = PasswordChange(
            current: body.string("current_password", required: true), new: body.string("new_password", required: true))
        change.problems = body.errors
        try await services.accounts.changePassword(try context.caller(), change)
        return JSONResponse.noContent()
    }

    @Sendable func deleteAccount(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await services.accounts.deleteAccount(try context.caller())
        return JSONResponse.noContent()
    }
}
