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
        let email = body.string("email", required: true)
        let name = body.string("name", required: true)
        let password = body.string("password", required: true)
        let unit = body.string("weight_unit")
        try body.finish()
        let user = try await services.accounts.register(
            Registration(email: email!, name: name!, password: password!, weightUnit: unit))
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
        let change = ProfileChange(name: body.string("name"), email: body.string("email"), weightUnit: body.string("weight_unit"))
        try body.finish()
        let user = try await services.accounts.updateProfile(try context.caller(), change)
        return JSONResponse.make { $0.user(user) }
    }

    @Sendable func changePassword(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        var body = try BodyReader(
            try await RequestBodyReader.json(request), allowed: ["current_password", "new_password"])
        let current = body.string("current_password", required: true)
        let new = body.string("new_password", required: true)
        try body.finish()
        try await services.accounts.changePassword(try context.caller(), current: current!, new: new!)
        return JSONResponse.noContent()
    }

    @Sendable func deleteAccount(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await services.accounts.deleteAccount(try context.caller())
        return JSONResponse.noContent()
    }
}
