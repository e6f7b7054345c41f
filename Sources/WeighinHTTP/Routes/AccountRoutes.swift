import Hummingbird
import WeighinService

/// Accounts and tokens: `/v1/users`, `/v1/tokens`, `/v1/me`.
struct AccountRoutes {
    let services: WeighinServices
    let metrics: AppMetrics

    var routes: [Route] {
        [
            Route(.post, "/v1/users", authenticated: false, register),
            Route(.post, "/v1/tokens", authenticated: false, logIn),
            Route(.delete, "/v1/tokens/current", authenticated: true, logOut),
            Route(.get, "/v1/me", authenticated: true, profile),
            Route(.patch, "/v1/me", authenticated: true, updateProfile),
            Route(.put, "/v1/me/password", authenticated: true, changePassword),
            Route(.delete, "/v1/me", authenticated: true, deleteAccount),
        ]
    }

    @Sendable func register(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        var body = try BodyReader(
            try await RequestBodyReader.json(request), allowed: ["email", "name", "password", "weight_unit"])
        var registration = Registration(
            email: body.string("email", required: true), name: body.string("name", required: true),
            password: body.string("password", required: true), weightUnit: body.weightUnit("weight_unit"))
        registration.problems = body.errors
        let user = try await services.accounts.register(registration)
        return JSONResponse.make(.created) { $0.user(user) }
    }

    @Sendable func logIn(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        var body = try BodyReader(try await RequestBodyReader.json(request), allowed: ["email", "password"])
        let email = body.string("email", required: true)
        let password = body.string("password", required: true)
        try body.finish()
        do {
            let issued = try await services.accounts.logIn(email: email!, password: password!)
            return JSONResponse.make(.created) { $0.token(issued) }
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
